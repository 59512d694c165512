/**
 * `ciphergate user destroy-keys NAME`: wipes the user's stored HA1s and one-time password (a lost or
 * compromised device). On a running gateway the registrations are dropped at once.
 */
import { EXIT_OK, println } from './command';
import { accountCommand, liveNote, NAME_ARG, printable } from './user-common';

export const userDestroyKeysCommand = accountCommand({
  name: 'user destroy-keys',
  summary: 'Wipe a user\'s stored credentials (password hashes, one-time password)',
  usage: 'NAME',
  args: NAME_ARG,
  async act(target, _values, args, io) {
    const user = await target.destroyKeys(args[0]!);
    const name = printable(user.name);
    println(io.stdout, `Credentials of '${name}' destroyed; the user cannot register until a reset: ciphergate user reset ${name}`);
    const note = liveNote(target, user.name);
    if (note !== undefined) println(io.stdout, note);
    return EXIT_OK;
  },
});
