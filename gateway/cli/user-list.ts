/** `ciphergate user list [--json]`: every user, ordered by name. */
import { EXIT_OK, println } from './command';
import { accountCommand, JSON_OPTION, printJson, table } from './user-common';
import { callingScope, SCOPE_HELP } from './user-permissions';

export const userListCommand = accountCommand({
  name: 'user list',
  summary: 'List users',
  usage: '[--json]',
  help: `Command options:\n  --json                 Print JSON (the admin API's GET /api/users shape)\n\n${SCOPE_HELP}`,
  options: JSON_OPTION,
  async act(target, values, _args, io) {
    const users = await target.listUsers();
    if (values.json === true) return printJson(io, { users });
    if (users.length === 0) {
      println(io.stdout, 'No users. Add one with: ciphergate user add NAME');
      return EXIT_OK;
    }
    const rows = users.map((u) => [u.name, u.number ?? '-', u.state, callingScope(u), u.displayName ?? '']);
    for (const line of table(['NAME', 'NUMBER', 'STATE', 'CALLS', 'DISPLAY NAME'], rows)) println(io.stdout, line);
    return EXIT_OK;
  },
});
