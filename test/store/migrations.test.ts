import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { statSync } from 'node:fs';
import { MIGRATIONS, SchemaVersionError, SqliteStore, StoreError, databasePath, type Migration } from '../../gateway/store';
import { openDatabase } from '../../gateway/store/sqlite/database';
import { makeDataDir, removeDataDir } from './fixtures';

const T0 = 1_700_000_000_000;

describe('store: SQLite file, settings and schema migrations', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = makeDataDir();
  });
  afterEach(() => removeDataDir(dataDir));

  describe('connection settings', () => {
    it('MUST run with WAL, secure_delete, foreign keys and synchronous=FULL', () => {
      const db = openDatabase(dataDir);
      try {
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
        assert.equal(db.pragma('secure_delete', { simple: true }), 1);
        assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
        assert.equal(db.pragma('synchronous', { simple: true }), 2, 'FULL');
        assert.equal(db.pragma('trusted_schema', { simple: true }), 0);
        assert.equal(db.pragma('temp_store', { simple: true }), 2, 'MEMORY');
      } finally {
        db.close();
      }
    });

    it('MUST create <dataDir>/ciphergate.db with mode 0600', async () => {
      const store = SqliteStore.open(dataDir);
      await store.close();
      assert.equal(statSync(databasePath(dataDir)).mode & 0o777, 0o600);
    });
  });

  describe('migrations', () => {
    it('MUST bring an empty database to the latest version with every table', async () => {
      const store = SqliteStore.open(dataDir, { now: () => T0 });
      assert.equal(store.schemaVersion(), MIGRATIONS.length);
      await store.close();
      const db = new BetterSqlite3(databasePath(dataDir), { readonly: true });
      try {
        const tables = db
          .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
          .all()
          .map((r) => r.name);
        for (const t of ['admin_tokens', 'cert_bindings', 'ha1s', 'meta', 'otps', 'registrations', 'schema_version', 'users']) {
          assert.ok(tables.includes(t), `table ${t}`);
        }
        const rows = db.prepare('SELECT version, applied_at FROM schema_version').all();
        assert.deepEqual(rows, MIGRATIONS.map((m) => ({ version: m.version, applied_at: T0 })));
      } finally {
        db.close();
      }
    });

    it('MUST be idempotent: re-opening applies nothing and keeps the data', async () => {
      const first = SqliteStore.open(dataDir, { now: () => T0 });
      await first.users.create(user('alice'));
      await first.close();
      const second = SqliteStore.open(dataDir, { now: () => T0 + 1 });
      assert.equal(second.schemaVersion(), MIGRATIONS.length);
      assert.equal((await second.users.get('alice'))?.name, 'alice');
      await second.close();
      const db = new BetterSqlite3(databasePath(dataDir), { readonly: true });
      try {
        const row = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM schema_version').get();
        assert.equal(row?.n, MIGRATIONS.length);
      } finally {
        db.close();
      }
    });

    it('MUST apply only the pending migrations of a longer list, in order', async () => {
      const first = SqliteStore.open(dataDir, { now: () => T0 });
      await first.close();
      const calls: number[] = [];
      const extended: Migration[] = [
        ...MIGRATIONS,
        { version: MIGRATIONS.length + 1, description: 'test column', up: 'ALTER TABLE users ADD COLUMN note TEXT' },
        { version: MIGRATIONS.length + 2, description: 'test function', up: () => calls.push(MIGRATIONS.length + 2) },
      ];
      const db = openDatabase(dataDir, { migrations: extended, now: () => T0 + 5 });
      try {
        const cols = db.prepare<[], { name: string }>('PRAGMA table_info(users)').all().map((c) => c.name);
        assert.ok(cols.includes('note'));
        assert.deepEqual(calls, [MIGRATIONS.length + 2]);
        const versions = db.prepare<[], { version: number }>('SELECT version FROM schema_version ORDER BY version').all();
        assert.deepEqual(versions.map((v) => v.version), extended.map((m) => m.version));
      } finally {
        db.close();
      }
      const again = openDatabase(dataDir, { migrations: extended });
      again.close();
      assert.equal(calls.length, 1, 'a function migration runs once');
    });

    it("MUST carry CDR rows from version 3 into version 4, which adds the disposition 'transferred'", () => {
      const v3 = MIGRATIONS.slice(0, 3);
      const old = openDatabase(dataDir, { migrations: v3, now: () => T0 });
      const insert = (db: BetterSqlite3.Database, id: string, disposition: string): unknown =>
        db.prepare("INSERT INTO cdrs (id, direction, caller, callee, started_at, ended_at, disposition, status, ended_by) VALUES (?, 'outbound', 'alice', '+34911000001', 1, 2, ?, 200, 'caller')").run(id, disposition);
      try {
        insert(old, 'cdr-1', 'answered');
        assert.throws(() => insert(old, 'cdr-2', 'transferred'), /CHECK constraint/, 'version 3 refuses it');
      } finally {
        old.close();
      }
      const db = openDatabase(dataDir, { now: () => T0 + 1 });
      try {
        insert(db, 'cdr-2', 'transferred');
        const rows = db.prepare<[], { id: string; disposition: string }>('SELECT id, disposition FROM cdrs ORDER BY id').all();
        assert.deepEqual(rows, [{ id: 'cdr-1', disposition: 'answered' }, { id: 'cdr-2', disposition: 'transferred' }]);
        assert.throws(() => insert(db, 'cdr-3', 'lost'), /CHECK constraint/, 'other values are still refused');
        const index = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'cdrs' AND name = 'cdrs_started'").get();
        assert.ok(index, 'the started_at index is rebuilt');
      } finally {
        db.close();
      }
    });

    it('MUST roll back a failing migration entirely', async () => {
      const broken: Migration[] = [
        ...MIGRATIONS,
        { version: MIGRATIONS.length + 1, description: 'broken', up: 'CREATE TABLE half (x INTEGER); SELECT no_such_function();' },
      ];
      assert.throws(() => openDatabase(dataDir, { migrations: broken }));
      const db = openDatabase(dataDir);
      try {
        assert.equal(db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'half'").get(), undefined);
        const row = db.prepare<[], { v: number }>('SELECT max(version) AS v FROM schema_version').get();
        assert.equal(row?.v, MIGRATIONS.length);
      } finally {
        db.close();
      }
    });

    it('MUST refuse a database written by a newer schema', async () => {
      const newer: Migration[] = [...MIGRATIONS, { version: MIGRATIONS.length + 1, description: 'future', up: 'SELECT 1' }];
      openDatabase(dataDir, { migrations: newer }).close();
      assert.throws(() => SqliteStore.open(dataDir), (err: unknown) => {
        assert.ok(err instanceof SchemaVersionError);
        assert.match(err.message, /newer than this build/);
        return true;
      });
    });

    it('MUST reject a migration list that is not numbered 1..n', () => {
      const gap: Migration[] = [{ version: 2, description: 'gap', up: 'SELECT 1' }];
      assert.throws(() => openDatabase(dataDir, { migrations: gap }), StoreError);
    });
  });
});

function user(name: string) {
  return {
    name,
    state: 'active' as const,
    mayCallOffNet: false,
    mayCallInternational: false,
    createdAt: T0,
    updatedAt: T0,
  };
}
