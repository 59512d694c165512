/** `ciphergate group remove NAME`: deletes the group (messages already stored for members stay theirs). */
import { EXIT_OK, println } from './command';
import { GROUP_ARG, groupCommand } from './group-common';
import { printable } from './user-common';

export const groupRemoveCommand = groupCommand({
  name: 'group remove',
  summary: 'Delete a messaging group',
  usage: 'NAME',
  args: GROUP_ARG,
  async act(target, _values, args, io) {
    await target.removeGroup(args[0]!);
    println(io.stdout, `Group '${printable(args[0]!)}' removed.`);
    return EXIT_OK;
  },
});
