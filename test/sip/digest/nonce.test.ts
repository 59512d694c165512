/**
 * Stateless nonces (RFC 7616 §3.3, §5.4).
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { NONCE_LENGTH, NonceManager } from '../../../gateway/sip/digest/nonce';
import { DigestConfigError } from '../../../gateway/sip/digest/errors';

function clock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('Digest nonces (RFC 7616 §3.3, §5.4)', () => {
  it('MUST validate a nonce it issued, for the same realm and binding only', () => {
    const c = clock();
    const m = new NonceManager({ now: c.now });
    const n = m.issue('example.com', '192.0.2.1:5060');
    assert.equal(n.length, NONCE_LENGTH);
    assert.equal(m.check(n, 'example.com', '192.0.2.1:5060').status, 'valid');
    assert.equal(m.check(n, 'example.org', '192.0.2.1:5060').status, 'invalid');
    assert.equal(m.check(n, 'example.com', '192.0.2.2:5060').status, 'invalid');
    assert.equal(m.check(n, 'example.com').status, 'invalid');
  });

  it('MUST issue a different nonce each time', () => {
    const m = new NonceManager();
    assert.notEqual(m.issue('r'), m.issue('r'));
  });

  it('MUST say stale (not invalid) once the expiry has passed (default 300 s)', () => {
    const c = clock();
    const m = new NonceManager({ now: c.now });
    const n = m.issue('r');
    c.advance(300_000);
    assert.equal(m.check(n, 'r').status, 'valid');
    c.advance(1);
    const r = m.check(n, 'r');
    assert.equal(r.status, 'stale');
    assert.ok(r.status === 'stale' && r.expiresAt === r.issuedAt + 300_000);
  });

  it('MUST honour a configured expiry', () => {
    const c = clock();
    const m = new NonceManager({ now: c.now, expirySeconds: 10 });
    const n = m.issue('r');
    c.advance(10_001);
    assert.equal(m.check(n, 'r').status, 'stale');
  });

  it('MUST say invalid for a forged, truncated, re-encoded or foreign nonce', () => {
    const m = new NonceManager();
    const n = m.issue('r');
    const raw = Buffer.from(n, 'base64url');
    raw[30] ^= 0x01; // flip a MAC bit
    assert.equal(m.check(raw.toString('base64url'), 'r').status, 'invalid');
    const ts = Buffer.from(n, 'base64url');
    ts[7] ^= 0x01; // move the timestamp: the MAC covers it
    assert.equal(m.check(ts.toString('base64url'), 'r').status, 'invalid');
    assert.equal(m.check(n.slice(0, -1), 'r').status, 'invalid');
    assert.equal(m.check(n + 'A', 'r').status, 'invalid');
    assert.equal(m.check('', 'r').status, 'invalid');
    assert.equal(m.check('!'.repeat(NONCE_LENGTH), 'r').status, 'invalid');
    assert.equal(m.check(new NonceManager().issue('r'), 'r').status, 'invalid');
    // Same bytes, non-canonical spelling (spare bits of the last character set).
    const last = n[n.length - 1];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const alt = n.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
    assert.deepEqual(Buffer.from(alt, 'base64url'), Buffer.from(n, 'base64url'));
    assert.equal(m.check(alt, 'r').status, 'invalid');
  });

  it('MUST keep validating nonces of the previous secret during the grace period only', () => {
    const c = clock();
    const m = new NonceManager({ now: c.now, expirySeconds: 300, graceSeconds: 60 });
    const old = m.issue('r');
    m.rotate();
    assert.equal(m.check(old, 'r').status, 'valid');
    assert.equal(m.check(m.issue('r'), 'r').status, 'valid');
    c.advance(60_001);
    assert.equal(m.check(old, 'r').status, 'invalid');
  });

  it('MUST accept a shared secret of 32 bytes or more and refuse a shorter one', () => {
    const secret = randomBytes(32);
    const a = new NonceManager({ secret });
    const b = new NonceManager({ secret });
    assert.equal(b.check(a.issue('r'), 'r').status, 'valid');
    assert.throws(() => new NonceManager({ secret: randomBytes(16) }), DigestConfigError);
    assert.throws(() => new NonceManager({ expirySeconds: 0 }), DigestConfigError);
    assert.throws(() => a.rotate(Buffer.alloc(8)), DigestConfigError);
  });
});
