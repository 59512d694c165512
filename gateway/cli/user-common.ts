/**
 * What the account commands (user-*.ts, registrations.ts) share: configuration, the target
 * (running gateway or files, admin-target.ts), error reporting that says what to do next, and
 * plain-text tables.
 */
import { ConfigError, type Config } from '../../config/load';
import { AdminClientError, CliEndpointError, HttpError } from '../admin/http';
import { escapeControl } from '../log/logger';
import { StoreError } from '../store';
import { NoDatabaseError, openAdminTarget, type AdminTarget } from './admin-target';
import { EXIT_FAILURE, EXIT_OK, println, UsageError, type CliArgument, type CliCommand, type CliIo, type CliOptions, type CliValues } from './command';
import { CONFIG_HELP, configFromArgs, configuredCommand, type ConfiguredCommandSpec } from './config-options';
import { StdinError } from './stdin';

export const NAME_ARG: readonly CliArgument[] = [{ name: 'NAME' }];

export const ACCOUNT_HELP = [
  CONFIG_HELP,
  '',
  'Works on a running gateway through its admin API (found via <dataDir>/run/cli-endpoint.json),',
  'so the change reaches live registrations at once; on a stopped gateway, on <dataDir> directly.',
  'Every action is recorded in <dataDir>/audit.log.',
  '',
  'Exit status: 0 done, 1 failed (the reason on stderr), 2 bad command line.',
].join('\n');

export interface AccountCommandSpec extends ConfiguredCommandSpec {
  /** The database may be created (user add on a fresh dataDir). */
  readonly create?: boolean;
  /** Checks the command line before anything is opened; throw UsageError. */
  validate?(values: CliValues, args: readonly string[]): void;
  /** Runs against the target; resolves to the exit code. `args[0]` is NAME where declared. */
  act(target: AdminTarget, values: CliValues, args: readonly string[], io: CliIo, config: Config): Promise<number>;
}

/** A CliCommand that loads the configuration, opens the target, acts, reports errors, closes. */
export function accountCommand(spec: AccountCommandSpec): CliCommand {
  const command: CliCommand = {
    ...configuredCommand(spec, ACCOUNT_HELP),
    async run(values: CliValues, io: CliIo, args: readonly string[]): Promise<number> {
      try {
        return await runAccountCommand(spec, values, io, args);
      } catch (err) {
        // Usage errors raised while acting (--password-stdin without input) show this command's usage.
        if (err instanceof UsageError && err.command === undefined) throw new UsageError(err.message, command);
        throw err;
      }
    },
  };
  return command;
}

async function runAccountCommand(spec: AccountCommandSpec, values: CliValues, io: CliIo, args: readonly string[]): Promise<number> {
  spec.validate?.(values, args);
  let config: Config;
  let target: AdminTarget;
  try {
    config = configFromArgs(values, io);
    target = await openAdminTarget(config, { create: spec.create === true });
  } catch (err) {
    return report(io, err, args[0]);
  }
  try {
    return await spec.act(target, values, args, io, config);
  } catch (err) {
    return report(io, err, args[0]);
  } finally {
    await target.close();
  }
}

/** Prints what went wrong and what to do; exit 1. Unexpected errors are rethrown (runCli prints them). */
export function report(io: CliIo, err: unknown, name: string | undefined): number {
  if (err instanceof HttpError) {
    if (err.status === 404 && name !== undefined) {
      println(io.stderr, `ciphergate: user '${printable(name)}' does not exist; list users with \`ciphergate user list\``);
    } else {
      println(io.stderr, `ciphergate: ${err.message}`);
      for (const v of err.details.violations ?? []) println(io.stderr, `  - it ${v}`);
    }
    return EXIT_FAILURE;
  }
  if (err instanceof ConfigError) {
    println(io.stderr, err.message);
    return EXIT_FAILURE;
  }
  if (err instanceof NoDatabaseError || err instanceof CliEndpointError ||
    err instanceof AdminClientError || err instanceof StoreError || err instanceof StdinError) {
    println(io.stderr, `ciphergate: ${err.message}`);
    return EXIT_FAILURE;
  }
  throw err;
}

/** Text for a terminal: control characters escaped (names and display names are user input). */
export function printable(text: string): string {
  return escapeControl(text);
}

/** Left-aligned columns; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [header, ...rows].map((r) => r.map(printable));
  const widths = header.map((_, i) => Math.max(...all.map((r) => Array.from(r[i] ?? '').length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - Array.from(cell).length))).join('  ').trimEnd());
}

export function printJson(io: CliIo, value: unknown): number {
  println(io.stdout, JSON.stringify(value, null, 2));
  return EXIT_OK;
}

/** The sentence a command adds when the running gateway applied a change to live state. */
export function liveNote(target: AdminTarget, name: string): string | undefined {
  return target.running
    ? `Applied by the running gateway: the registrations of '${printable(name)}' were dropped at once.`
    : undefined;
}

export const JSON_OPTION: CliOptions = { json: { type: 'boolean' } };
