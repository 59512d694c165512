/**
 * Call detail records: lifecycle (start, answer, end), dispositions, batching, retention, the
 * `cdr.enabled` switch, what is never stored (SDP, keys), and `ciphergate cdr list`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Database } from 'better-sqlite3';
import { CdrRetention, dispositionFor, openCdrs, SqliteCdrStore, CdrWriter, type OpenedCdrs } from '../../gateway/cdr';
import { cdrListCommand, parseSince } from '../../gateway/cli/cdr-list';
import type { CliIo } from '../../gateway/cli/command';
import { openDatabase } from '../../gateway/store/sqlite/database';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

describe('CDRs', () => {
  let dir: string;
  let db: Database;
  let store: SqliteCdrStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cdr-'));
    db = openDatabase(dir);
    store = new SqliteCdrStore(db);
  });
  afterEach(() => {
    if (db.open) db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('lifecycle', () => {
    it('records start, answer and end with the parties, trunk, disposition, status and billable time', () => {
      const w = new CdrWriter(store);
      const id = w.start({ direction: 'outbound', caller: 'alice', callee: '+33612345678', trunk: 'pbx', at: T0 });
      w.answer(id, { trunk: 'pbx-backup', at: T0 + 4_000 });
      w.end(id, { disposition: 'answered', status: 200, endedBy: 'caller', at: T0 + 65_500 });
      w.flush();
      assert.deepEqual(store.list(), [{
        id, direction: 'outbound', caller: 'alice', callee: '+33612345678', trunk: 'pbx-backup',
        startedAt: T0, answeredAt: T0 + 4_000, endedAt: T0 + 65_500, disposition: 'answered', status: 200, endedBy: 'caller', billableSec: 61,
      }]);
    });

    it('shows a call in progress without end, and an unanswered one with 0 billable seconds', () => {
      const w = new CdrWriter(store);
      const live = w.start({ direction: 'on-net', caller: 'alice', callee: 'bob', at: T0 });
      const busy = w.start({ direction: 'inbound', caller: '+33611111111', callee: 'bob', trunk: 'pbx', at: T0 + 1 });
      w.end(busy, { disposition: dispositionFor(486, false), status: 486, endedBy: 'callee', at: T0 + 2_000 });
      w.flush();
      const [b, l] = store.list();
      assert.equal(l.id, live);
      assert.equal(l.endedAt, undefined);
      assert.equal(l.billableSec, undefined);
      assert.equal(b.disposition, 'busy');
      assert.equal(b.billableSec, 0);
    });

    it('ignores unknown ids, a second answer and a second end', () => {
      const w = new CdrWriter(store);
      const id = w.start({ direction: 'on-net', caller: 'a', callee: 'b', at: T0 });
      w.answer(id, { at: T0 + 1000 });
      w.answer(id, { at: T0 + 9000 });
      w.end(id, { disposition: 'answered', status: 200, at: T0 + 2000 });
      w.end(id, { disposition: 'failed', status: 500, at: T0 + 3000 });
      w.answer('nope');
      w.end('nope', { disposition: 'failed', status: 500 });
      w.flush();
      const [r] = store.list();
      assert.equal(r.answeredAt, T0 + 1000);
      assert.equal(r.status, 200);
      assert.equal(store.list().length, 1);
    });

    it('maps final statuses to dispositions', () => {
      assert.equal(dispositionFor(200, true), 'answered');
      assert.equal(dispositionFor(486, false), 'busy');
      assert.equal(dispositionFor(600, false), 'busy');
      assert.equal(dispositionFor(487, false), 'no-answer');
      assert.equal(dispositionFor(480, false), 'no-answer');
      assert.equal(dispositionFor(503, false), 'failed');
      assert.equal(dispositionFor(404, false), 'failed');
    });

    it('commits a batch in one transaction after the delay, not per call', async () => {
      const w = new CdrWriter(store, { flushDelayMs: 20 });
      for (let i = 0; i < 50; i++) w.start({ direction: 'on-net', caller: `u${i}`, callee: 'bob' });
      assert.equal(store.list().length, 0, 'written before the batch delay');
      assert.equal(w.stats.pending, 50);
      await new Promise((r) => setTimeout(r, 60));
      assert.equal(store.list({ limit: 1000 }).length, 50);
      assert.equal(w.stats.written, 50);
    });

    it('never throws into the call when storage fails, and counts the failure', () => {
      const w = new CdrWriter(store);
      w.start({ direction: 'on-net', caller: 'a', callee: 'b' });
      db.close();
      assert.doesNotThrow(() => w.flush());
      assert.equal(w.stats.failures, 1);
    });
  });

  describe('what a record holds', () => {
    it('has only the documented columns: no SDP, no keys, no addresses, no SIP identifiers', () => {
      const columns = (db.prepare('PRAGMA table_info(cdrs)').all() as Array<{ name: string }>).map((c) => c.name).sort();
      assert.deepEqual(columns, ['answered_at', 'callee', 'caller', 'direction', 'disposition', 'ended_at', 'ended_by', 'id', 'started_at', 'status', 'trunk']);
    });

    it('stores nothing but the typed fields, even when a caller passes extra data', () => {
      const w = new CdrWriter(store);
      const sneaky = {
        direction: 'outbound' as const, caller: 'alice', callee: '+33612345678', trunk: 'pbx', at: T0,
        sdp: 'v=0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz',
      };
      const id = w.start(sneaky);
      w.end(id, { disposition: 'failed', status: 488, at: T0 + 1 });
      w.flush();
      const dump = JSON.stringify(db.prepare('SELECT * FROM cdrs').all());
      assert.doesNotMatch(dump, /inline:|a=crypto|v=0/);
    });

    it('drops control characters from parties and caps their length (they come from the network)', () => {
      const w = new CdrWriter(store);
      w.start({ direction: 'inbound', caller: '+3361\r\nFAKE LINE\u0007', callee: 'x'.repeat(500), at: T0 });
      w.flush();
      const [r] = store.list();
      assert.equal(r.caller, '+3361FAKE LINE');
      assert.equal(r.callee.length, 128);
    });
  });

  describe('retention and the enabled switch', () => {
    it('deletes records started before now - retentionDays, keeps the rest', () => {
      const w = new CdrWriter(store);
      w.start({ direction: 'on-net', caller: 'old', callee: 'b', at: T0 - 31 * DAY });
      w.start({ direction: 'on-net', caller: 'new', callee: 'b', at: T0 - 29 * DAY });
      w.flush();
      const retention = new CdrRetention({ store, retentionDays: 30, sweepIntervalSec: 3600, now: () => T0 });
      assert.equal(retention.sweep(), 1);
      assert.deepEqual(store.list().map((r) => r.caller), ['new']);
    });

    it('keeps everything with retentionDays 0', () => {
      const w = new CdrWriter(store);
      w.start({ direction: 'on-net', caller: 'ancient', callee: 'b', at: 0 });
      w.flush();
      assert.equal(new CdrRetention({ store, retentionDays: 0, sweepIntervalSec: 3600 }).sweep(), 0);
      assert.equal(store.list().length, 1);
    });

    it('writes nothing when cdr.enabled is false, but still ages old records out', () => {
      const w = new CdrWriter(store);
      w.start({ direction: 'on-net', caller: 'old', callee: 'b', at: T0 - 100 * DAY });
      w.flush();
      let opened: OpenedCdrs | undefined;
      try {
        opened = openCdrs(dir, { enabled: false, retentionDays: 90, sweepIntervalSec: 3600 }, { db, now: () => T0 });
        const id = opened.sink.start({ direction: 'on-net', caller: 'alice', callee: 'bob' });
        opened.sink.end(id, { disposition: 'answered', status: 200 });
        assert.equal(typeof id, 'string');
      } finally {
        opened?.close();
      }
      assert.deepEqual(store.list(), []);
    });

    it('writes through openCdrs when enabled and commits on close', () => {
      const opened = openCdrs(dir, { enabled: true, retentionDays: 90, sweepIntervalSec: 3600 }, { db });
      opened.sink.start({ direction: 'on-net', caller: 'alice', callee: 'bob' });
      opened.close();
      assert.equal(store.list().length, 1);
    });
  });

  describe('ciphergate cdr list', () => {
    function io(): { io: CliIo; out: () => string } {
      let text = '';
      const sink = new Writable({ write(c: Buffer, _e, done) { text += c.toString(); done(); } });
      return { io: { stdout: sink, stderr: sink, env: {}, cwd: dir }, out: () => text };
    }

    it('lists records newest first, with --since and --limit, and as JSON', async () => {
      const w = new CdrWriter(store);
      const a = w.start({ direction: 'outbound', caller: 'alice', callee: '+33612345678', trunk: 'pbx', at: Date.now() - 2 * DAY });
      w.end(a, { disposition: 'no-answer', status: 487, at: Date.now() - 2 * DAY + 5000 });
      w.start({ direction: 'on-net', caller: 'bob', callee: 'alice', at: Date.now() - 1000 });
      w.flush();
      db.close();

      const table = io();
      assert.equal(await cdrListCommand.run({ set: [`dataDir=${dir}`] }, table.io, []), 0);
      const lines = table.out().trim().split('\n');
      assert.match(lines[0], /^STARTED\s+DIRECTION\s+CALLER\s+CALLEE\s+TRUNK\s+DISPOSITION\s+STATUS\s+DURATION$/);
      assert.match(lines[1], /on-net\s+bob\s+alice/);
      assert.match(lines[2], /outbound\s+alice\s+\+33612345678\s+pbx\s+no-answer\s+487\s+0:00:00/);

      const recent = io();
      await cdrListCommand.run({ set: [`dataDir=${dir}`], since: '1d', json: true }, recent.io, []);
      const parsed = JSON.parse(recent.out()) as { cdrs: Array<{ caller: string }> };
      assert.deepEqual(parsed.cdrs.map((c) => c.caller), ['bob']);

      const one = io();
      await cdrListCommand.run({ set: [`dataDir=${dir}`], limit: '1', json: true }, one.io, []);
      assert.equal((JSON.parse(one.out()) as { cdrs: unknown[] }).cdrs.length, 1);
    });

    it('refuses a bad --since or --limit as a usage error', async () => {
      await assert.rejects(cdrListCommand.run({ since: 'yesterday-ish' }, io().io, []), /--since/);
      await assert.rejects(cdrListCommand.run({ limit: '0' }, io().io, []), /--limit/);
    });

    it('reads relative and absolute --since values', () => {
      assert.equal(parseSince('24h', T0), T0 - DAY);
      assert.equal(parseSince('7d', T0), T0 - 7 * DAY);
      assert.equal(parseSince('2025-01-15T12:00:00Z', 0), T0);
      assert.equal(parseSince('soon', T0), undefined);
    });
  });
});
