/**
 * The archive inside a backup (the plaintext the container encrypts):
 *
 *   u32 manifest length || manifest (JSON, UTF-8) || entry 1 bytes || entry 2 bytes || ...
 *
 * The manifest lists every entry (name, role, size, SHA-256, mode) in the order their bytes follow,
 * so a reader knows what it restores before the first byte and can list a backup's contents. The
 * container already authenticates every byte; the per-entry hashes check that the writer's view
 * of each file matches what was archived, and give `backup verify` something to show.
 */
import { createHash, type Hash } from 'node:crypto';
import { BackupCorruptError } from './errors';

export type BackupRole =
  | 'database' | 'master-key' | 'key' | 'tls-cert' | 'tls-key' | 'tls-ca' | 'config' | 'effective-config';

const ROLES: readonly BackupRole[] = ['database', 'master-key', 'key', 'tls-cert', 'tls-key', 'tls-ca', 'config', 'effective-config'];

export interface ManifestEntry {
  /** Archive path: "data/<path under dataDir>", "external/<role>.pem", "config/<file name>". */
  readonly name: string;
  readonly role: BackupRole;
  readonly size: number;
  /** Hex SHA-256 of the bytes. */
  readonly sha256: string;
  /** POSIX permission bits to restore (0600 for secrets). */
  readonly mode: number;
  /** Where the file was read from (for the operator; restore decides its own target). */
  readonly origin?: string;
}

export interface BackupManifest {
  readonly format: 'ciphergate-backup';
  readonly version: 1;
  readonly createdAt: string;
  readonly gatewayVersion: string;
  /** The data directory the backup was taken from. */
  readonly dataDir: string;
  readonly entries: readonly ManifestEntry[];
}

const MAX_MANIFEST_BYTES = 1024 * 1024;
const MAX_ENTRIES = 10_000;
const MAX_NAME = 1024;

export function encodeManifest(manifest: BackupManifest): Buffer {
  const json = Buffer.from(JSON.stringify(manifest), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length, 0);
  return Buffer.concat([length, json]);
}

/** Receives the archive's entries as they are decrypted. */
export interface ArchiveSink {
  begin?(entry: ManifestEntry): Promise<void> | void;
  data?(entry: ManifestEntry, bytes: Buffer): Promise<void> | void;
  end?(entry: ManifestEntry): Promise<void> | void;
}

/** Incremental parser: push() authenticated plaintext in order, then finish(). */
export class ArchiveReader {
  private buffer = Buffer.alloc(0);
  private manifest: BackupManifest | undefined;
  private entry = 0;
  private remaining = 0;
  private hash: Hash | undefined;

  constructor(private readonly sink: ArchiveSink = {}) {}

  async push(plain: Buffer): Promise<void> {
    let data = plain;
    if (this.manifest === undefined) {
      this.buffer = Buffer.concat([this.buffer, data]);
      if (this.buffer.length < 4) return;
      const length = this.buffer.readUInt32BE(0);
      if (length === 0 || length > MAX_MANIFEST_BYTES) throw new BackupCorruptError('the backup manifest has an impossible length');
      if (this.buffer.length < 4 + length) return;
      this.manifest = parseManifest(this.buffer.subarray(4, 4 + length));
      data = this.buffer.subarray(4 + length);
      this.buffer = Buffer.alloc(0);
      await this.nextEntry();
    }
    let offset = 0;
    // Bounded: each round consumes bytes or moves to the next entry (finite list).
    while (offset < data.length) {
      const entry = this.manifest.entries[this.entry];
      if (entry === undefined) throw new BackupCorruptError('the backup holds data after its last entry');
      const n = Math.min(this.remaining, data.length - offset);
      const piece = data.subarray(offset, offset + n);
      this.hash!.update(piece);
      await this.sink.data?.(entry, piece);
      offset += n;
      this.remaining -= n;
      if (this.remaining === 0) await this.endEntry();
    }
  }

  async finish(): Promise<BackupManifest> {
    if (this.manifest === undefined) throw new BackupCorruptError('the backup ends before its manifest');
    if (this.entry < this.manifest.entries.length) throw new BackupCorruptError('the backup ends before its last entry');
    return this.manifest;
  }

  /** Starts the next entry; zero-length entries begin and end at once. */
  private async nextEntry(): Promise<void> {
    const entries = this.manifest!.entries;
    // Bounded by the entry count.
    while (this.entry < entries.length) {
      const entry = entries[this.entry]!;
      this.remaining = entry.size;
      this.hash = createHash('sha256');
      await this.sink.begin?.(entry);
      if (entry.size > 0) return;
      await this.finishEntry(entry);
    }
  }

  private async endEntry(): Promise<void> {
    await this.finishEntry(this.manifest!.entries[this.entry]!);
    await this.nextEntry();
  }

  private async finishEntry(entry: ManifestEntry): Promise<void> {
    if (this.hash!.digest('hex') !== entry.sha256) throw new BackupCorruptError(`entry ${entry.name} does not match its recorded SHA-256`);
    await this.sink.end?.(entry);
    this.entry++;
  }
}

function parseManifest(bytes: Buffer): BackupManifest {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new BackupCorruptError('the backup manifest is not JSON');
  }
  const m = v as Partial<Record<keyof BackupManifest, unknown>>;
  if (typeof v !== 'object' || v === null || m.format !== 'ciphergate-backup' || m.version !== 1 ||
    typeof m.createdAt !== 'string' || typeof m.gatewayVersion !== 'string' || typeof m.dataDir !== 'string' ||
    !Array.isArray(m.entries) || m.entries.length > MAX_ENTRIES) {
    throw new BackupCorruptError('the backup manifest is malformed');
  }
  const names = new Set<string>();
  const entries = m.entries.map((e: unknown) => {
    const entry = checkEntry(e);
    if (names.has(entry.name)) throw new BackupCorruptError(`the backup manifest lists ${entry.name} twice`);
    names.add(entry.name);
    return entry;
  });
  return { format: 'ciphergate-backup', version: 1, createdAt: m.createdAt, gatewayVersion: m.gatewayVersion, dataDir: m.dataDir, entries };
}

function checkEntry(e: unknown): ManifestEntry {
  const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
  const ok = typeof o.name === 'string' && isArchiveName(o.name) &&
    typeof o.role === 'string' && (ROLES as readonly string[]).includes(o.role) &&
    typeof o.size === 'number' && Number.isSafeInteger(o.size) && o.size >= 0 &&
    typeof o.sha256 === 'string' && /^[0-9a-f]{64}$/.test(o.sha256) &&
    typeof o.mode === 'number' && Number.isInteger(o.mode) && o.mode >= 0 && o.mode <= 0o777 &&
    (o.origin === undefined || typeof o.origin === 'string');
  if (!ok) throw new BackupCorruptError('the backup manifest has a malformed entry');
  return {
    name: o.name as string, role: o.role as BackupRole, size: o.size as number, sha256: o.sha256 as string, mode: o.mode as number,
    ...(typeof o.origin === 'string' && { origin: o.origin }),
  };
}

/**
 * A relative path of plain segments ([A-Za-z0-9._-], not "." or ".."): nothing in a backup can
 * name a file outside the directory it is restored into.
 */
export function isArchiveName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NAME) return false;
  for (const segment of name.split('/')) {
    if (segment === '' || segment === '.' || segment === '..' || segment.length > 255) return false;
    for (let i = 0; i < segment.length; i++) {
      const c = segment.charCodeAt(i);
      const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2e || c === 0x2d || c === 0x5f;
      if (!ok) return false;
    }
  }
  return true;
}
