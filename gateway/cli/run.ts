/**
 * Command-line dispatch: global flags, subcommand lookup, strict option parsing, help and exit
 * codes. Usage errors (unknown command or option, missing option value) exit 2 with the usage text.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findPackageRoot } from '../../config/load';
import {
  EXIT_FAILURE, EXIT_OK, EXIT_USAGE, println, UsageError, type CliCommand, type CliIo, type CliValues,
} from './command';

const PROGRAM = 'ciphergate';

export function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(findPackageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export function usage(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 3;
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Options:',
    `  -h, --help${' '.repeat(Math.max(1, width - 8))}Show this help (${PROGRAM} <command> --help for a command)`,
    `  -V, --version${' '.repeat(Math.max(1, width - 11))}Print the version`,
  ].join('\n');
}

function commandUsage(command: CliCommand): string {
  const lines = [`Usage: ${PROGRAM} ${command.name} ${command.usage}`.trimEnd(), '', command.summary];
  if (command.help) lines.push('', command.help);
  return lines.join('\n');
}

/** Runs the command line (argv without node and script) and resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo, commands: readonly CliCommand[]): Promise<number> {
  try {
    return await dispatch(argv, io, commands);
  } catch (err) {
    if (err instanceof UsageError) {
      println(io.stderr, `${PROGRAM}: ${err.message}`);
      println(io.stderr);
      println(io.stderr, err.command ? commandUsage(err.command) : usage(commands));
      return EXIT_USAGE;
    }
    const message = err instanceof Error ? err.message : String(err);
    println(io.stderr, `${PROGRAM}: ${message}`);
    return EXIT_FAILURE;
  }
}

async function dispatch(argv: readonly string[], io: CliIo, commands: readonly CliCommand[]): Promise<number> {
  const [first] = argv;
  if (first === undefined) throw new UsageError('no command given');
  if (first === '--help' || first === '-h' || first === 'help') {
    println(io.stdout, usage(commands));
    return EXIT_OK;
  }
  if (first === '--version' || first === '-V') {
    println(io.stdout, `${PROGRAM} ${version()}`);
    return EXIT_OK;
  }
  if (first.startsWith('-')) throw new UsageError(`unknown option '${first}'`);
  const { command, words } = findCommand(argv, commands);
  const declared = command.args ?? [];

  let values: CliValues;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv.slice(words),
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: declared.length > 0,
    }));
  } catch (err) {
    throw new UsageError(`${command.name}: ${describeParseError(err)}`, command);
  }
  if (values.help === true) {
    println(io.stdout, commandUsage(command));
    return EXIT_OK;
  }
  const required = declared.filter((a) => a.required !== false).length;
  if (positionals.length < required) {
    throw new UsageError(`${command.name}: missing ${declared[positionals.length]?.name ?? 'argument'}`, command);
  }
  if (positionals.length > declared.length) {
    throw new UsageError(`${command.name}: unexpected argument '${positionals[declared.length]}'`, command);
  }
  return command.run(values, io, positionals);
}

/**
 * The command whose (possibly multi-word) name is the longest prefix of argv. A known group word
 * without a subcommand ("ciphergate user") is a usage error listing the subcommands.
 */
function findCommand(argv: readonly string[], commands: readonly CliCommand[]): { command: CliCommand; words: number } {
  let best: { command: CliCommand; words: number } | undefined;
  for (const command of commands) {
    const words = command.name.split(' ');
    if (words.length > argv.length || best !== undefined && words.length <= best.words) continue;
    if (words.every((w, i) => argv[i] === w)) best = { command, words: words.length };
  }
  if (best !== undefined) return best;
  // The longest run of leading words that begins some command names ("admin token" → rotate).
  for (let k = Math.min(argv.length, MAX_COMMAND_WORDS); k >= 1; k--) {
    const words = argv.slice(0, k);
    if (words.some((w) => w.startsWith('-'))) continue;
    const prefix = words.join(' ');
    const group = commands.filter((c) => c.name.startsWith(`${prefix} `));
    if (group.length === 0) continue;
    const next = argv[k];
    const known = group.map((c) => c.name).join(', ');
    throw new UsageError(next === undefined || next.startsWith('-')
      ? `'${prefix}' needs a subcommand: ${known}`
      : `unknown command '${prefix} ${next}'; known: ${known}`);
  }
  throw new UsageError(`unknown command '${argv[0] ?? ''}'`);
}

/** Longest command name in words ("admin token rotate"); bounds the prefix search. */
const MAX_COMMAND_WORDS = 4;

/**
 * node:util parseArgs errors name the option ("Unknown option '--x'. To specify a positional...");
 * keep the first sentence, lower-cased first letter to read as "ciphergate start: unknown option".
 */
function describeParseError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const first = message.split('. ')[0];
  return first.charAt(0).toLowerCase() + first.slice(1);
}
