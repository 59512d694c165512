/**
 * The stored messages in SQLite: durable before `insert` resolves (group commit), a failed row
 * does not sink its batch, erasure zeroes then deletes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { nullLogger } from '../../gateway/log/logger';
import { MessageStore, openMessagingDatabase, type StoredMessageMeta } from '../../gateway/messaging';
import { databasePath } from '../../gateway/store';

function meta(seq: number, recipient = 'bob'): StoredMessageMeta {
  return { seq, id: `id-${seq}`, recipient, size: 3, createdAt: 1, expiresAt: 2, devices: new Map([['dev', { required: true, state: 'pending' }]]) };
}

describe('Messaging: message store (SQLite, group commit)', () => {
  let dir: string;
  let db: Database;
  let store: MessageStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-msgstore-'));
    db = openMessagingDatabase(dir);
    db.prepare("INSERT INTO users (name, state, may_call_off_net, may_call_international, created_at, updated_at) VALUES ('bob', 'active', 0, 0, 0, 0)").run();
    store = new MessageStore(db, { log: nullLogger });
  });
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** What another process would see in the file now. */
  function committedSeqs(): number[] {
    const other = new BetterSqlite3(databasePath(dir), { readonly: true });
    try {
      return other.prepare<[], { seq: number }>('SELECT seq FROM messages ORDER BY seq').all().map((r) => r.seq);
    } finally {
      other.close();
    }
  }

  it('MUST have committed a message when insert resolves, and batches one turn\'s inserts in one transaction', async () => {
    let transactions = 0;
    const original = db.transaction.bind(db);
    db.transaction = ((fn: (...a: unknown[]) => unknown) => {
      transactions++;
      return original(fn);
    }) as typeof db.transaction;
    const inserts = [1, 2, 3].map((s) => store.insert(meta(s), Buffer.from([s, s, s])).then(() => committedSeqs()));
    assert.deepEqual(committedSeqs(), [], 'nothing is written synchronously');
    const seen = await Promise.all(inserts);
    for (const s of seen) assert.deepEqual(s, [1, 2, 3], 'visible to another connection at resolve time');
    assert.equal(transactions, 1, 'one transaction (one fsync) for the batch');
    const loaded = store.loadAll();
    assert.deepEqual(loaded.map((m) => m.seq), [1, 2, 3]);
    assert.deepEqual(loaded[0]!.devices.get('dev'), { required: true, state: 'pending' });
    assert.equal(store.maxSeq(), 3);
  });

  it('a row that breaks a constraint fails alone; the rest of the batch commits', async () => {
    const good = store.insert(meta(1), Buffer.from('a'));
    const bad = store.insert(meta(2, 'nobody'), Buffer.from('b'));
    await good;
    await assert.rejects(bad);
    assert.deepEqual(committedSeqs(), [1]);
  });

  it('MUST zero the ciphertext before deleting the row (secure_delete on)', async () => {
    const marker = Buffer.from('ciphertext-marker-0123456789abcdef');
    await store.insert(meta(1), marker);
    store.remove(1);
    store.flush();
    assert.deepEqual(committedSeqs(), []);
    assert.equal(db.pragma('secure_delete', { simple: true }), 1);
    assert.equal(store.readSealed(1), undefined);
    const n = store.eraseRecipient('bob'); // also truncates the WAL
    assert.equal(n, 0);
    for (const f of [databasePath(dir), `${databasePath(dir)}-wal`]) {
      if (fs.existsSync(f)) assert.equal(fs.readFileSync(f).includes(marker), false, f);
    }
  });

  it('device states are upserted, and ignored for a removed message', async () => {
    await store.insert(meta(1), Buffer.from('x'));
    store.setDevice(1, 'dev', { required: true, state: 'delivered' });
    store.setDevice(1, 'other', { required: false, state: 'refused' });
    store.remove(1);
    store.setDevice(1, 'late', { required: false, state: 'delivered' });
    store.flush();
    assert.equal((db.prepare('SELECT count(*) AS n FROM message_deliveries').get() as { n: number }).n, 0);
  });
});
