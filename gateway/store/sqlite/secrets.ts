/**
 * SQLite SecretStore. Every replacement or wipe overwrites the old bytes with zeros before the
 * delete and truncates the WAL after the commit (database.ts), so a replaced HA1 or a used OTP
 * verifier leaves no copy in ciphergate.db or ciphergate.db-wal.
 */
import type { Database, Statement } from 'better-sqlite3';
import { StoreNotFoundError } from '../errors';
import type { Ha1Algorithm, OtpRecord, SealedHa1, SecretKind, SecretStore } from '../types';
import { truncateWal, wipeRows } from './database';

const KEY_CHECK = 'master-key-check';

interface Ha1Row {
  algorithm: Ha1Algorithm;
  realm: string;
  sealed: Buffer;
}

interface OtpRow {
  mac: Buffer;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export class SqliteSecretStore implements SecretStore {
  private readonly userExists: Statement<[string], { one: number }>;
  private readonly ha1: Statement<[string, string], Ha1Row>;
  private readonly insertHa1: Statement<[string, string, string, Buffer]>;
  private readonly otp: Statement<[string], OtpRow>;

  constructor(private readonly db: Database) {
    this.userExists = db.prepare('SELECT 1 AS one FROM users WHERE name = ?');
    this.ha1 = db.prepare('SELECT algorithm, realm, sealed FROM ha1s WHERE user_name = ? AND algorithm = ?');
    this.insertHa1 = db.prepare('INSERT INTO ha1s (user_name, algorithm, realm, sealed) VALUES (?, ?, ?, ?)');
    this.otp = db.prepare('SELECT mac, created_at, expires_at, used_at FROM otps WHERE user_name = ?');
  }

  async putHa1s(name: string, ha1s: readonly SealedHa1[]): Promise<void> {
    this.db.transaction(() => {
      this.assertUser(name);
      wipeRows(this.db, 'ha1s', 'sealed', 'user_name = ?', [name]);
      for (const h of ha1s) this.insertHa1.run(name, h.algorithm, h.realm, h.sealed);
    }).immediate();
    truncateWal(this.db);
  }

  async getHa1(name: string, algorithm: Ha1Algorithm): Promise<SealedHa1 | undefined> {
    const row = this.ha1.get(name, algorithm);
    return row && { algorithm: row.algorithm, realm: row.realm, sealed: row.sealed };
  }

  async hasHa1s(name: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM ha1s WHERE user_name = ? LIMIT 1').get(name) !== undefined;
  }

  async putOtp(name: string, otp: OtpRecord): Promise<void> {
    this.db.transaction(() => {
      this.assertUser(name);
      wipeRows(this.db, 'otps', 'mac', 'user_name = ?', [name]);
      this.db
        .prepare('INSERT INTO otps (user_name, mac, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?)')
        .run(name, otp.mac, otp.createdAt, otp.expiresAt, otp.usedAt ?? null);
    }).immediate();
    truncateWal(this.db);
  }

  async getOtp(name: string): Promise<OtpRecord | undefined> {
    const row = this.otp.get(name);
    if (row === undefined) return undefined;
    return {
      mac: row.mac,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      ...(row.used_at !== null && { usedAt: row.used_at }),
    };
  }

  async consumeOtp(name: string, mac: Buffer, now: number): Promise<boolean> {
    // The caller has already compared the MAC in constant time; matching it here again makes the
    // update apply to that very verifier, not to one a concurrent reset put in its place.
    const changes = this.db
      .prepare('UPDATE otps SET used_at = ? WHERE user_name = ? AND mac = ? AND used_at IS NULL AND expires_at > ?')
      .run(now, name, mac, now).changes;
    return changes === 1;
  }

  async wipe(name: string, kind: SecretKind): Promise<void> {
    this.db.transaction(() => {
      if (kind !== 'otp') wipeRows(this.db, 'ha1s', 'sealed', 'user_name = ?', [name]);
      if (kind !== 'ha1') wipeRows(this.db, 'otps', 'mac', 'user_name = ?', [name]);
    }).immediate();
    truncateWal(this.db);
  }

  async getKeyCheck(): Promise<Buffer | undefined> {
    const row = this.db.prepare<[string], { value: Buffer }>('SELECT value FROM meta WHERE name = ?').get(KEY_CHECK);
    return row?.value;
  }

  async setKeyCheck(value: Buffer): Promise<void> {
    this.db
      .prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value')
      .run(KEY_CHECK, value);
  }

  private assertUser(name: string): void {
    if (this.userExists.get(name) === undefined) throw new StoreNotFoundError(`no user "${name}" to hold secrets`);
  }
}
