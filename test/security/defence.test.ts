/**
 * The defences in front of a real registrar on loopback: lockout after 5 failures, source bans
 * (silent drops, connections closed), scanner drops, counters.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openHarness, PASSWORDS, type Harness } from '../registrar/harness';
import { SipTestClient, TestUa } from '../registrar/sip-client';

function options(port: number, localPort: number, protocol: string, userAgent: string): string {
  return [
    `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/${protocol} 127.0.0.1:${localPort};branch=z9hG4bK${randomBytes(6).toString('hex')}`,
    'Max-Forwards: 70',
    `To: <sip:100@127.0.0.1>`,
    `From: <sip:100@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`,
    `Call-ID: ${randomBytes(8).toString('hex')}`,
    'CSeq: 1 OPTIONS',
    `User-Agent: ${userAgent}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('Security: defences in front of the registrar', function () {
  this.timeout(30_000);
  let h: Harness | undefined;
  const clients: SipTestClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await h?.close();
    h = undefined;
  });

  async function ua(harness: Harness, user: string, password: string): Promise<TestUa> {
    const c = await SipTestClient.connect('TLS', harness.ports.TLS, { ca: harness.ca });
    clients.push(c);
    return new TestUa(c, user, password, '127.0.0.1', harness.ports.TLS);
  }

  it('locks an account name after 5 failures: the right password then gets 403 until the lock ends', async () => {
    h = await openHarness();
    for (let i = 0; i < 5; i++) {
      const bad = await ua(h, 'alice', `Wrong-Password-${i}`);
      assert.equal((await bad.register({ contacts: [bad.contact()] })).status, 403);
    }
    assert.equal(h.defence.counters.lockouts, 1);
    const good = await ua(h, 'alice', PASSWORDS.alice);
    assert.equal((await good.register({ contacts: [good.contact()] })).status, 403);
    const bob = await ua(h, 'bob', PASSWORDS.bob);
    assert.equal((await bob.register({ contacts: [bob.contact()] })).status, 200, 'another account is not affected');
    h.clock.now += 15 * 60_000 + 1;
    const later = await ua(h, 'alice', PASSWORDS.alice);
    assert.equal((await later.register({ contacts: [later.contact()] })).status, 200);
  });

  it('keeps a device registered over its own connection working while its name is locked by someone else', async () => {
    h = await openHarness();
    const device = await ua(h, 'alice', PASSWORDS.alice);
    assert.equal((await device.register({ contacts: [device.contact()] })).status, 200);
    for (let i = 0; i < 5; i++) {
      const bad = await ua(h, 'alice', `Wrong-Password-${i}`);
      await bad.register({ contacts: [bad.contact()] });
    }
    assert.equal(h.defence.isLocked('alice'), true);
    assert.equal((await device.register({ contacts: [device.contact()] })).status, 200);
  });

  it('bans a source after maxAuthFailures: its requests are dropped unanswered and its connection closed', async () => {
    h = await openHarness({ defence: { sources: { exemptLoopback: false, maxAuthFailures: 3, maxRequests: 10_000 } } });
    const a = await ua(h, 'alice', 'Wrong-Password-1');
    for (let i = 0; i < 3; i++) {
      a.digest.forget();
      assert.equal((await a.register({ contacts: [a.contact()] })).status, 403);
    }
    assert.equal(h.defence.counters.authBans, 1);
    a.client.send(options(h.ports.TLS, a.client.localPort, 'TLS', 'test'));
    await Promise.race([a.client.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('not closed')), 2000))]);
    const again = await SipTestClient.connect('TLS', h.ports.TLS, { ca: h.ca });
    clients.push(again);
    again.send(options(h.ports.TLS, again.localPort, 'TLS', 'test'));
    await again.expectSilence(500);
    assert.ok(h.defence.counters.bannedDrops >= 2);
  });

  it('bans a source that floods requests (pike rate), over UDP for UDP only', async () => {
    h = await openHarness({ defence: { sources: { exemptLoopback: false, maxRequests: 20, requestWindowMs: 10_000 } } });
    const udp = await SipTestClient.connect('UDP', h.ports.UDP);
    clients.push(udp);
    for (let i = 0; i < 20; i++) {
      udp.send(options(h.ports.UDP, udp.localPort, 'UDP', 'test'));
      assert.equal((await udp.next()).status, 200);
    }
    udp.send(options(h.ports.UDP, udp.localPort, 'UDP', 'test'));
    await udp.expectSilence(400);
    assert.equal(h.defence.counters.rateBans, 1);
    const tls = await SipTestClient.connect('TLS', h.ports.TLS, { ca: h.ca });
    clients.push(tls);
    tls.send(options(h.ports.TLS, tls.localPort, 'TLS', 'test'));
    assert.equal((await tls.next()).status, 200, 'a UDP ban does not drop TLS');
  });

  it('drops requests from known scanners without an answer, and answers everyone else', async () => {
    h = await openHarness({ requireTls: false });
    const udp = await SipTestClient.connect('UDP', h.ports.UDP);
    clients.push(udp);
    udp.send(options(h.ports.UDP, udp.localPort, 'UDP', 'friendly-scanner'));
    await udp.expectSilence(400);
    udp.send(options(h.ports.UDP, udp.localPort, 'UDP', 'sipvicious'));
    await udp.expectSilence(200);
    udp.send(options(h.ports.UDP, udp.localPort, 'UDP', 'Linphone/5.2'));
    assert.equal((await udp.next()).status, 200);
    assert.equal(h.defence.counters.scannerDrops, 2);
    assert.equal(h.stack.stats.filtered, 2);
  });

  it('exempts loopback by default (tests and local tools are never banned)', async () => {
    h = await openHarness({ defence: { sources: { maxAuthFailures: 2, maxRequests: 5 } } });
    const udp = await SipTestClient.connect('UDP', h.ports.UDP);
    clients.push(udp);
    for (let i = 0; i < 20; i++) {
      udp.send(options(h.ports.UDP, udp.localPort, 'UDP', 'test'));
      assert.equal((await udp.next()).status, 200);
    }
    assert.equal(h.defence.counters.bans, 0);
  });
});
