/** `ciphergate group list [--json]`: every group with its members, ordered by name. */
import { EXIT_OK, println } from './command';
import { groupCommand } from './group-common';
import { JSON_OPTION, printJson, table } from './user-common';

export const groupListCommand = groupCommand({
  name: 'group list',
  summary: 'List messaging groups and their members',
  usage: '[--json]',
  help: 'Command options:\n  --json                 Print JSON (the admin API\'s GET /api/groups shape)',
  options: JSON_OPTION,
  async act(target, values, _args, io) {
    const groups = await target.listGroups();
    if (values.json === true) return printJson(io, { groups });
    if (groups.length === 0) {
      println(io.stdout, 'No groups. Create one with: ciphergate group add NAME');
      return EXIT_OK;
    }
    const rows = groups.map((g) => [g.name, g.confidential ? 'yes' : 'no', g.members.length === 0 ? '-' : g.members.join(', ')]);
    for (const line of table(['NAME', 'CONFIDENTIAL', 'MEMBERS'], rows)) println(io.stdout, line);
    return EXIT_OK;
  },
});
