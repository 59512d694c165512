/** `ciphergate user show NAME [--json]`: one user's account, state and bindings (no secrets). */
import { EXIT_OK, println } from './command';
import { accountCommand, JSON_OPTION, NAME_ARG, printJson, table } from './user-common';
import { internationalText } from './user-permissions';

export const userShowCommand = accountCommand({
  name: 'user show',
  summary: 'Show a user (state, number, password and one-time password status, certificates)',
  usage: 'NAME [--json]',
  help: 'Command options:\n  --json                 Print JSON (the admin API\'s GET /api/users/NAME shape)',
  options: JSON_OPTION,
  args: NAME_ARG,
  async act(target, values, args, io) {
    const u = await target.showUser(args[0]!);
    if (values.json === true) return printJson(io, { user: u });
    const rows: string[][] = [
      ['name', u.name],
      ['number', u.number ?? '-'],
      ['display name', u.displayName ?? '-'],
      ['state', u.state],
      ['password set', u.hasPassword ? 'yes' : 'no'],
      ['one-time pw', u.otpPending ? `pending, expires ${u.otpExpiresAt ?? '?'}` : 'none'],
      ['off-net calls', u.mayCallOffNet ? 'allowed' : 'not allowed'],
      ['international', internationalText(u)],
      ['certificates', u.certificates.length === 0 ? 'none' : u.certificates.join(', ')],
      ['created', u.createdAt],
      ['updated', u.updatedAt],
    ];
    for (const line of table(['FIELD', 'VALUE'], rows).slice(1)) println(io.stdout, line);
    return EXIT_OK;
  },
});
