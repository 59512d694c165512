/**
 * No user enumeration (RFC 3261 §26.1.5 spirit; OWASP ASVS V2.2): an unknown user, a wrong
 * password, a blocked account and a locked name look alike from outside: the same response
 * byte for byte (modulo tags, branches and nonces) after comparable work.
 */
import assert from 'node:assert/strict';
import { serializeMessage } from '../../gateway/sip/message/serializer';
import type { SipResponse } from '../../gateway/sip/message/message';
import { openHarness, PASSWORDS, type Harness } from './harness';
import { SipTestClient, TestUa } from './sip-client';

/** The response as text with everything random or naming the user replaced. */
function shape(res: SipResponse, user: string): string {
  return serializeMessage(res)
    .toString('latin1')
    .split(user).join('USER')
    .replace(/tag=[0-9A-Za-z._~+-]+/g, 'tag=T')
    .replace(/branch=[0-9A-Za-z._~+-]+/g, 'branch=B')
    .replace(/nonce="[^"]*"/g, 'nonce="N"')
    .replace(/Call-ID: [^\r]*/g, 'Call-ID: C')
    .replace(/CSeq: \d+/g, 'CSeq: N')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:P')
    .replace(/rport=\d+/g, 'rport=P');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe('Registrar: no user enumeration', function () {
  this.timeout(30_000);
  let h: Harness;
  const clients: SipTestClient[] = [];

  before(async () => {
    h = await openHarness();
    await h.users.add('carol', { password: 'Blocked-Account-9x' });
    await h.users.block('carol');
  });
  after(async () => {
    for (const c of clients) c.close();
    await h?.close();
  });

  async function attempt(user: string, password: string): Promise<{ challenge: SipResponse; final: SipResponse }> {
    const c = await SipTestClient.connect('TLS', h.ports.TLS, { ca: h.ca });
    clients.push(c);
    const a = new TestUa(c, user, password, '127.0.0.1', h.ports.TLS);
    const challenge = await a.send({ contacts: [`<sip:${user}@127.0.0.1:5999;transport=tls>`] });
    const final = await a.register({ contacts: [`<sip:${user}@127.0.0.1:5999;transport=tls>`] });
    return { challenge, final };
  }

  it('gives an unknown user, a wrong password and a blocked account the same 401 and the same 403', async () => {
    const unknown = await attempt('mallory', 'Whatever-Pass-1');
    const wrong = await attempt('alice', 'Wrong-Password-2');
    const blocked = await attempt('carol', 'Blocked-Account-9x');
    assert.equal(unknown.final.status, 403);
    assert.equal(shape(unknown.challenge, 'mallory'), shape(wrong.challenge, 'alice'));
    assert.equal(shape(unknown.final, 'mallory'), shape(wrong.final, 'alice'));
    assert.equal(shape(blocked.final, 'carol'), shape(wrong.final, 'alice'));
  });

  it('gives a locked name the same 403 as a wrong password, even with the right password', async () => {
    const fresh = await openHarness({ defence: { lockout: { maxFailures: 2 } } });
    try {
      const run = async (user: string, password: string): Promise<SipResponse> => {
        const c = await SipTestClient.connect('TLS', fresh.ports.TLS, { ca: fresh.ca });
        clients.push(c);
        return new TestUa(c, user, password, '127.0.0.1', fresh.ports.TLS).register({ contacts: [`<sip:${user}@127.0.0.1:5999;transport=tls>`] });
      };
      const wrong = await run('alice', 'Wrong-Password-2');
      await run('alice', 'Wrong-Password-3');
      assert.equal(fresh.defence.isLocked('alice'), true);
      const locked = await run('alice', PASSWORDS.alice);
      assert.equal(shape(locked, 'alice'), shape(wrong, 'alice'));
    } finally {
      await fresh.close();
    }
  });

  it('spends comparable time looking up an unknown user and a real one (median within 35 %)', async () => {
    const lookup = (name: string): Promise<string | undefined> => h.registrar.authenticator['lookup'](name, 'ciphergate.test', 'SHA-256');
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 600; i++) {
      let t = process.hrtime.bigint();
      assert.ok(await lookup('alice'));
      known.push(Number(process.hrtime.bigint() - t));
      t = process.hrtime.bigint();
      assert.equal(await lookup(`nobody${i % 7}`), undefined);
      unknown.push(Number(process.hrtime.bigint() - t));
    }
    const ratio = median(unknown) / median(known);
    assert.ok(ratio > 0.65 && ratio < 1.35, `unknown/known lookup time ratio ${ratio.toFixed(2)}`);
  });
});
