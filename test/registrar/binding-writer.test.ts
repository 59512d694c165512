/**
 * The binding write-behind on its own SQLite connection (gateway/registrar/persistence.ts,
 * SqliteRegistrationStore.open): one transaction per slice with a savepoint per change,
 * synchronous=NORMAL on that connection only, the accounts connection's settings (secure_delete)
 * applied to it, and everything queued written by close().
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { nullLogger, type LogFields, type Logger } from '../../gateway/log/logger';
import { BindingWriter } from '../../gateway/registrar/persistence';
import { databasePath, SqliteStore, type RegistrationBinding, type UserRecord } from '../../gateway/store';
import { SqliteRegistrationStore } from '../../gateway/store/sqlite/registrations';
import { filesContaining, makeDataDir, readAllFiles, removeDataDir } from '../store/fixtures';

const T0 = 1_700_000_000_000;
const AOR = 'sip:alice@ciphergate.test';

function user(name: string): UserRecord {
  return { name, state: 'active', mayCallOffNet: false, mayCallInternational: false, createdAt: T0, updatedAt: T0 };
}

function binding(n: number, over: Partial<RegistrationBinding> = {}): RegistrationBinding {
  return {
    aor: AOR, contact: `sip:alice@192.0.2.${n}:5061;transport=tls`, user: 'alice', callId: `c${n}@test`, cseq: 1,
    expiresAt: T0 + 3600_000, transport: 'TLS', remoteAddress: `192.0.2.${n}`, remotePort: 50_000 + n, flowId: `tls-${n}`,
    path: [], registeredAt: T0, updatedAt: T0, ...over,
  };
}

/**
 * Commits in the write-ahead log since it was last reset: frames whose salts match the header's
 * and whose "database size after commit" field is non-zero (https://sqlite.org/fileformat2.html#walformat).
 */
function walCommits(dataDir: string): number {
  let wal: Buffer;
  try {
    wal = readFileSync(`${databasePath(dataDir)}-wal`);
  } catch {
    return 0;
  }
  if (wal.length < 32) return 0;
  const pageSize = wal.readUInt32BE(8);
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let commits = 0;
  for (let off = 32; off + 24 + pageSize <= wal.length; off += 24 + pageSize) {
    if (wal.readUInt32BE(off + 8) !== salt1 || wal.readUInt32BE(off + 12) !== salt2) break;
    if (wal.readUInt32BE(off + 4) !== 0) commits++;
  }
  return commits;
}

/** A Logger that keeps the error entries' fields. */
function recordingLogger(errors: LogFields[]): Logger {
  const log: Logger = { ...nullLogger, error: (_msg, fields) => void errors.push(fields ?? {}), child: () => log };
  return log;
}

describe('registrar: binding write-behind on its own connection', () => {
  let dataDir: string;
  let accounts: SqliteStore;
  let writes: SqliteRegistrationStore;
  beforeEach(async () => {
    dataDir = makeDataDir();
    accounts = SqliteStore.open(dataDir, { now: () => T0 });
    await accounts.users.create(user('alice'));
    writes = SqliteRegistrationStore.open(dataDir);
  });
  afterEach(async () => {
    writes.close();
    await accounts.close();
    removeDataDir(dataDir);
  });

  describe('durability of the connection', () => {
    it('MUST commit bindings with synchronous=NORMAL while the accounts connection keeps FULL', () => {
      assert.equal(writes.synchronous(), 'NORMAL');
      assert.equal(accounts.registrations.synchronous(), 'FULL');
    });

    it('MUST apply secure_delete on that connection: a removed binding leaves no bytes in the files', async () => {
      const marker = `marker-${Date.now()}-agent`;
      await writes.upsert(binding(1, { userAgent: marker }));
      const w = new BindingWriter(writes, nullLogger);
      w.remove(AOR, binding(1).contact);
      await w.close();
      assert.equal(w.writes, 1);
      writes.close();
      await accounts.close(); // the last connection checkpoints and deletes the -wal
      assert.deepEqual(filesContaining(readAllFiles(dataDir), Buffer.from(marker)), []);
      accounts = SqliteStore.open(dataDir);
      writes = SqliteRegistrationStore.open(dataDir);
    });

    it('MUST close its connection on close(), and only its own', async () => {
      writes.close();
      assert.equal(writes.open, false);
      accounts.registrations.close();
      assert.deepEqual(await accounts.registrations.list(), [], 'the accounts connection is still usable');
    });
  });

  describe('RFC 3261 §10.3 bindings: one transaction per slice', () => {
    it('MUST write a slice of changes with one commit', async () => {
      const before = walCommits(dataDir);
      const w = new BindingWriter(writes, nullLogger, { sliceSize: 64 });
      for (let n = 1; n <= 20; n++) w.upsert(binding(n));
      await w.flush();
      assert.equal(w.writes, 20);
      assert.equal(w.commits, 1);
      assert.equal(walCommits(dataDir) - before, 1, 'one commit record in the write-ahead log');
      assert.equal((await accounts.registrations.list(AOR)).length, 20, 'visible to the accounts connection');
    });

    it('MUST still cut the queue into slices of sliceSize, one transaction each', async () => {
      const before = walCommits(dataDir);
      const w = new BindingWriter(writes, nullLogger, { sliceSize: 8 });
      for (let n = 1; n <= 20; n++) w.upsert(binding(n));
      await w.flush();
      assert.equal(w.commits, 3);
      assert.equal(walCommits(dataDir) - before, 3);
      assert.equal(w.pending, 0);
    });

    it('MUST drain on later turns of the event loop without a flush', async () => {
      const w = new BindingWriter(writes, nullLogger, { sliceSize: 4 });
      for (let n = 1; n <= 10; n++) w.upsert(binding(n));
      assert.equal(w.pending, 10, 'nothing is written in the request path');
      for (let turn = 0; turn < 50 && w.writes < 10; turn++) await new Promise((r) => setImmediate(r));
      assert.equal(w.writes, 10);
      assert.equal(w.commits, 3);
    });
  });

  describe('a failing change inside a slice', () => {
    it('MUST roll back only that change: the others of the slice commit, the failure is counted and logged by name', async () => {
      let failures = 0;
      const errors: LogFields[] = [];
      const w = new BindingWriter(writes, recordingLogger(errors), { onFailure: () => failures++ });
      w.upsert(binding(1));
      w.upsert(binding(2, { path: Array.from({ length: 33 }, (_, i) => `<sip:p${i}.test;lr>`) })); // over the Path bound
      w.upsert(binding(3));
      await w.flush();
      assert.deepEqual((await accounts.registrations.list(AOR)).map((b) => b.remoteAddress).sort(), ['192.0.2.1', '192.0.2.3']);
      assert.equal(failures, 1);
      assert.equal(w.writes, 2);
      assert.deepEqual(errors, [{ aor: AOR, error: 'StoreError' }]);
    });

    it('MUST undo the whole failed change: an RFC 5626 §6 flow replacement whose insert fails keeps the old flow', async () => {
      const instance = '"<urn:uuid:00000000-0000-4000-8000-000000000001>"';
      await writes.upsert(binding(1, { instanceId: instance, regId: 1 }));
      let failures = 0;
      const w = new BindingWriter(writes, nullLogger, { onFailure: () => failures++ });
      // Same instance and reg-id from a new contact: the old row is deleted first, then the
      // insert breaks the remote_port CHECK; the savepoint must bring the old row back.
      w.upsert(binding(2, { instanceId: instance, regId: 1, remotePort: 70_000 }));
      w.upsert(binding(3));
      await w.flush();
      assert.equal(failures, 1);
      assert.deepEqual((await accounts.registrations.list(AOR)).map((b) => b.remoteAddress).sort(), ['192.0.2.1', '192.0.2.3']);
    });

    it('MUST skip a change for a removed user (StoreNotFoundError) without counting a failure', async () => {
      let failures = 0;
      const errors: LogFields[] = [];
      const w = new BindingWriter(writes, recordingLogger(errors), { onFailure: () => failures++ });
      w.upsert(binding(1, { aor: 'sip:mallory@ciphergate.test', user: 'mallory' }));
      w.upsert(binding(2));
      await w.flush();
      assert.equal(failures, 0);
      assert.deepEqual(errors, []);
      assert.deepEqual((await accounts.registrations.list()).map((b) => b.user), ['alice']);
    });

    it('MUST count every change of a slice as failed when its transaction cannot start (lock held past the busy timeout)', async () => {
      writes.close();
      writes = SqliteRegistrationStore.open(dataDir, { busyTimeoutMs: 20 });
      const other = new BetterSqlite3(databasePath(dataDir));
      let failures = 0;
      const errors: LogFields[] = [];
      try {
        other.exec('BEGIN IMMEDIATE');
        const w = new BindingWriter(writes, recordingLogger(errors), { onFailure: () => failures++ });
        for (let n = 1; n <= 5; n++) w.upsert(binding(n));
        await w.flush();
        assert.equal(failures, 5);
        assert.equal(w.writes, 0);
        assert.deepEqual(errors, [{ changes: 5, error: 'SqliteError' }]);
      } finally {
        if (other.inTransaction) other.exec('ROLLBACK');
        other.close();
      }
      assert.deepEqual(await accounts.registrations.list(), []);
    });
  });

  describe('stop', () => {
    it('MUST write everything queued on close(), then refuse new changes', async () => {
      const w = new BindingWriter(writes, nullLogger, { sliceSize: 8 });
      for (let n = 1; n <= 30; n++) w.upsert(binding(n));
      w.remove(AOR, binding(30).contact);
      await w.close();
      assert.equal(w.pending, 0);
      assert.equal((await accounts.registrations.list(AOR)).length, 29);
      w.upsert(binding(31));
      assert.equal(w.pending, 0, 'a closed writer takes nothing');
    });
  });
});
