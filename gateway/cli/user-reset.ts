/**
 * `ciphergate user reset NAME`: issues a one-time password (printed once, with its expiry). The old
 * password stops working at once; the user sets a new one with the OTP (POST /self/password).
 */
import { EXIT_OK, println } from './command';
import { accountCommand, NAME_ARG, printable } from './user-common';

export const userResetCommand = accountCommand({
  name: 'user reset',
  summary: 'Issue a one-time password with which the user sets a new password',
  usage: 'NAME',
  help: 'The lifetime is admin.otpTtlSec (default 24 h). The user redeems it at the admin API\'s\n' +
    'POST /self/password (see README "Administration").',
  args: NAME_ARG,
  async act(target, _values, args, io, config) {
    const issued = await target.reset(args[0]!);
    const name = printable(issued.user);
    println(io.stdout, `One-time password for '${name}' (shown once): ${issued.otp}`);
    println(io.stdout, `Expires: ${issued.expiresAt}`);
    const host = config.admin.host.includes(':') ? `[${config.admin.host}]` : config.admin.host;
    println(io.stdout, `Until then '${name}' cannot register; the new password is set with POST https://${host}:${config.admin.port}/self/password`);
    return EXIT_OK;
  },
});
