/**
 * MESSAGE between users over real TLS connections (RFC 3428): online delivery, store-and-forward
 * to offline devices, per-device tracking, ordering, and erasure once every device answered.
 */
import assert from 'node:assert/strict';
import { DOMAIN, filesContain, openMessagingHarness, until, type MessagingHarness } from './harness';

describe('Messaging: delivery (RFC 3428)', function () {
  this.timeout(30_000);
  let h: MessagingHarness;

  beforeEach(async () => {
    h = await openMessagingHarness({ onlineTimeoutMs: 400 });
  });
  afterEach(async () => {
    await h?.close();
  });

  describe('§4, §7: recipient online', () => {
    it('MUST deliver over the recipient\'s own flow and answer 200, storing nothing', async () => {
      const bob = await h.online('bob');
      const alice = await h.ua('alice');
      const res = await alice.send('bob', 'hello bob', { headers: [['User-Agent', 'secret-client/1.0']] });
      assert.equal(res.status, 200, res.reason);
      await bob.waitReceived(1);
      const [m] = bob.received;
      assert.equal(m.body, 'hello bob');
      assert.equal(m.contentType, 'text/plain');
      assert.match(m.from, new RegExp(`^<sip:alice@${DOMAIN}>;tag=`));
      assert.equal(m.to, `<sip:bob@${DOMAIN}>`);
      assert.equal(m.request.headers.get('User-Agent'), undefined, 'the sender\'s own headers do not travel on');
      assert.equal(m.request.headers.get('Date'), undefined, 'only stored messages carry Date');
      assert.equal(h.messaging.storedCount(), 0);
    });

    it('delivers to every registered device of the recipient (one per RFC 5626 instance)', async () => {
      const phone = await h.online('bob');
      const desk = await h.online('bob');
      const res = await (await h.ua('alice')).send('bob', 'to both');
      assert.equal(res.status, 200);
      await phone.waitReceived(1);
      await desk.waitReceived(1);
      assert.equal(h.messaging.storedCount(), 0);
    });

    it('uses the account\'s display name, never the one the sender wrote', async () => {
      await h.users.update('alice', { displayName: 'Alice Liddell' });
      const bob = await h.online('bob');
      await (await h.ua('alice')).send('bob', 'hi', { from: `"The Bank" <sip:alice@${DOMAIN}>` });
      await bob.waitReceived(1);
      assert.match(bob.received[0].from, /^"Alice Liddell" <sip:alice@/);
    });
  });

  describe('store-and-forward', () => {
    it('MUST answer 202 for an offline recipient and deliver once when it registers, then erase it', async () => {
      const alice = await h.ua('alice');
      const body = 'offline-plaintext-marker-7f3a';
      const res = await alice.send('bob', body);
      assert.equal(res.status, 202, res.reason);
      assert.equal(h.messaging.storedCount('bob'), 1);
      h.messaging.flush();
      assert.equal(filesContain(h.dbFiles(), Buffer.from(body)), false, 'no plaintext in the database files (WAL included)');

      const bob = await h.online('bob');
      await bob.waitReceived(1);
      assert.equal(bob.received[0].body, body);
      assert.ok(bob.received[0].request.headers.get('Date')?.endsWith('GMT'), 'a stored message carries its arrival Date');
      await until('store empty', () => h.messaging.storedCount() === 0);

      // Registering again (a refresh, a second device) brings nothing twice.
      assert.equal(await bob.register(), 200);
      const again = await h.online('bob');
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(bob.received.length, 1);
      assert.equal(again.received.length, 0);
      assert.equal(h.messaging.stats.completed, 1);
    });

    it('MUST deliver stored messages in the order they arrived', async () => {
      const alice = await h.ua('alice');
      const sent = Array.from({ length: 60 }, (_, i) => `m${String(i).padStart(3, '0')}`);
      for (const b of sent) assert.equal((await alice.send('bob', b)).status, 202);
      const bob = await h.online('bob');
      await bob.waitReceived(sent.length);
      assert.deepEqual(bob.bodies(), sent);
      await until('store empty', () => h.messaging.storedCount() === 0);
    });

    it('keeps the message for a registered device whose flow is down while another device takes it (202)', async () => {
      const instance = 'urn:uuid:00000000-0000-4000-8000-00000000b0b1';
      const phone = await h.online('bob', { instance });
      const desk = await h.online('bob');
      phone.close();
      await until('phone unreachable', () => h.registrar.locate(`sip:bob@${DOMAIN}`).some((b) => !b.reachable));

      const res = await (await h.ua('alice')).send('bob', 'for every device');
      assert.equal(res.status, 202, 'stored for the device that could not take it');
      await desk.waitReceived(1);
      assert.equal(h.messaging.storedCount('bob'), 1);

      const phoneAgain = await h.online('bob', { instance });
      await phoneAgain.waitReceived(1);
      assert.equal(phoneAgain.received[0].body, 'for every device');
      await until('store empty', () => h.messaging.storedCount() === 0);
      assert.equal(desk.received.length, 1, 'the device that had it does not get it twice');
    });

    it('stores for a device that does not answer in time, and a late 2xx settles it', async () => {
      const bob = await h.online('bob');
      bob.answering = false;
      const t0 = Date.now();
      const res = await (await h.ua('alice')).send('bob', 'slow device');
      assert.equal(res.status, 202);
      assert.ok(Date.now() - t0 < 3000, 'answered at the online timeout, well before the sender\'s Timer F');
      assert.equal(h.messaging.storedCount('bob'), 1);
      assert.equal(bob.answerHeld(200), 1);
      await until('late 2xx settles the stored copy', () => h.messaging.storedCount() === 0);
      assert.equal(bob.received.length, 1, 'not sent again');
    });

    it('a device that registers within the TTL gets messages that arrived before it existed', async () => {
      const phone = await h.online('bob');
      phone.answering = false;
      assert.equal((await (await h.ua('alice')).send('bob', 'early')).status, 202);
      const tablet = await h.online('bob');
      await tablet.waitReceived(1);
      assert.equal(tablet.received[0].body, 'early');
      assert.equal(h.messaging.storedCount('bob'), 1, 'still waiting for the device registered at arrival');
    });

    it('a definitive refusal from the only device is relayed and nothing is stored', async () => {
      const bob = await h.online('bob');
      bob.answerStatus = 415;
      const res = await (await h.ua('alice')).send('bob', 'refused');
      assert.equal(res.status, 415);
      assert.equal(h.messaging.storedCount(), 0);
    });

    it('survives a restart of the service: stored messages are delivered afterwards', async () => {
      assert.equal((await (await h.ua('alice')).send('bob', 'before restart')).status, 202);
      await h.restartMessaging();
      assert.equal(h.messaging.storedCount('bob'), 1);
      const bob = await h.online('bob');
      await bob.waitReceived(1);
      assert.equal(bob.received[0].body, 'before restart');
    });
  });
});
