/**
 * Erasing one file: overwrite in place (each pass written in large chunks, then fsync), rename to a
 * random name, unlink, fsync the directory.
 *
 * Why each step:
 * - In-place overwrite (no O_TRUNC, same offsets): on a file system that updates blocks in place
 *   (ext4, XFS, NTFS on a spinning disk) the new bytes land on the old sectors. fsync after every
 *   pass, or the page cache would merge the passes into one write of the last pattern.
 * - Chunks of 4 MiB: a few large write(2)s per pass keep the disk streaming; 1 GiB is 256 calls.
 * - Rename before unlink: the directory entry that named the file now holds a random name, so the
 *   name (a user name in a file name, a date) does not linger in the directory's blocks.
 *
 * On SSDs (wear levelling, over-provisioning) and copy-on-write file systems (btrfs, ZFS, APFS) the
 * overwrite goes to new blocks and the old ones survive until the device reuses them. There only
 * destroying the keys (crypto-erase) is reliable; docs/OPERATIONS.md says so.
 */
import { closeSync, constants as FS, fsyncSync, openSync, renameSync, rmdirSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';

export const OVERWRITE_CHUNK_BYTES = 4 * 1024 * 1024;

/** Overwrite patterns per pass count: 3 = zeros, ones, zeros; 1 = zeros (NIST SP 800-88 Clear). */
export function passPatterns(passes: number): readonly number[] {
  if (passes === 1) return [0x00];
  if (passes === 3) return [0x00, 0xff, 0x00];
  throw new RangeError(`passes must be 1 or 3 (got ${passes})`);
}

/** Why an erase step failed, for the report: the step and the errno code, never file contents. */
export class EraseError extends Error {
  constructor(readonly step: string, readonly code: string, options?: { cause?: unknown }) {
    super(`${step}: ${code}${hint(code)}`, options);
    this.name = 'EraseError';
  }
}

const NOFOLLOW = FS.O_NOFOLLOW ?? 0;

/** Identifies an inode ("dev:ino"): two names of one file (hard links) share it. */
export function inodeId(st: { dev: number; ino: number }): string {
  return `${st.dev}:${st.ino}`;
}

/**
 * Overwrites a regular file with each pattern in turn; returns its size and inode id. Does not
 * follow links. Asynchronous (libuv's thread pool) so that several files can be in flight: for
 * small files the cost is fsync latency, which overlaps well.
 */
export async function overwriteFile(file: string, patterns: readonly number[], chunk: Buffer = Buffer.allocUnsafe(OVERWRITE_CHUNK_BYTES)): Promise<{ size: number; inode: string }> {
  const fh = await stepAsync('open for writing', () => open(file, FS.O_WRONLY | NOFOLLOW));
  try {
    const st = await stepAsync('stat', () => fh.stat());
    if (!st.isFile()) throw new EraseError('open for writing', 'not a regular file');
    const size = st.size;
    for (const pattern of patterns) {
      chunk.fill(pattern, 0, Math.min(chunk.length, size)); // a 16 KiB file needs no 4 MiB memset
      let offset = 0;
      // Bounded: each write advances by at least one byte or throws.
      while (offset < size) {
        const n = Math.min(chunk.length, size - offset);
        const { bytesWritten } = await stepAsync('write', () => fh.write(chunk, 0, n, offset));
        if (bytesWritten <= 0) throw new EraseError('write', 'no progress');
        offset += bytesWritten;
      }
      await stepAsync('fsync', () => fh.sync());
    }
    return { size, inode: inodeId(st) };
  } finally {
    await fh.close();
  }
}

/**
 * Renames the entry to a random name in the same directory, then unlinks it. Works for files,
 * symbolic links and special files (a link is removed, never followed). With `dirty`, the
 * directory is added to it for the caller to fsync once for a whole batch (a directory fsync
 * costs as much as the rest of a small file's erase); without, it is fsynced here.
 */
export function renameAndUnlink(file: string, dirty?: Set<string>): void {
  const dir = path.dirname(file);
  const hidden = path.join(dir, `.${randomBytes(16).toString('hex')}`);
  step('rename', () => renameSync(file, hidden));
  step('unlink', () => unlinkSync(hidden));
  if (dirty !== undefined) dirty.add(dir);
  else fsyncDir(dir);
}

/** Overwrite + rename + unlink; returns the bytes overwritten per pass (the file size) and the inode. */
export async function eraseFile(file: string, patterns: readonly number[], chunk?: Buffer, dirty?: Set<string>): Promise<{ size: number; inode: string }> {
  const result = await overwriteFile(file, patterns, chunk);
  renameAndUnlink(file, dirty);
  return result;
}

/**
 * Removes an empty directory. Returns false when it no longer exists; throws EraseError
 * ('ENOTEMPTY' when something in it could not be erased).
 */
export function removeDir(dir: string): boolean {
  try {
    rmdirSync(dir);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return false;
    throw new EraseError('remove directory', code, { cause: err });
  }
  fsyncDir(path.dirname(dir));
  return true;
}

/** Makes a directory's entries durable. Windows cannot open a directory for fsync: skipped there. */
export function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = step('open directory', () => openSync(dir, FS.O_RDONLY));
  try {
    step('fsync directory', () => fsyncSync(fd));
  } finally {
    closeSync(fd);
  }
}

export function errnoCode(err: unknown): string {
  if (err instanceof EraseError) return err.code;
  const code = typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' ? code : 'error';
}

async function stepAsync<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof EraseError) throw err;
    throw new EraseError(name, errnoCode(err), { cause: err });
  }
}

function step<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EraseError) throw err;
    throw new EraseError(name, errnoCode(err), { cause: err });
  }
}

function hint(code: string): string {
  switch (code) {
    case 'EPERM': return ' (operation not permitted: immutable or append-only attribute? see lsattr)';
    case 'EACCES': return ' (permission denied)';
    case 'EROFS': return ' (read-only file system)';
    case 'EBUSY': return ' (in use, or a mount point)';
    case 'ELOOP': return ' (a symbolic link appeared in place of the file)';
    case 'ENOTEMPTY': return ' (still holds entries that could not be erased)';
    default: return '';
  }
}
