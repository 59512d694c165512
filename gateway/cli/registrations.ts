/** `ciphergate registrations [--aor AOR] [--json]`: current registration bindings (RFC 3261 §10.3). */
import { EXIT_OK, println } from './command';
import { accountCommand, JSON_OPTION, printJson, table } from './user-common';

export const registrationsCommand = accountCommand({
  name: 'registrations',
  summary: 'List current registrations',
  usage: '[--aor AOR] [--json]',
  help: 'Command options:\n  --aor AOR              Only this address-of-record\n  --json                 Print JSON (GET /api/registrations)',
  options: { ...JSON_OPTION, aor: { type: 'string' } },
  async act(target, values, _args, io) {
    const list = await target.registrations(typeof values.aor === 'string' ? values.aor : undefined);
    if (values.json === true) return printJson(io, { registrations: list });
    if (list.length === 0) {
      println(io.stdout, 'No registrations.');
      return EXIT_OK;
    }
    const rows = list.map((r) => [r.aor, r.user, r.transport, r.source, r.expiresAt, r.contact]);
    for (const line of table(['AOR', 'USER', 'TRANSPORT', 'SOURCE', 'EXPIRES', 'CONTACT'], rows)) println(io.stdout, line);
    return EXIT_OK;
  },
});
