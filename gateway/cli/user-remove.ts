/** `ciphergate user remove NAME`: deletes the account with its credentials, registrations and certificate bindings. */
import { EXIT_OK, println } from './command';
import { accountCommand, liveNote, NAME_ARG, printable } from './user-common';

export const userRemoveCommand = accountCommand({
  name: 'user remove',
  summary: 'Remove a user and everything attached to it',
  usage: 'NAME',
  args: NAME_ARG,
  async act(target, _values, args, io) {
    const name = args[0]!;
    await target.remove(name);
    println(io.stdout, `User '${printable(name)}' removed.`);
    const note = liveNote(target, name);
    if (note !== undefined) println(io.stdout, note);
    return EXIT_OK;
  },
});
