/**
 * Reading, verifying and restoring a backup.
 *
 * Restore touches nothing until the WHOLE file has authenticated: it decrypts once without writing
 * (a wrong passphrase, a flipped byte, a truncated file all stop here, data directory untouched),
 * then decrypts again into temporary files next to their targets (same directory, so same file
 * system), fsyncs them, and only then renames them into place. Each rename is atomic; the set is
 * committed with rollback: the files it replaces are first moved aside, and moved back if any
 * rename fails. The old database's -wal/-shm are moved aside with it: a stale write-ahead log next
 * to a restored database would be replayed into it.
 *
 * The gateway must be stopped (its pid file names no live process): a running gateway holds the
 * old database open and the old master key in memory.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants as FS, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmdirSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import * as path from 'node:path';
import { databasePath } from '../store/sqlite/database';
import { ArchiveReader, type ArchiveSink, type BackupManifest, type ManifestEntry } from './backup-archive';
import type { BackupConfig } from './backup-create';
import { ChunkOpener, HEADER_LENGTH, openHeader, type BackupSecret } from './backup-format';
import { BackupError, BackupFormatError, GatewayRunningError } from './errors';
import { findGateway } from './pid-file';
import { eraseFile, fsyncDir } from './zeroize-erase';

const READ_CHUNK = 1024 * 1024;
/** Roles whose files are secrets: restored 0600 and erased (not just unlinked) when replaced. */
const SECRET_ROLES = new Set(['database', 'master-key', 'key', 'tls-key', 'config', 'effective-config']);
/** Where configuration files from the backup are put for the operator to look at (not applied). */
export const RESTORED_CONFIG_DIR = 'restored-config';

/** Decrypts and parses the whole backup, feeding `sink`; resolves to the manifest once all is authentic. */
export async function readBackup(file: string, secret: BackupSecret, sink?: ArchiveSink): Promise<BackupManifest> {
  const fh = await openFile(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new BackupError(`cannot read ${file}: ${err.code ?? 'error'}`, { cause: err });
  });
  try {
    const head = Buffer.alloc(HEADER_LENGTH);
    const { bytesRead } = await fh.read(head, 0, HEADER_LENGTH, 0);
    if (bytesRead < HEADER_LENGTH) throw new BackupFormatError(`${file} is too short to be a Ciphergate backup`);
    const { header, key } = await openHeader(head, secret);
    const opener = new ChunkOpener(header, key);
    const reader = new ArchiveReader(sink);
    const buf = Buffer.alloc(READ_CHUNK);
    let position = HEADER_LENGTH;
    // Bounded by the file size: each read advances or returns 0 at EOF.
    for (;;) {
      const { bytesRead: n } = await fh.read(buf, 0, buf.length, position);
      if (n === 0) break;
      position += n;
      for (const plain of opener.push(buf.subarray(0, n))) await consume(reader, plain);
    }
    await consume(reader, opener.finish());
    return await reader.finish();
  } finally {
    await fh.close();
  }
}

/** `backup verify`: the manifest of a backup that authenticated from its first byte to its last. */
export function verifyBackup(file: string, secret: BackupSecret): Promise<BackupManifest> {
  return readBackup(file, secret);
}

export interface RestoreOptions {
  readonly config: BackupConfig;
  readonly file: string;
  readonly secret: BackupSecret;
  /** Replace an existing database (default: refuse, so a slip of the finger cannot lose accounts). */
  readonly force?: boolean;
}

export interface RestoredFile {
  readonly name: string;
  readonly role: ManifestEntry['role'];
  readonly path: string;
  readonly size: number;
}

export interface RestoreSummary {
  readonly manifest: BackupManifest;
  readonly restored: readonly RestoredFile[];
}

export async function restoreBackup(options: RestoreOptions): Promise<RestoreSummary> {
  const { config, file, secret } = options;
  refuseIfRunning(config.dataDir);
  const manifest = await readBackup(file, secret); // pass 1: authenticate everything, write nothing
  const targets = mapTargets(manifest, config);
  const db = databasePath(config.dataDir);
  if (existsSync(db) && options.force !== true) {
    throw new BackupError(`${db} exists; restoring would replace it and every account in it. Pass --force to replace it`);
  }

  const createdDirs: string[] = [];
  const staged = new Map<string, string>();
  const sink = stagingSink(targets, staged);
  try {
    for (const target of new Set([config.dataDir, ...[...targets.values()].map((t) => path.dirname(t))])) makeDirs(target, createdDirs);
    await readBackup(file, secret, sink); // pass 2: into temporary files
    refuseIfRunning(config.dataDir);
    const replace = [...targets.entries()].map(([name, target]) => ({ target, staged: staged.get(name)! }));
    if ([...targets.values()].includes(db)) {
      for (const suffix of ['-wal', '-shm', '-journal']) replace.push({ target: `${db}${suffix}`, staged: '' });
    }
    await commit(replace);
  } catch (err) {
    sink.abort();
    for (const tmp of staged.values()) rmSync(tmp, { force: true });
    for (const dir of createdDirs.reverse()) tryRmdir(dir);
    throw err;
  }
  const restored = manifest.entries.flatMap((e) => {
    const target = targets.get(e.name);
    return target === undefined ? [] : [{ name: e.name, role: e.role, path: target, size: e.size }];
  });
  return { manifest, restored };
}

/** Archive name → file to restore it to, for the current configuration. */
export function mapTargets(manifest: BackupManifest, config: BackupConfig): Map<string, string> {
  const dataDir = path.resolve(config.dataDir);
  const map = new Map<string, string>();
  for (const e of manifest.entries) {
    let target: string | undefined;
    if (e.name.startsWith('data/')) target = path.join(dataDir, ...e.name.slice('data/'.length).split('/'));
    else if (e.role === 'tls-cert') target = config.tls.cert !== '' ? config.tls.cert : path.join(dataDir, 'tls', 'cert.pem');
    else if (e.role === 'tls-key') target = config.tls.key !== '' ? config.tls.key : path.join(dataDir, 'tls', 'key.pem');
    else if (e.role === 'tls-ca') target = config.tls.ca !== '' ? config.tls.ca : path.join(dataDir, RESTORED_CONFIG_DIR, 'tls-ca.pem');
    else if (e.name.startsWith('config/')) target = path.join(dataDir, RESTORED_CONFIG_DIR, e.name.slice('config/'.length).replace(/\//g, '_'));
    if (target === undefined) continue;
    if ([...map.values()].includes(target)) throw new BackupError(`two entries of the backup restore to ${target}`);
    map.set(e.name, target);
  }
  return map;
}

function refuseIfRunning(dataDir: string): void {
  const pid = findGateway(dataDir);
  if (pid !== undefined) {
    throw new GatewayRunningError(
      `the gateway is running on ${dataDir} (pid ${pid}); stop it first (restore replaces the database and ` +
        'master key it holds open). Nothing was changed', pid);
  }
}

/** Writes each entry to `.<name>.restore-<random>` next to its target (0600 for secrets), fsynced. */
function stagingSink(targets: ReadonlyMap<string, string>, staged: Map<string, string>): ArchiveSink & { abort(): void } {
  let fd: number | undefined;
  return {
    begin(entry) {
      const target = targets.get(entry.name);
      if (target === undefined) return;
      const tmp = path.join(path.dirname(target), `.${path.basename(target)}.restore-${randomBytes(6).toString('hex')}`);
      const mode = SECRET_ROLES.has(entry.role) ? 0o600 : entry.mode & 0o644;
      fd = openSync(tmp, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | (FS.O_NOFOLLOW ?? 0), mode);
      staged.set(entry.name, tmp);
    },
    data(_entry, bytes) {
      if (fd === undefined) return;
      let written = 0;
      // Bounded: writeSync advances or throws.
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    },
    end() {
      if (fd === undefined) return;
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
    },
    abort() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/**
 * Moves every existing target aside, then the staged file into place ('' = just remove the
 * target); on any failure undoes what was done. Afterwards the set-aside files are deleted
 * (secrets overwritten first: a replaced master key is still a key).
 */
async function commit(replace: readonly { target: string; staged: string }[]): Promise<void> {
  const done: { target: string; staged: string; aside?: string }[] = [];
  try {
    for (const r of replace) {
      let aside: string | undefined;
      if (existsSync(r.target)) {
        aside = path.join(path.dirname(r.target), `.${path.basename(r.target)}.pre-restore-${randomBytes(6).toString('hex')}`);
        renameSync(r.target, aside);
      }
      done.push({ ...r, ...(aside !== undefined && { aside }) });
      if (r.staged !== '') renameSync(r.staged, r.target);
    }
  } catch (err) {
    for (const d of done.reverse()) {
      try {
        if (d.staged !== '' && existsSync(d.target) && !existsSync(d.staged)) renameSync(d.target, d.staged);
        if (d.aside !== undefined) renameSync(d.aside, d.target);
      } catch {
        // Leave it: the error below names the restore as failed, and the .pre-restore file remains.
      }
    }
    throw new BackupError(`restore failed while renaming files into place (${(err as NodeJS.ErrnoException).code ?? 'error'}); the previous files were put back`, { cause: err });
  }
  for (const dir of new Set(replace.map((r) => path.dirname(r.target)))) fsyncDir(dir);
  for (const d of done) {
    if (d.aside === undefined) continue;
    try {
      await eraseFile(d.aside, [0x00]);
    } catch {
      try { unlinkSync(d.aside); } catch { /* reported by zeroize if it ever runs */ }
    }
  }
}

function makeDirs(dir: string, created: string[]): void {
  const missing: string[] = [];
  let d = path.resolve(dir);
  // Bounded by the path depth.
  while (!existsSync(d)) {
    missing.unshift(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing) {
    mkdirSync(m, { mode: 0o700 });
    created.push(m);
  }
}

function tryRmdir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty or gone: leave it.
  }
}

async function consume(reader: ArchiveReader, plain: Buffer): Promise<void> {
  try {
    await reader.push(plain);
  } finally {
    plain.fill(0);
  }
}
