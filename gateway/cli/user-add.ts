/**
 * `ciphergate user add NAME [--number +E164] [--display NAME] [--off-net] [--international]
 *   [--password-stdin]`
 *
 * The password comes from standard input with --password-stdin, or when standard input is not a
 * terminal and delivers data; otherwise a strong one is generated and printed once. A password is
 * never taken from the command line: argv is visible to every local user (ps, /proc).
 * A new user calls on-net only unless --off-net / --international grant more (user-permissions.ts).
 */
import { UsageError, println, EXIT_OK, type CliIo } from './command';
import { readSecretLine } from './stdin';
import { accountCommand, NAME_ARG, printable } from './user-common';
import { ADD_PERMISSION_HELP, callingScope, permissionsForAdd, SCOPE_HELP } from './user-permissions';

/** Without --password-stdin, how long a non-terminal stdin may take to show that it has data. */
const IMPLICIT_STDIN_WAIT_MS = 1000;

export const userAddCommand = accountCommand({
  name: 'user add',
  summary: 'Add a user (prints a generated password once, or reads one from stdin)',
  usage: 'NAME [--number +E164] [--display "Display Name"] [--off-net] [--international] [--password-stdin]',
  help: [
    'Command options:',
    '  --number +E164         The user\'s E.164 number, e.g. +34911234567',
    '  --display TEXT         Display name',
    ADD_PERMISSION_HELP,
    '  --password-stdin       Read the password from standard input (first line)',
    '',
    'Without --password-stdin a password is read from standard input when it is not a terminal and',
    'has data; otherwise one is generated and printed once. The password must meet the password',
    'policy (every broken rule is listed).',
    '',
    SCOPE_HELP,
  ].join('\n'),
  options: {
    number: { type: 'string' }, display: { type: 'string' }, 'password-stdin': { type: 'boolean' },
    'off-net': { type: 'boolean' }, international: { type: 'boolean' },
  },
  args: NAME_ARG,
  create: true,
  async act(target, values, args, io) {
    const name = args[0]!;
    const password = await passwordFrom(io, values['password-stdin'] === true);
    const permissions = permissionsForAdd(values);
    const added = await target.addUser(name, {
      ...(typeof values.number === 'string' && { number: values.number }),
      ...(typeof values.display === 'string' && { displayName: values.display }),
      ...(password !== undefined && { password }),
      ...permissions,
    });
    println(io.stdout, `User '${printable(added.user.name)}' added (state ${added.user.state}).`);
    if (permissions.mayCallOffNet === true) println(io.stdout, `Calls: ${callingScope(added.user)}.`);
    if (added.password !== undefined) {
      println(io.stdout, `Password (shown once): ${added.password}`);
    }
    return EXIT_OK;
  },
});

async function passwordFrom(io: CliIo, explicit: boolean): Promise<string | undefined> {
  const stdin = io.stdin;
  if (explicit) {
    if (stdin === undefined || stdin.isTTY === true) {
      throw new UsageError('user add: --password-stdin needs the password on standard input (a pipe or a file)');
    }
    const line = await readSecretLine(stdin);
    if (line === undefined || line === '') throw new UsageError('user add: --password-stdin: standard input was empty');
    return line;
  }
  if (stdin === undefined || stdin.isTTY === true) return undefined;
  const line = await readSecretLine(stdin, { firstByteMs: IMPLICIT_STDIN_WAIT_MS });
  return line === '' ? undefined : line;
}
