/**
 * How the `ciphergate` CLI reaches a running gateway: the gateway writes
 * `<dataDir>/run/cli-endpoint.json` (directory 0700, file 0600, replaced atomically) at start and
 * removes it at stop. It holds the admin API's address, the certificate fingerprint the CLI pins,
 * the gateway's pid and a session token minted in memory for this run (never in the database).
 *
 * Whoever can read the file can already read the database and the master key next to it (same
 * owner, same modes), so the file grants nothing new; it lets the CLI act through the running
 * process, which is what makes a block or a key destruction reach live connections at once.
 */
import { closeSync, constants as FS, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { isTokenShaped } from '../tokens';

export const CLI_ENDPOINT_FILE = 'cli-endpoint.json';

export interface CliEndpoint {
  readonly pid: number;
  /** "https://127.0.0.1:8089" — a loopback address even when the API listens on a wildcard. */
  readonly url: string;
  /** SHA-256 fingerprint of the API's certificate, "AB:CD:...". */
  readonly fingerprint: string;
  /** The session token (tokens.ts SessionToken). */
  readonly token: string;
  readonly startedAt: string;
}

export class CliEndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliEndpointError';
  }
}

export function runDir(dataDir: string): string {
  return path.join(dataDir, 'run');
}

export function cliEndpointPath(dataDir: string): string {
  return path.join(runDir(dataDir), CLI_ENDPOINT_FILE);
}

/** Writes the file 0600 via a temporary file and rename(2): a reader never sees half of it. */
export function writeCliEndpoint(dataDir: string, endpoint: CliEndpoint): void {
  const dir = runDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || (st.mode & 0o077) !== 0) {
    throw new CliEndpointError(`${dir} must be a directory accessible by its owner only (chmod 700 ${dir})`);
  }
  const tmp = path.join(dir, `.${CLI_ENDPOINT_FILE}.${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(endpoint)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, cliEndpointPath(dataDir));
}

/**
 * The endpoint of a running gateway, or undefined when there is no file or the process it names
 * is gone (a crash left it behind). Throws CliEndpointError for a file others could read or one
 * that does not parse.
 */
export function readCliEndpoint(dataDir: string): CliEndpoint | undefined {
  const file = cliEndpointPath(dataDir);
  let fd: number;
  try {
    fd = openSync(file, FS.O_RDONLY | FS.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new CliEndpointError(`cannot read ${file}: ${code ?? 'error'}`);
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > 4096) throw new CliEndpointError(`${file} is not a gateway endpoint file; remove it`);
    if ((st.mode & 0o077) !== 0) {
      throw new CliEndpointError(`${file} is accessible by group or others; restart the gateway (it rewrites the file 0600)`);
    }
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const endpoint = parse(text);
  if (endpoint === undefined) throw new CliEndpointError(`${file} is damaged; restart the gateway, or remove the file if it is stopped`);
  return isProcessAlive(endpoint.pid) ? endpoint : undefined;
}

/** Removes the file if it still belongs to `pid` (a newer gateway may have replaced it). */
export function removeCliEndpoint(dataDir: string, pid: number = process.pid): void {
  const file = cliEndpointPath(dataDir);
  try {
    const current = parse(readFileSync(file, 'utf8'));
    if (current !== undefined && current.pid !== pid) return;
    unlinkSync(file);
  } catch {
    // Already gone: nothing to do.
  }
}

/** kill(pid, 0): ESRCH = no such process; EPERM = it exists under another user. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parse(text: string): CliEndpoint | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.pid !== 'number' || !Number.isInteger(o.pid) || o.pid <= 0) return undefined;
  if (typeof o.url !== 'string' || !o.url.startsWith('https://')) return undefined;
  if (typeof o.fingerprint !== 'string' || !/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(o.fingerprint)) return undefined;
  if (typeof o.token !== 'string' || !isTokenShaped(o.token)) return undefined;
  if (typeof o.startedAt !== 'string') return undefined;
  return { pid: o.pid, url: o.url, fingerprint: o.fingerprint, token: o.token, startedAt: o.startedAt };
}
