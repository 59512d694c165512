/** In-process CliIo for running `ciphergate` commands through runCli() with their output collected. */
import { PassThrough } from 'node:stream';
import type { CliIo } from '../../gateway/cli/command';

/** A CliIo whose stdout and stderr are kept in memory; out()/err() return what was written so far. */
export interface MemoryIo extends CliIo {
  out(): string;
  err(): string;
}

export interface MemoryIoOptions {
  /** Default process.cwd(). */
  readonly cwd?: string;
  /** Default {}: no inherited CIPHERGATE_* variables. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Absent: no stdin at all. Present: a stdin that is a terminal when tty is true and yields
   * input (then ends) when given, otherwise stays open and empty.
   */
  readonly stdin?: { readonly tty?: boolean; readonly input?: string };
}

export function memoryIo(options: MemoryIoOptions = {}): MemoryIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => { out += d.toString(); });
  stderr.on('data', (d: Buffer) => { err += d.toString(); });
  let stdin: CliIo['stdin'];
  if (options.stdin !== undefined) {
    const s = Object.assign(new PassThrough(), { isTTY: options.stdin.tty === true });
    if (options.stdin.input !== undefined) s.end(options.stdin.input);
    stdin = s;
  }
  return {
    stdout, stderr, env: options.env ?? {}, cwd: options.cwd ?? process.cwd(),
    ...(stdin === undefined ? {} : { stdin }),
    out: () => out, err: () => err,
  };
}
