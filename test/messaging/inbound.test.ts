/**
 * What the gateway accepts as a MESSAGE (RFC 3428 §7, RFC 3261 §8.2, §22.3): authentication with
 * 407, the sender's identity, transport, routing, content types and size, quotas.
 */
import assert from 'node:assert/strict';
import { randomToken, requestText } from '../helpers/sip-text';
import { SipUa } from '../helpers/sip-ua';
import { DOMAIN, openMessagingHarness, type MessagingHarness } from './harness';

const CPIM_IMDN = [
  'From: <sip:alice@ciphergate.test>',
  'To: <sip:bob@ciphergate.test>',
  'NS: imdn <urn:ietf:params:imdn>',
  'imdn.Message-ID: 34jk324j',
  'DateTime: 2026-11-22T10:00:00Z',
  'imdn.Disposition-Notification: positive-delivery, display',
  '',
  'Content-type: text/plain',
  '',
  'cpim text with an imdn request',
].join('\r\n');

describe('Messaging: inbound MESSAGE', function () {
  this.timeout(30_000);
  let h: MessagingHarness;

  before(async () => {
    h = await openMessagingHarness({ maxBodyBytes: 4096, maxStoredPerUser: 3, onlineTimeoutMs: 500 });
  });
  after(async () => {
    await h?.close();
  });

  describe('RFC 3428 §7 / RFC 3261 §22.3: proxy authentication', () => {
    it('MUST challenge a MESSAGE without credentials with 407, SHA-256 before MD5, and deliver nothing', async () => {
      const c = await SipUa.connect('TLS', h.ports.TLS, { ca: h.ca });
      try {
        c.send(messageText(c.localPort, 'TLS', 'alice', 'bob', 'no credentials'));
        const res = await c.next();
        assert.equal(res.status, 407);
        const challenges = res.headers.getAll('Proxy-Authenticate');
        assert.equal(challenges.length, 2);
        assert.match(challenges[0], /algorithm=SHA-256/);
        assert.match(challenges[1], /algorithm=MD5/);
        assert.equal(res.headers.get('WWW-Authenticate'), undefined);
        assert.equal(h.messaging.storedCount(), 0);
      } finally {
        c.close();
      }
    });

    it('MUST refuse a wrong password with 403 (same answer as an unknown user)', async () => {
      const wrong = await h.ua('alice', { password: 'not-Her-password-9' });
      const unknown = await h.ua('mallory', { password: 'whatever-Pass-9x' });
      assert.equal((await wrong.send('bob', 'x')).status, 403);
      assert.equal((await unknown.send('bob', 'x')).status, 403);
      assert.equal(h.messaging.storedCount(), 0);
    });

    it('MUST refuse a From that is not the authenticated user with 403', async () => {
      const alice = await h.ua('alice');
      const res = await alice.send('bob', 'spoofed', { from: `<sip:carol@${DOMAIN}>` });
      assert.equal(res.status, 403);
      assert.equal(res.reason, 'Forbidden - From Does Not Match Credentials');
    });

    it('MUST refuse MESSAGE over TCP with 403: credentials and bodies only over TLS', async () => {
      const c = await SipUa.connect('TCP', h.ports.TCP);
      try {
        c.send(messageText(c.localPort, 'TCP', 'alice', 'bob', 'clear text'));
        const res = await c.next();
        assert.equal(res.status, 403);
        assert.equal(res.reason, 'Forbidden - TLS Required');
      } finally {
        c.close();
      }
    });
  });

  describe('routing', () => {
    it('404 for an unknown user or group, and for another domain (no open relay)', async () => {
      const alice = await h.ua('alice');
      assert.equal((await alice.send('nobody', 'x')).status, 404);
      assert.equal((await alice.send('bob', 'x', { host: 'example.org' })).status, 404);
    });

    it('reaches a user by E.164 number', async () => {
      await h.users.update('carol', { number: '+41446681800' });
      const carol = await h.online('carol');
      const res = await (await h.ua('alice')).send('+41446681800', 'by number');
      assert.equal(res.status, 200);
      await carol.waitReceived(1);
      assert.equal(carol.received[0].to, `<sip:carol@${DOMAIN}>`);
    });
  });

  describe('content (RFC 3428 §9, RFC 3994, RFC 5438)', () => {
    it('MUST answer 413 for a body over the size limit, before any credential work', async () => {
      const alice = await h.ua('alice');
      const challenges = h.messaging.stats.challenges;
      const res = await alice.send('bob', Buffer.alloc(4097, 0x61));
      assert.equal(res.status, 413);
      assert.equal(h.messaging.stats.challenges, challenges, 'refused without a 407 round trip');
      assert.equal((await alice.send('bob', Buffer.alloc(4096, 0x61))).status, 202, 'exactly the limit is accepted');
      await drain('bob');
    });

    it('MUST answer 415 with Accept for a type it does not carry', async () => {
      const res = await (await h.ua('alice')).send('bob', '<imdn/>', { contentType: 'message/imdn+xml' });
      assert.equal(res.status, 415);
      assert.equal(res.headers.getAll('Accept').join(', '), 'text/plain, message/cpim, application/im-iscomposing+xml');
    });

    it('passes isComposing to online devices and never stores it (480 when offline)', async () => {
      const alice = await h.ua('alice');
      const xml = '<?xml version="1.0"?><isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state></isComposing>';
      assert.equal((await alice.send('dave', xml, { contentType: 'application/im-iscomposing+xml' })).status, 480);
      assert.equal(h.messaging.storedCount(), 0);
      const dave = await h.online('dave');
      assert.equal((await alice.send('dave', xml, { contentType: 'application/im-iscomposing+xml' })).status, 200);
      await dave.waitReceived(1);
      assert.equal(dave.received[0].contentType, 'application/im-iscomposing+xml');
      dave.close();
    });

    it('stores message/cpim carrying an IMDN request like any message and delivers it verbatim', async () => {
      const alice = await h.ua('alice');
      assert.equal((await alice.send('erin', CPIM_IMDN, { contentType: 'message/cpim' })).status, 202);
      const erin = await h.online('erin');
      await erin.waitReceived(1);
      assert.equal(erin.received[0].contentType, 'message/cpim');
      assert.equal(erin.received[0].body, CPIM_IMDN);
      erin.close();
    });
  });

  describe('quotas', () => {
    it('MUST answer 486 once the recipient\'s stored messages reach the quota', async () => {
      const alice = await h.ua('alice');
      for (let i = 0; i < 3; i++) assert.equal((await alice.send('bob', `q${i}`)).status, 202);
      const res = await alice.send('bob', 'one too many');
      assert.equal(res.status, 486);
      assert.equal(res.reason, 'Busy Here - Message Store Full');
      assert.equal(h.messaging.storedCount('bob'), 3);
      await drain('bob');
      assert.equal((await alice.send('bob', 'room again')).status, 202);
      await drain('bob');
    });
  });

  /** Registers `user` until its stored messages are delivered, then disconnects. */
  async function drain(user: string): Promise<void> {
    const n = h.messaging.storedCount(user);
    const u = await h.online(user);
    await u.waitReceived(n);
    assert.equal(await u.unregister(), 200);
    u.close();
    const deadline = Date.now() + 3000;
    while (h.messaging.storedCount(user) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(h.messaging.storedCount(user), 0);
    await new Promise((r) => setTimeout(r, 20));
  }
});

function messageText(localPort: number, transport: 'TLS' | 'TCP', from: string, to: string, body: string): Buffer {
  return requestText({
    method: 'MESSAGE', uri: `sip:${to}@${DOMAIN}`, transport, localPort, rport: false,
    from: `<sip:${from}@${DOMAIN}>;tag=${randomToken(4)}`, to: `<sip:${to}@${DOMAIN}>`, callId: randomToken(8), cseq: 1,
    headers: ['Content-Type: text/plain'], body,
  });
}
