/**
 * `ciphergate user block NAME`: the user can no longer register or call. On a running gateway the
 * registrations are dropped and their connections closed at once.
 */
import { EXIT_OK, println } from './command';
import { accountCommand, liveNote, NAME_ARG, printable } from './user-common';

export const userBlockCommand = accountCommand({
  name: 'user block',
  summary: 'Block a user (drops live registrations at once on a running gateway)',
  usage: 'NAME',
  args: NAME_ARG,
  async act(target, _values, args, io) {
    const user = await target.block(args[0]!);
    println(io.stdout, `User '${printable(user.name)}' blocked. Undo with: ciphergate user unblock ${printable(user.name)}`);
    const note = liveNote(target, user.name);
    if (note !== undefined) println(io.stdout, note);
    return EXIT_OK;
  },
});
