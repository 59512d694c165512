/**
 * Taking a backup: a consistent snapshot of the account database, the master key (and any other
 * key under keys/), the TLS certificate and key, and the configuration, in one encrypted file.
 *
 * The database is copied with SQLite's online backup API (better-sqlite3 `db.backup()`) from a
 * connection of our own: WAL lets it read a consistent snapshot while the gateway keeps writing,
 * and the copy never sees half a transaction. The copy goes to a private directory under dataDir
 * (same protection as the database itself; `zeroize` erases it should a crash leave it behind).
 *
 * The master key is in the backup on purpose: without it the sealed HA1s in the database cannot be
 * opened and nobody could register after a restore. The backup's own encryption (backup-format.ts)
 * is what protects both; docs/OPERATIONS.md says so.
 */
import BetterSqlite3 from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { constants as FS, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import * as path from 'node:path';
import { findPackageRoot } from '../../config/load';
import type { Config } from '../../config/schema';
import { databasePath } from '../store/sqlite/database';
import { keysDir, MASTER_KEY_LENGTH } from '../store/keys';
import { encodeManifest, type BackupManifest, type BackupRole, type ManifestEntry } from './backup-archive';
import { ChunkSealer, DEFAULT_SCRYPT, newHeader, type BackupSecret, type ScryptParams } from './backup-format';
import { BackupError } from './errors';
import { fsyncDir } from './zeroize-erase';
import { BACKUP_SUFFIX } from './zeroize-plan';

/** The part of Config a backup reads. */
export type BackupConfig = Pick<Config, 'dataDir' | 'tls' | 'ops'>;

export interface CreateBackupOptions {
  readonly config: BackupConfig;
  readonly secret: BackupSecret;
  /** Destination; default <ops.backup.dir>/<prefix>-<UTC time>.cgbk. Never replaces a file. */
  readonly out?: string;
  /** File name prefix when `out` is not given: "ciphergate" (manual) or "ciphergate-auto" (scheduled). */
  readonly prefix?: string;
  /** Configuration files in use (--config FILE), stored as they are. */
  readonly configFiles?: readonly string[];
  readonly scrypt?: ScryptParams;
  readonly now?: () => Date;
}

export interface BackupSummary {
  readonly file: string;
  readonly bytes: number;
  readonly manifest: BackupManifest;
}

/** Small files (keys, certificates, configuration) are read whole; bigger ones are not small files. */
const MAX_SMALL_FILE = 16 * 1024 * 1024;
const READ_CHUNK = 1024 * 1024;

interface Part {
  readonly name: string;
  readonly role: BackupRole;
  readonly mode: number;
  readonly origin?: string;
  readonly data?: Buffer;
  readonly file?: string;
}

export async function createBackup(options: CreateBackupOptions): Promise<BackupSummary> {
  const { config } = options;
  const now = (options.now ?? (() => new Date()))();
  const out = path.resolve(options.out ?? defaultBackupPath(config.ops.backup.dir, options.prefix ?? 'ciphergate', now));
  if (existsSync(out)) throw new BackupError(`${out} exists; choose another name (a backup never replaces a file)`);
  if (options.out === undefined) mkdirSync(config.ops.backup.dir, { recursive: true, mode: 0o700 });
  const db = databasePath(config.dataDir);
  if (!existsSync(db)) throw new BackupError(`no database at ${db}: nothing to back up (check dataDir)`);

  const staging = mkdtempSync(path.join(config.dataDir, '.backup-'));
  const parts: Part[] = [];
  try {
    const snapshot = path.join(staging, 'ciphergate.db');
    await snapshotDatabase(db, snapshot);
    parts.push({ name: 'data/ciphergate.db', role: 'database', mode: 0o600, file: snapshot, origin: db });
    parts.push(...keyParts(config), ...tlsParts(config), ...configParts(config, options.configFiles ?? []));
    const entries = await describe(parts);
    const manifest: BackupManifest = {
      format: 'ciphergate-backup', version: 1, createdAt: now.toISOString(), gatewayVersion: packageVersion(),
      dataDir: config.dataDir, entries,
    };
    const bytes = await writeEncrypted(out, options.secret, options.scrypt ?? DEFAULT_SCRYPT, manifest, parts);
    return { file: out, bytes, manifest };
  } finally {
    for (const p of parts) p.data?.fill(0);
    rmSync(staging, { recursive: true, force: true });
  }
}

/** `<dir>/<prefix>-20250101T120000Z.cgbk`: names sort by time. */
export function defaultBackupPath(dir: string, prefix: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return path.join(dir, `${prefix}-${stamp}${BACKUP_SUFFIX}`);
}

async function snapshotDatabase(source: string, dest: string): Promise<void> {
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(source, { fileMustExist: true, timeout: 5000 });
  } catch (err) {
    throw new BackupError(`cannot open ${source} for the backup: ${(err as Error).message}`, { cause: err });
  }
  try {
    await db.backup(dest);
  } catch (err) {
    throw new BackupError(`the online copy of ${source} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    db.close();
  }
}

/** Every regular file under keys/ (the backup key file excepted: it would open its own backups). */
function keyParts(config: BackupConfig): Part[] {
  const dir = keysDir(config.dataDir);
  const master = path.join(dir, 'master.key');
  if (!existsSync(master)) throw new BackupError(`${master} is missing: a backup without it could not open any password`);
  const parts: Part[] = [];
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (!lstatSync(file).isFile() || (config.ops.backup.keyFile !== '' && path.resolve(config.ops.backup.keyFile) === file)) continue;
    const data = readSmall(file);
    if (file === master && data.length !== MASTER_KEY_LENGTH) throw new BackupError(`${master} is not a ${MASTER_KEY_LENGTH}-byte key`);
    parts.push({ name: `data/keys/${name}`, role: file === master ? 'master-key' : 'key', mode: 0o600, data, origin: file });
  }
  return parts;
}

/** The configured certificate/key/CA (tls.*), or the generated pair in <dataDir>/tls/. */
function tlsParts(config: BackupConfig): Part[] {
  const parts: Part[] = [];
  const add = (name: string, role: BackupRole, file: string, mode: number): void => {
    if (file !== '' && existsSync(file)) parts.push({ name, role, mode, data: readSmall(file), origin: file });
  };
  if (config.tls.cert !== '') {
    add('external/tls-cert.pem', 'tls-cert', config.tls.cert, 0o644);
    add('external/tls-key.pem', 'tls-key', config.tls.key, 0o600);
  } else {
    add('data/tls/cert.pem', 'tls-cert', path.join(config.dataDir, 'tls', 'cert.pem'), 0o644);
    add('data/tls/key.pem', 'tls-key', path.join(config.dataDir, 'tls', 'key.pem'), 0o600);
  }
  add('external/tls-ca.pem', 'tls-ca', config.tls.ca, 0o644);
  return parts;
}

function configParts(config: BackupConfig, files: readonly string[]): Part[] {
  const parts: Part[] = files.map((file, i) => ({
    name: `config/${i}-${safeName(path.basename(file))}`, role: 'config' as const, mode: 0o600, data: readSmall(file), origin: path.resolve(file),
  }));
  // The resolved configuration shows what --set and the environment changed; it holds no secret.
  parts.push({ name: 'config/effective.json', role: 'effective-config', mode: 0o600, data: Buffer.from(`${JSON.stringify(config, null, 2)}\n`) });
  return parts;
}

async function describe(parts: readonly Part[]): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  for (const p of parts) {
    const hash = createHash('sha256');
    let size = 0;
    await forEachPiece(p, (piece) => { hash.update(piece); size += piece.length; });
    entries.push({ name: p.name, role: p.role, size, sha256: hash.digest('hex'), mode: p.mode, ...(p.origin !== undefined && { origin: p.origin }) });
  }
  return entries;
}

/** Writes header + sealed archive to a temporary file, fsyncs, renames into place; returns the size. */
async function writeEncrypted(out: string, secret: BackupSecret, scrypt: ScryptParams, manifest: BackupManifest, parts: readonly Part[]): Promise<number> {
  const { header, key } = await newHeader(secret, scrypt);
  const sealer = new ChunkSealer(header, key);
  const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
  const fh = await openFile(tmp, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL, 0o600).catch((err: NodeJS.ErrnoException) => {
    throw new BackupError(`cannot create ${tmp}: ${err.code ?? 'error'} (does the directory exist?)`, { cause: err });
  });
  let bytes = 0;
  const write = async (chunks: readonly Buffer[]): Promise<void> => {
    for (const c of chunks) {
      await fh.write(c);
      bytes += c.length;
    }
  };
  try {
    await write([header.bytes]);
    await write(sealer.push(encodeManifest(manifest)));
    for (const p of parts) await forEachPiece(p, (piece) => write(sealer.push(piece)));
    await write([sealer.finish()]);
    await fh.sync();
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => undefined);
    rmSync(tmp, { force: true });
    throw err;
  }
  if (existsSync(out)) {
    rmSync(tmp, { force: true });
    throw new BackupError(`${out} appeared while the backup was written; not replaced`);
  }
  renameSync(tmp, out);
  fsyncDir(path.dirname(out));
  return bytes;
}

async function forEachPiece(p: Part, fn: (piece: Buffer) => void | Promise<void>): Promise<void> {
  if (p.data !== undefined) {
    await fn(p.data);
    return;
  }
  const fh = await openFile(p.file!, 'r');
  try {
    const buf = Buffer.alloc(READ_CHUNK);
    // Bounded by the file size: each read advances or returns 0 at EOF.
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      await fn(buf.subarray(0, bytesRead));
    }
    buf.fill(0);
  } finally {
    await fh.close();
  }
}

function readSmall(file: string): Buffer {
  const st = lstatSync(file);
  if (st.size > MAX_SMALL_FILE) throw new BackupError(`${file} is larger than ${MAX_SMALL_FILE} bytes; not a key, certificate or configuration file`);
  return readFileSync(file);
}

/** A file name reduced to archive-safe characters. */
function safeName(name: string): string {
  const cleaned = [...name].map((c) => (/[A-Za-z0-9._-]/.test(c) ? c : '_')).join('');
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'config' : cleaned;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(findPackageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
