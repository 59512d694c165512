/**
 * Where a backup's secret comes from: a key file (32 random bytes, for unattended backups), a
 * passphrase file, the CIPHERGATE_BACKUP_PASSPHRASE environment variable, or a prompt (the CLI).
 *
 * A key file others can read is refused, as keys/master.key is: it opens every backup taken with
 * it. Passphrases are NFC-normalised before UTF-8 encoding, so the same characters typed on
 * another system (composed or decomposed accents) give the same key.
 */
import { closeSync, constants as FS, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { BACKUP_KEY_LENGTH, type BackupSecret } from './backup-format';
import { BackupSecretError } from './errors';

export const PASSPHRASE_ENV = 'CIPHERGATE_BACKUP_PASSPHRASE';
/** A new backup's passphrase must be at least this long (scrypt slows guessing; it cannot fix "1234"). */
export const MIN_PASSPHRASE_LENGTH = 12;
const MAX_PASSPHRASE_BYTES = 4096;

export function passphraseSecret(text: string): BackupSecret {
  if (text.length === 0) throw new BackupSecretError('the passphrase is empty');
  const bytes = Buffer.from(text.normalize('NFC'), 'utf8');
  if (bytes.length > MAX_PASSPHRASE_BYTES) throw new BackupSecretError(`the passphrase is longer than ${MAX_PASSPHRASE_BYTES} bytes`);
  return { kind: 'passphrase', passphrase: bytes };
}

/** Refuses passphrases too short for a new backup (restores accept whatever the backup was made with). */
export function checkNewPassphrase(secret: BackupSecret): void {
  if (secret.kind === 'passphrase' && [...secret.passphrase.toString('utf8')].length < MIN_PASSPHRASE_LENGTH) {
    throw new BackupSecretError(`the backup passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
}

/** The key file's 32 bytes. Throws BackupSecretError naming the file (never its contents). */
export function readKeyFile(file: string): BackupSecret {
  const bytes = readPrivateFile(file, 'backup key file', BACKUP_KEY_LENGTH + 1);
  if (bytes.length !== BACKUP_KEY_LENGTH) {
    bytes.fill(0);
    throw new BackupSecretError(`backup key file ${file} must hold exactly ${BACKUP_KEY_LENGTH} bytes (create one with: ciphergate backup keygen FILE)`);
  }
  return { kind: 'key-file', key: bytes };
}

/** The first line of a passphrase file (a trailing CR/LF is not part of it). */
export function readPassphraseFile(file: string): BackupSecret {
  const bytes = readPrivateFile(file, 'passphrase file', MAX_PASSPHRASE_BYTES + 1);
  if (bytes.length > MAX_PASSPHRASE_BYTES) throw new BackupSecretError(`passphrase file ${file} is longer than ${MAX_PASSPHRASE_BYTES} bytes`);
  const text = bytes.toString('utf8');
  bytes.fill(0);
  const newline = text.indexOf('\n');
  const line = (newline < 0 ? text : text.slice(0, newline)).replace(/\r$/, '');
  if (line === '') throw new BackupSecretError(`passphrase file ${file} is empty`);
  return passphraseSecret(line);
}

/** Writes a new key file (0600, exclusive create: an existing file is never replaced). */
export function generateKeyFile(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | (FS.O_NOFOLLOW ?? 0), 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new BackupSecretError(code === 'EEXIST' ? `${file} exists; refusing to replace a key file` : `cannot create ${file}: ${code}`);
  }
  const key = randomBytes(BACKUP_KEY_LENGTH);
  try {
    writeSync(fd, key, 0, key.length, 0);
    fsyncSync(fd);
  } finally {
    key.fill(0);
    closeSync(fd);
  }
}

/** Overwrites the secret's bytes in memory. */
export function disposeSecret(secret: BackupSecret): void {
  if (secret.kind === 'passphrase') secret.passphrase.fill(0);
  else secret.key.fill(0);
}

function readPrivateFile(file: string, what: string, limit: number): Buffer {
  let fd: number;
  try {
    fd = openSync(file, FS.O_RDONLY | (FS.O_NOFOLLOW ?? 0));
  } catch (err) {
    throw new BackupSecretError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new BackupSecretError(`${what} ${file} is not a regular file`);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new BackupSecretError(`${what} ${file} is accessible by group or others; treat it as exposed, then chmod 600 ${file}`);
    }
    const buf = Buffer.alloc(limit);
    let n = 0;
    // Bounded: each read advances or returns 0 (EOF); stops at `limit`.
    while (n < limit) {
      const r = readSync(fd, buf, n, limit - n, n);
      if (r === 0) break;
      n += r;
    }
    const out = Buffer.from(buf.subarray(0, n));
    buf.fill(0);
    return out;
  } finally {
    closeSync(fd);
  }
}
