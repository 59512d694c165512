/**
 * The master key: 32 random bytes in `<dataDir>/keys/master.key` from which every at-rest key is
 * derived (HKDF-SHA256, RFC 5869). Whoever holds the database without this file holds nothing that
 * decrypts or verifies; zeroing the gateway is destroying this one file.
 *
 * File rules (POSIX): the directory is 0700 and the file 0600, both created by us on first open.
 * A key that is not exactly 32 bytes, not a regular file, or accessible by group or others makes the
 * gateway refuse to start: a key others could read is a key that has leaked, and guessing a fix
 * (re-generating, chmod) would either lose every secret or hide the incident.
 */
import { constants as FS, closeSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { hkdfSync, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { MasterKeyError } from './errors';

export const MASTER_KEY_LENGTH = 32;

/**
 * HKDF `info` labels, one per purpose (RFC 5869 §3.2): a key derived for one purpose is useless
 * for any other. The version suffix lets a purpose be re-keyed without touching the master key.
 */
export const KEY_LABELS = {
  /** AES-256-GCM key sealing digest HA1s (sealed.ts). */
  ha1: 'ciphergate ha1 v1',
  /** HMAC-SHA256 key for one-time-password verifiers. */
  otp: 'ciphergate otp v1',
  /** HMAC-SHA256 key for admin API token verifiers. */
  adminToken: 'ciphergate admin-token v1',
  /** AES-256-GCM key sealing stored messages (gateway/messaging/envelope.ts). */
  messages: 'ciphergate messages v1',
  /** Key check value stored in the database to detect a replaced master key. */
  keyCheck: 'ciphergate key-check v1',
} as const;

export type KeyPurpose = keyof typeof KEY_LABELS;

const KEY_CHECK_LENGTH = 16;
/** Bits a key file or directory must not have: any access by group or others. */
const GROUP_OTHER_BITS = 0o077;

export function keysDir(dataDir: string): string {
  return path.join(dataDir, 'keys');
}

export function masterKeyPath(dataDir: string): string {
  return path.join(keysDir(dataDir), 'master.key');
}

/** The master key in memory. Derived keys are handed out; the master bytes never leave. */
export class MasterKey {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** Wraps (a copy of) raw key bytes; for tools and tests. Production code uses openMasterKey(). */
  static fromBytes(bytes: Uint8Array): MasterKey {
    if (bytes.length !== MASTER_KEY_LENGTH) {
      throw new MasterKeyError(`a master key is ${MASTER_KEY_LENGTH} bytes`, '(memory)');
    }
    return new MasterKey(Buffer.from(bytes));
  }

  /**
   * A 32-byte subkey for one purpose: HKDF-SHA256 with an empty salt (RFC 5869 §3.1: the input is
   * already uniformly random, a salt adds nothing) and the purpose label as `info`.
   */
  derive(purpose: KeyPurpose): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#key, Buffer.alloc(0), KEY_LABELS[purpose], 32));
  }

  /** A value that identifies this key without revealing it (a derived key, truncated). */
  checkValue(): Buffer {
    const derived = this.derive('keyCheck');
    const check = Buffer.from(derived.subarray(0, KEY_CHECK_LENGTH));
    derived.fill(0);
    return check;
  }

  /** Overwrites the in-memory copy; the object is unusable afterwards. */
  dispose(): void {
    this.#key.fill(0);
  }
}

export interface OpenMasterKeyOptions {
  /**
   * Create the key when the file does not exist (default true). Pass false when the database
   * already holds sealed values: a new key would silently make all of them undecryptable.
   */
  create?: boolean;
}

/**
 * Reads `<dataDir>/keys/master.key`, creating it (and the directories, 0700) on first use.
 * Throws MasterKeyError when the file or directory is unsafe or malformed.
 */
export function openMasterKey(dataDir: string, options: OpenMasterKeyOptions = {}): MasterKey {
  const create = options.create ?? true;
  const dir = keysDir(dataDir);
  const file = masterKeyPath(dataDir);
  if (create) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    mkdirOnce(dir);
  }
  checkKeysDir(dir, file);
  let fd: number;
  try {
    fd = openSync(file, FS.O_RDONLY | FS.O_NOFOLLOW);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw unreadable(file, err);
    if (!create) {
      throw new MasterKeyError(
        `master key ${file} is missing but the database holds sealed secrets; restore the file from ` +
          'your backup (without it no password or one-time password can be verified)',
        file,
      );
    }
    const created = createKeyFile(dir, file);
    if (created !== undefined) return adopt(created);
    fd = openSync(file, FS.O_RDONLY | FS.O_NOFOLLOW); // lost a creation race: read the winner's key
  }
  try {
    checkKeyFile(fstatSync(fd), file);
    const key = Buffer.alloc(MASTER_KEY_LENGTH);
    let read = 0;
    // Bounded: each read returns at least one byte or 0 (EOF), and we stop at 32.
    while (read < MASTER_KEY_LENGTH) {
      const n = readSync(fd, key, read, MASTER_KEY_LENGTH - read, read);
      if (n === 0) break;
      read += n;
    }
    if (read !== MASTER_KEY_LENGTH) {
      key.fill(0);
      throw new MasterKeyError(`master key ${file} is truncated; restore it from your backup`, file);
    }
    return adopt(key);
  } finally {
    closeSync(fd);
  }
}

/**
 * Overwrites the key file with zeros, flushes, then unlinks it. Returns false when there was no
 * file. On copy-on-write file systems and flash storage the overwrite is best effort; the unlink
 * is what counts for anyone going through the file system.
 */
export function destroyMasterKey(dataDir: string): boolean {
  const file = masterKeyPath(dataDir);
  let fd: number;
  try {
    fd = openSync(file, FS.O_WRONLY | FS.O_NOFOLLOW);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw unreadable(file, err);
  }
  try {
    const size = Math.max(fstatSync(fd).size, MASTER_KEY_LENGTH);
    writeAll(fd, Buffer.alloc(size));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(file);
  fsyncDir(keysDir(dataDir));
  return true;
}

/** Wraps key bytes and zeroes the caller's copy. */
function adopt(bytes: Buffer): MasterKey {
  const key = MasterKey.fromBytes(bytes);
  bytes.fill(0);
  return key;
}

function mkdirOnce(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw err;
  }
}

function checkKeysDir(dir: string, file: string): void {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return; // reported as a missing key file by the caller
    throw unreadable(file, err);
  }
  if (!st.isDirectory()) {
    throw new MasterKeyError(`${dir} must be a directory (not a symbolic link or file)`, file);
  }
  if ((st.mode & GROUP_OTHER_BITS) !== 0) {
    throw new MasterKeyError(
      `key directory ${dir} is accessible by group or others (mode ${octal(st.mode)}); ` +
        `treat the master key as exposed, then run: chmod 700 ${dir}`,
      file,
    );
  }
}

function checkKeyFile(st: Stats, file: string): void {
  if (!st.isFile()) throw new MasterKeyError(`master key ${file} must be a regular file`, file);
  if ((st.mode & GROUP_OTHER_BITS) !== 0) {
    throw new MasterKeyError(
      `master key ${file} is accessible by group or others (mode ${octal(st.mode)}); the gateway ` +
        `will not start. Treat the key as exposed (rotate credentials), then run: chmod 600 ${file}`,
      file,
    );
  }
  if (st.size !== MASTER_KEY_LENGTH) {
    throw new MasterKeyError(
      `master key ${file} has ${st.size} bytes, expected ${MASTER_KEY_LENGTH}; restore it from your backup`,
      file,
    );
  }
}

/** Exclusive create (O_EXCL): two processes starting at once cannot both write a key. */
function createKeyFile(dir: string, file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o600);
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return undefined;
    throw unreadable(file, err);
  }
  const key = randomBytes(MASTER_KEY_LENGTH);
  try {
    writeAll(fd, key);
    fsyncSync(fd);
  } catch (err) {
    key.fill(0);
    closeSync(fd);
    unlinkSync(file);
    throw unreadable(file, err);
  }
  closeSync(fd);
  fsyncDir(dir);
  return key;
}

function writeAll(fd: number, data: Buffer): void {
  let written = 0;
  // Bounded: writeSync either advances or throws.
  while (written < data.length) written += writeSync(fd, data, written, data.length - written, written);
}

/** Makes the directory entry (creation or unlink) durable. */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, FS.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function unreadable(file: string, err: unknown): MasterKeyError {
  const code = errorCode(err) ?? 'unknown error';
  const hint = code === 'ELOOP' ? ' (it is a symbolic link; the key must be a regular file)' : '';
  return new MasterKeyError(`cannot use master key ${file}: ${code}${hint}`, file, { cause: err });
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}
