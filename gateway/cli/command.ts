/**
 * What a CLI subcommand is. A new command is one file in gateway/cli/ exporting a `CliCommand`,
 * added to the list in gateway/cli/registry.ts. Argument parsing (node:util parseArgs, strict),
 * --help and exit-code conventions are handled once, in gateway/cli/run.ts.
 */
import type { ParseArgsConfig } from 'node:util';

/** Exit codes: 0 success, 1 the command failed (bad config, cannot start...), 2 usage error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export type CliOptions = NonNullable<ParseArgsConfig['options']>;
export type CliValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** The process surroundings a command may use; injected so commands run in-process in tests. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Standard input, for commands that read a secret from it (`user add --password-stdin`). */
  readonly stdin?: CliStdin;
}

/** process.stdin's shape as far as commands use it (isTTY is true on a terminal). */
export type CliStdin = NodeJS.ReadableStream & { readonly isTTY?: boolean; destroy?(): void };

/** A positional argument of a command, e.g. NAME in `user add NAME`. */
export interface CliArgument {
  readonly name: string;
  /** Default true. Optional arguments come after the required ones. */
  readonly required?: boolean;
}

export interface CliCommand {
  /** As typed on the command line; may be several words ("user add", "admin token rotate"). */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Arguments after the name, e.g. "[--config FILE] [--set key=value ...]". */
  readonly usage: string;
  /** Extra lines for `ciphergate <name> --help`. */
  readonly help?: string;
  /** parseArgs options (`help` is added by the runner). */
  readonly options: CliOptions;
  /** Positional arguments; none when absent (a stray argument is a usage error). */
  readonly args?: readonly CliArgument[];
  /** Runs the command with the positional arguments (checked against `args`); resolves to the exit code. */
  run(values: CliValues, io: CliIo, args: readonly string[]): Promise<number>;
}

/** A command line that cannot be understood; exit code 2 with the usage text. */
export class UsageError extends Error {
  constructor(message: string, readonly command?: CliCommand) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Writes one line. */
export function println(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(`${line}\n`);
}
