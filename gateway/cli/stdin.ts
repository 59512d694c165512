/**
 * Reading a secret (a password) from standard input, bounded in size and time. Only the first
 * line counts; a trailing CR/LF is not part of it.
 */
import type { CliStdin } from './command';

export const MAX_SECRET_BYTES = 4096;

export class StdinError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StdinError';
  }
}

export interface ReadSecretOptions {
  /**
   * How long to wait for the first byte. `undefined` = wait until EOF (bounded by totalMs);
   * a number = give up quietly when nothing arrives in time (input that "may have data").
   */
  readonly firstByteMs?: number;
  /** Upper bound on the whole read (default 60 s). */
  readonly totalMs?: number;
}

/**
 * The first line of stdin, or undefined when stdin ended empty or sent nothing within
 * `firstByteMs`. Throws StdinError for input over MAX_SECRET_BYTES or a read that never ends.
 */
export function readSecretLine(stdin: CliStdin, options: ReadSecretOptions = {}): Promise<string | undefined> {
  const totalMs = options.totalMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: Error | undefined, value?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      if (first !== undefined) clearTimeout(first);
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      stdin.removeListener('error', onError);
      stdin.pause();
      const all = Buffer.concat(chunks);
      for (const c of chunks) c.fill(0);
      all.fill(0);
      if (err !== undefined) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string): void => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      if (first !== undefined) {
        clearTimeout(first);
        first = undefined;
      }
      size += b.length;
      if (size > MAX_SECRET_BYTES) {
        finish(new StdinError(`standard input is longer than ${MAX_SECRET_BYTES} bytes; send only the password`));
        return;
      }
      chunks.push(Buffer.from(b));
    };
    const onEnd = (): void => {
      const text = Buffer.concat(chunks).toString('utf8');
      const newline = text.indexOf('\n');
      const line = (newline < 0 ? text : text.slice(0, newline)).replace(/\r$/, '');
      finish(undefined, size === 0 ? undefined : line);
    };
    const onError = (err: Error): void => finish(new StdinError(`cannot read standard input: ${err.message}`));
    const total = setTimeout(() => finish(new StdinError(`standard input did not end within ${totalMs / 1000} s`)), totalMs);
    let first: NodeJS.Timeout | undefined = options.firstByteMs === undefined
      ? undefined
      : setTimeout(() => finish(undefined, undefined), options.firstByteMs);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onError);
    stdin.resume();
  });
}
