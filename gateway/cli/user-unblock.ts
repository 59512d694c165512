/** `ciphergate user unblock NAME`: back to active (or to password-change-required without a usable password). */
import { EXIT_OK, println } from './command';
import { accountCommand, NAME_ARG, printable } from './user-common';

export const userUnblockCommand = accountCommand({
  name: 'user unblock',
  summary: 'Unblock a user',
  usage: 'NAME',
  args: NAME_ARG,
  async act(target, _values, args, io) {
    const user = await target.unblock(args[0]!);
    println(io.stdout, `User '${printable(user.name)}' unblocked (state ${user.state}).`);
    if (user.state === 'password-change-required') {
      println(io.stdout, `The user has no usable password yet: issue one with: ciphergate user reset ${printable(user.name)}`);
    }
    return EXIT_OK;
  },
});
