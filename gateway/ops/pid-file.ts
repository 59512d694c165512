/**
 * `<dataDir>/run/gateway.pid`: the process id of the gateway serving this data directory, written
 * by `ciphergate start` before anything listens and removed at a clean stop. `zeroize` uses it to
 * stop the gateway; `backup restore` refuses to run while it names a live process.
 *
 * A pid file can outlive its process (a crash, SIGKILL) and the number can be reused by another
 * program. Before signalling, `findGateway` checks that the process is alive and, on Linux, that
 * its command line is a Ciphergate one, so a stale file never gets an unrelated process killed.
 */
import { closeSync, constants as FS, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';

export const PID_FILE = 'gateway.pid';
/** The admin API's endpoint file (gateway/admin/http/cli-endpoint.ts) also records the pid. */
const CLI_ENDPOINT_FILE = 'cli-endpoint.json';
const MAX_PID_FILE_BYTES = 4096;

export function runDir(dataDir: string): string {
  return path.join(dataDir, 'run');
}

export function pidFilePath(dataDir: string): string {
  return path.join(runDir(dataDir), PID_FILE);
}

/** Writes the pid file (0600, directory 0700) via a temporary file and rename(2). */
export function writePidFile(dataDir: string, pid: number = process.pid): void {
  const dir = runDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${PID_FILE}.${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${pid}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, pidFilePath(dataDir));
}

/** Removes the pid file if it still names `pid` (a newer gateway may have replaced it). Never throws. */
export function removePidFile(dataDir: string, pid: number = process.pid): void {
  try {
    if (readPid(pidFilePath(dataDir)) === pid) unlinkSync(pidFilePath(dataDir));
  } catch {
    // Gone already, or unreadable: nothing of ours to remove.
  }
}

/** The pid recorded in the file, or undefined when there is none or it does not parse. */
export function readPidFile(dataDir: string): number | undefined {
  return readPid(pidFilePath(dataDir));
}

/**
 * The pid of a live Ciphergate gateway serving `dataDir`, from the pid file or (a gateway started
 * before pid files existed) the admin endpoint file; undefined when neither names one.
 */
export function findGateway(dataDir: string): number | undefined {
  const candidates = [readPidFile(dataDir), readEndpointPid(dataDir)];
  for (const pid of candidates) {
    if (pid !== undefined && pid !== process.pid && isLiveProcess(pid) && looksLikeGateway(pid)) return pid;
  }
  return undefined;
}

/**
 * kill(pid, 0) succeeds (or fails with EPERM: it exists under another user) and the process is
 * not a zombie (Linux: a zombie has exited and only waits for its parent to reap it).
 */
export function isLiveProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return procState(pid) !== 'Z';
}

/** On Linux, the command line must name the Ciphergate CLI; elsewhere it cannot be checked. */
function looksLikeGateway(pid: number): boolean {
  if (process.platform !== 'linux') return true;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return true; // hidepid or a race: give the benefit of the doubt to the pid file
  }
  const args = cmdline.split('\0');
  return args.some((a) => a.endsWith('cli.js') || path.basename(a) === 'ciphergate') && args.includes('start');
}

/** The state letter of /proc/<pid>/stat (R, S, D, Z...), undefined off Linux or when unreadable. */
function procState(pid: number): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // "pid (comm) S ...": comm may contain spaces and parentheses, so look after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

function readPid(file: string): number | undefined {
  const text = readSmall(file);
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (!/^[0-9]{1,10}$/.test(trimmed)) return undefined;
  const pid = Number(trimmed);
  return pid > 0 && pid <= 0x7fffffff ? pid : undefined;
}

function readEndpointPid(dataDir: string): number | undefined {
  const text = readSmall(path.join(runDir(dataDir), CLI_ENDPOINT_FILE));
  if (text === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    const pid = typeof v === 'object' && v !== null ? (v as { pid?: unknown }).pid : undefined;
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function readSmall(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, FS.O_RDONLY | FS.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(MAX_PID_FILE_BYTES);
    // One read: a pid file is a few bytes; anything longer is not one and fails to parse.
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
