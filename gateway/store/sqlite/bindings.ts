/** SQLite CertBindingStore and AdminTokenStore. See types.ts for the contracts. */
import type { Database } from 'better-sqlite3';
import { StoreConflictError, StoreNotFoundError } from '../errors';
import type { AdminTokenRecord, AdminTokenStore, CertBinding, CertBindingStore } from '../types';
import { truncateWal, wipeRows } from './database';

interface CertRow {
  fingerprint: string;
  user_name: string;
  created_at: number;
}

const toCert = (r: CertRow): CertBinding => ({ user: r.user_name, fingerprint: r.fingerprint, createdAt: r.created_at });

export class SqliteCertBindingStore implements CertBindingStore {
  constructor(private readonly db: Database) {}

  async bind(b: CertBinding): Promise<void> {
    this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM users WHERE name = ?').get(b.user) === undefined) {
        throw new StoreNotFoundError(`no user "${b.user}" to bind a certificate to`);
      }
      const holder = this.db
        .prepare<[string], { user_name: string }>('SELECT user_name FROM cert_bindings WHERE fingerprint = ?')
        .get(b.fingerprint);
      if (holder !== undefined && holder.user_name !== b.user) {
        throw new StoreConflictError(`the certificate is already bound to user "${holder.user_name}"`, 'fingerprint');
      }
      if (holder === undefined) {
        this.db
          .prepare('INSERT INTO cert_bindings (fingerprint, user_name, created_at) VALUES (?, ?, ?)')
          .run(b.fingerprint, b.user, b.createdAt);
      }
    }).immediate();
  }

  async unbind(user: string, fingerprint: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM cert_bindings WHERE user_name = ? AND fingerprint = ?').run(user, fingerprint).changes === 1;
  }

  async listFor(user: string): Promise<CertBinding[]> {
    return this.db
      .prepare<[string], CertRow>('SELECT fingerprint, user_name, created_at FROM cert_bindings WHERE user_name = ? ORDER BY created_at, fingerprint')
      .all(user)
      .map(toCert);
  }

  async userFor(fingerprint: string): Promise<string | undefined> {
    return this.db
      .prepare<[string], { user_name: string }>('SELECT user_name FROM cert_bindings WHERE fingerprint = ?')
      .get(fingerprint)?.user_name;
  }
}

interface TokenRow {
  id: string;
  mac: Buffer;
  label: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

const TOKEN_COLUMNS = 'id, mac, label, created_at, expires_at, last_used_at';

const toToken = (r: TokenRow): AdminTokenRecord => ({
  id: r.id,
  mac: r.mac,
  label: r.label,
  createdAt: r.created_at,
  ...(r.expires_at !== null && { expiresAt: r.expires_at }),
  ...(r.last_used_at !== null && { lastUsedAt: r.last_used_at }),
});

export class SqliteAdminTokenStore implements AdminTokenStore {
  constructor(private readonly db: Database) {}

  async create(t: AdminTokenRecord): Promise<void> {
    this.db.transaction(() => {
      const clash = this.db.prepare('SELECT 1 FROM admin_tokens WHERE id = ? OR mac = ?').get(t.id, t.mac);
      if (clash !== undefined) throw new StoreConflictError(`admin token "${t.id}" already exists`, 'token');
      this.db
        .prepare(`INSERT INTO admin_tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(t.id, t.mac, t.label, t.createdAt, t.expiresAt ?? null, t.lastUsedAt ?? null);
    }).immediate();
  }

  /** Lookup by an HMAC of a 256-bit random token: its timing reveals nothing usable. */
  async findByMac(mac: Buffer): Promise<AdminTokenRecord | undefined> {
    const row = this.db.prepare<[Buffer], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM admin_tokens WHERE mac = ?`).get(mac);
    return row && toToken(row);
  }

  async list(): Promise<AdminTokenRecord[]> {
    return this.db.prepare<[], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM admin_tokens ORDER BY created_at, id`).all().map(toToken);
  }

  async touch(id: string, now: number): Promise<void> {
    this.db.prepare('UPDATE admin_tokens SET last_used_at = ? WHERE id = ?').run(now, id);
  }

  async remove(id: string): Promise<boolean> {
    const n = this.db.transaction(() => wipeRows(this.db, 'admin_tokens', 'mac', 'id = ?', [id])).immediate();
    if (n > 0) truncateWal(this.db);
    return n > 0;
  }
}
