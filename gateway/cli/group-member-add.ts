/** `ciphergate group member add NAME USER`: USER (an existing account) joins group NAME. */
import { EXIT_OK, println } from './command';
import { GROUP_USER_ARGS, groupCommand } from './group-common';
import { printable } from './user-common';

export const groupMemberAddCommand = groupCommand({
  name: 'group member add',
  summary: 'Add a user to a messaging group',
  usage: 'NAME USER',
  args: GROUP_USER_ARGS,
  async act(target, _values, args, io) {
    const g = await target.addMember(args[0]!, args[1]!);
    println(io.stdout, `'${printable(args[1]!)}' is a member of '${printable(g.name)}' (${g.members.length} members).`);
    return EXIT_OK;
  },
});
