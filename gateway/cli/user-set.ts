/**
 * `ciphergate user set NAME [--number +E164|--no-number] [--display TEXT|--no-display]
 *   [--off-net on|off] [--international on|off]`
 *
 * Changes an existing account's number, display name and calling permissions (PATCH
 * /api/users/NAME on a running gateway). The dial plan reads the account on every call, so a
 * permission change applies from the next call; calls in progress keep their route.
 */
import { EXIT_OK, println, UsageError, type CliValues } from './command';
import { accountCommand, NAME_ARG, printable, table } from './user-common';
import { callingScope, internationalText, permissionsForSet, SCOPE_HELP, SET_PERMISSION_HELP } from './user-permissions';
import type { UserUpdate } from '../admin/users';

export const userSetCommand = accountCommand({
  name: 'user set',
  summary: 'Change a user\'s number, display name or calling permissions (off-net, international)',
  usage: 'NAME [--number +E164|--no-number] [--display TEXT|--no-display] [--off-net on|off] [--international on|off]',
  help: [
    'Command options:',
    '  --number +E164         Set the user\'s E.164 number, e.g. +34911234567',
    '  --no-number            Remove the number',
    '  --display TEXT         Set the display name',
    '  --no-display           Remove the display name',
    SET_PERMISSION_HELP,
    '',
    'At least one option is needed. Permission changes apply from the next call.',
    SCOPE_HELP,
  ].join('\n'),
  options: {
    number: { type: 'string' }, 'no-number': { type: 'boolean' },
    display: { type: 'string' }, 'no-display': { type: 'boolean' },
    'off-net': { type: 'string' }, international: { type: 'string' },
  },
  args: NAME_ARG,
  validate(values) {
    changeFrom(values);
  },
  async act(target, values, args, io) {
    const user = await target.updateUser(args[0]!, changeFrom(values));
    println(io.stdout, `User '${printable(user.name)}' updated.`);
    const rows = [
      ['number', user.number ?? '-'],
      ['display name', user.displayName ?? '-'],
      ['off-net calls', user.mayCallOffNet ? 'allowed' : 'not allowed'],
      ['international', internationalText(user)],
      ['calls', callingScope(user)],
    ];
    for (const line of table(['FIELD', 'VALUE'], rows).slice(1)) println(io.stdout, line);
    return EXIT_OK;
  },
});

/** The UserUpdate the options ask for; UsageError for a contradiction or nothing to do. */
function changeFrom(values: CliValues): UserUpdate {
  const number = either(values, 'number', 'no-number');
  const displayName = either(values, 'display', 'no-display');
  const change: UserUpdate = {
    ...(number !== undefined && { number }),
    ...(displayName !== undefined && { displayName }),
    ...permissionsForSet(values),
  };
  if (Object.keys(change).length === 0) {
    throw new UsageError('user set: nothing to change; give --number, --no-number, --display, --no-display, ' +
      '--off-net or --international');
  }
  return change;
}

/** `--x VALUE` sets, `--no-x` clears (null), both is a usage error. */
function either(values: CliValues, option: string, clear: string): string | null | undefined {
  const value = values[option];
  const cleared = values[clear] === true;
  if (typeof value === 'string' && cleared) throw new UsageError(`user set: --${option} and --${clear} contradict each other`);
  if (cleared) return null;
  return typeof value === 'string' ? value : undefined;
}
