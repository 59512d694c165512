/** The SQLite backend: one connection to `<dataDir>/ciphergate.db` behind the AccountStore contract. */
import type { Database } from 'better-sqlite3';
import type { AccountStore } from '../types';
import { SqliteAdminTokenStore, SqliteCertBindingStore } from './bindings';
import { openDatabase, type OpenDatabaseOptions } from './database';
import { SqliteRegistrationStore } from './registrations';
import { SqliteSecretStore } from './secrets';
import { SqliteUserStore } from './users';

export class SqliteStore implements AccountStore {
  readonly users: SqliteUserStore;
  readonly secrets: SqliteSecretStore;
  readonly registrations: SqliteRegistrationStore;
  readonly certs: SqliteCertBindingStore;
  readonly adminTokens: SqliteAdminTokenStore;

  private constructor(private readonly db: Database) {
    this.users = new SqliteUserStore(db);
    this.secrets = new SqliteSecretStore(db);
    this.registrations = new SqliteRegistrationStore(db);
    this.certs = new SqliteCertBindingStore(db);
    this.adminTokens = new SqliteAdminTokenStore(db);
  }

  /** Opens (creating and migrating as needed). Idempotent on an up-to-date file. */
  static open(dataDir: string, options?: OpenDatabaseOptions): SqliteStore {
    return new SqliteStore(openDatabase(dataDir, options));
  }

  /** Applied schema version (the highest row of schema_version). */
  schemaVersion(): number {
    return this.db.prepare<[], { v: number | null }>('SELECT max(version) AS v FROM schema_version').get()?.v ?? 0;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
