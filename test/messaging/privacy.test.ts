/**
 * What the store keeps, for how long, and what leaves no trace: encryption at rest, TTL expiry,
 * confidential mode, blocked users, destroy-keys.
 */
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { nullAudit } from '../../gateway/admin/audit';
import { AdminActions } from '../../gateway/admin/http/actions';
import { MessagingAdmin } from '../../gateway/messaging';
import { DOMAIN, filesContain, openMessagingHarness, until, type MessagingHarness } from './harness';

const DAY = 24 * 60 * 60 * 1000;
const BY = { actor: 'cli:test', source: 'local' };

describe('Messaging: privacy and retention', function () {
  this.timeout(30_000);
  let h: MessagingHarness;

  beforeEach(async () => {
    h = await openMessagingHarness({ onlineTimeoutMs: 500 });
  });
  afterEach(async () => {
    await h?.close();
  });

  /** The sealed column of every stored message, read from the file by another connection. */
  function sealedValues(): Buffer[] {
    h.messaging.flush();
    const db = new BetterSqlite3(h.dbFiles()[0]!, { readonly: true });
    try {
      return db.prepare<[], { sealed: Buffer }>('SELECT sealed FROM messages').all().map((r) => r.sealed);
    } finally {
      db.close();
    }
  }

  function actions(): AdminActions {
    const admin = new MessagingAdmin({
      groups: h.messaging.groups, policies: h.messaging.policies, erase: (n) => h.messaging.eraseUser(n),
      audit: nullAudit, maxGroupMembers: 10, aorOf: (n) => `sip:${n}@${DOMAIN}`,
    });
    return new AdminActions({ users: h.users, registrar: h.registrar, audit: nullAudit, otpTtlMs: 3_600_000, messaging: admin });
  }

  describe('encryption at rest (AES-256-GCM)', () => {
    it('MUST keep only ciphertext: neither body nor sender appears in the database files', async () => {
      const body = `plaintext-scan-${Date.now()}`;
      assert.equal((await (await h.ua('alice')).send('bob', body)).status, 202);
      const [sealed] = sealedValues();
      assert.ok(sealed !== undefined && sealed.length >= body.length + 29, 'version, IV, ciphertext, tag');
      assert.equal(filesContain(h.dbFiles(), Buffer.from(body)), false);
      assert.equal(sealed.includes(Buffer.from('alice')), false, 'the sender is inside the envelope');
    });
  });

  describe('TTL (default 7 days)', () => {
    it('MUST erase a stored message once its TTL ran out, undelivered', async () => {
      assert.equal((await (await h.ua('alice')).send('bob', 'too late')).status, 202);
      h.clock.now += 7 * DAY - 1000;
      assert.equal(h.messaging.sweep(), 0);
      h.clock.now += 2000;
      assert.equal(h.messaging.sweep(), 1);
      assert.equal(h.messaging.storedCount(), 0);
      assert.equal(sealedValues().length, 0);
      const bob = await h.online('bob');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(bob.received.length, 0);
      assert.equal(h.messaging.stats.expired, 1);
    });

    it('does not deliver an expired message still awaiting the sweep', async () => {
      assert.equal((await (await h.ua('alice')).send('bob', 'stale')).status, 202);
      h.clock.now += 8 * DAY;
      const bob = await h.online('bob');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(bob.received.length, 0);
    });
  });

  describe('confidential mode', () => {
    it('MUST answer 480 for an offline recipient and store nothing (Ciphergate-Confidential: 1)', async () => {
      const res = await (await h.ua('alice')).send('bob', 'burn after reading', { headers: [['Ciphergate-Confidential', '1']] });
      assert.equal(res.status, 480);
      assert.equal(h.messaging.storedCount(), 0);
      assert.equal(sealedValues().length, 0);
      assert.equal(h.messaging.stats.confidentialUnavailable, 1);
    });

    it('delivers to an online recipient, marked confidential', async () => {
      const bob = await h.online('bob');
      const res = await (await h.ua('alice')).send('bob', 'eyes only', { headers: [['Ciphergate-Confidential', '1']] });
      assert.equal(res.status, 200);
      await bob.waitReceived(1);
      assert.equal(bob.received[0].request.headers.get('Ciphergate-Confidential'), '1');
    });

    it('is never stored for a device that does not answer: 480, not 202', async () => {
      const bob = await h.online('bob');
      bob.answering = false;
      const res = await (await h.ua('alice')).send('bob', 'no second chance', { headers: [['Ciphergate-Confidential', '1']] });
      assert.equal(res.status, 480);
      assert.equal(h.messaging.storedCount(), 0);
    });

    it('applies to every message to or from a user with the confidential policy', async () => {
      h.messaging.policies.setConfidential('bob', true, h.clock.now);
      const alice = await h.ua('alice');
      assert.equal((await alice.send('bob', 'to a confidential user')).status, 480);
      const bob = await h.ua('bob');
      assert.equal((await bob.send('carol', 'from a confidential user')).status, 480);
      assert.equal(h.messaging.storedCount(), 0);
      h.messaging.policies.setConfidential('bob', false, h.clock.now);
      assert.equal((await alice.send('bob', 'ordinary again')).status, 202);
    });
  });

  describe('blocked users and destroy-keys', () => {
    it('keeps a blocked user\'s stored messages encrypted and does not deliver them', async () => {
      assert.equal((await (await h.ua('alice')).send('bob', 'while blocked')).status, 202);
      await actions().block(BY, 'bob');
      assert.equal((await (await h.ua('alice')).send('bob', 'also kept')).status, 202, 'a blocked user looks offline');
      const bob = await h.ua('bob');
      assert.equal(await bob.register(), 403);
      assert.equal(h.messaging.storedCount('bob'), 2, 'kept');
      await actions().unblock(BY, 'bob');
      const back = await h.online('bob');
      await back.waitReceived(2);
      assert.deepEqual(back.bodies(), ['while blocked', 'also kept']);
    });

    it('MUST erase the user\'s stored messages on destroy-keys, ciphertext included (WAL truncated)', async () => {
      const alice = await h.ua('alice');
      for (let i = 0; i < 5; i++) assert.equal((await alice.send('bob', `secret ${i}`)).status, 202);
      assert.equal((await alice.send('carol', 'not bob\'s')).status, 202);
      const before = sealedValues();
      assert.equal(before.length, 6);
      await actions().destroyKeys(BY, 'bob');
      assert.equal(h.messaging.storedCount('bob'), 0);
      assert.equal(h.messaging.storedCount('carol'), 1, 'other users keep theirs');
      const after = sealedValues();
      assert.equal(after.length, 1);
      const gone = before.filter((s) => !after.some((a) => a.equals(s)));
      assert.equal(gone.length, 5);
      for (const s of gone) assert.equal(filesContain(h.dbFiles(), s.subarray(13, 45)), false, 'no ciphertext left in any file');
      assert.equal(h.messaging.stats.erased, 5);
    });

    it('erases them when the account is removed', async () => {
      assert.equal((await (await h.ua('alice')).send('erin', 'for erin')).status, 202);
      await actions().remove(BY, 'erin');
      assert.equal(h.messaging.storedCount('erin'), 0);
      assert.equal(sealedValues().length, 0);
    });
  });

  describe('deletion of delivered messages', () => {
    it('overwrites and removes a delivered message: its ciphertext is gone from every file after the checkpoint', async () => {
      assert.equal((await (await h.ua('alice')).send('bob', 'read once')).status, 202);
      const [sealed] = sealedValues();
      const bob = await h.online('bob');
      await bob.waitReceived(1);
      await until('erased', () => h.messaging.storedCount() === 0);
      await h.restartMessaging(); // close() commits and truncates the WAL
      assert.equal(filesContain(h.dbFiles(), sealed!.subarray(13, 45)), false);
    });
  });
});
