/** `ciphergate group member remove NAME USER`: USER leaves group NAME. */
import { EXIT_OK, println } from './command';
import { GROUP_USER_ARGS, groupCommand } from './group-common';
import { printable } from './user-common';

export const groupMemberRemoveCommand = groupCommand({
  name: 'group member remove',
  summary: 'Remove a user from a messaging group',
  usage: 'NAME USER',
  args: GROUP_USER_ARGS,
  async act(target, _values, args, io) {
    const g = await target.removeMember(args[0]!, args[1]!);
    println(io.stdout, `'${printable(args[1]!)}' left '${printable(g.name)}' (${g.members.length} members).`);
    return EXIT_OK;
  },
});
