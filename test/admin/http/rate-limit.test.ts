import assert from 'node:assert/strict';
import { RateLimiter, sourceKey } from '../../../gateway/admin/http/rate-limit';

describe('per-source rate limiter (gateway/admin/http/rate-limit.ts)', () => {
  it('allows maxAttempts per window, flags the first refusal only, and resets after the window', () => {
    const clock = { now: 0 };
    const rl = new RateLimiter({ maxAttempts: 2, windowMs: 10_000, now: () => clock.now });
    const d = [rl.attempt('192.0.2.1'), rl.attempt('192.0.2.1'), rl.attempt('192.0.2.1'), rl.attempt('192.0.2.1')];
    assert.deepEqual(d.map((x) => x.allowed), [true, true, false, false]);
    assert.deepEqual(d.map((x) => x.firstRefusal), [false, false, true, false]);
    assert.equal(d[2]!.retryAfterSec, 10);
    assert.equal(rl.attempt('192.0.2.2').allowed, true, 'another source has its own window');
    clock.now = 10_000;
    assert.equal(rl.attempt('192.0.2.1').allowed, true);
  });

  it('keys IPv6 sources by /64 and IPv4-mapped addresses by the IPv4 address', () => {
    assert.equal(sourceKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(sourceKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(sourceKey('::1'), '0:0:0:0::/64');
    assert.equal(sourceKey('::ffff:192.0.2.7'), '192.0.2.7');
    const rl = new RateLimiter({ maxAttempts: 1, windowMs: 60_000 });
    rl.attempt('2001:db8:1:2::1');
    assert.equal(rl.attempt('2001:db8:1:2::ffff').allowed, false, 'same /64, same budget');
  });

  it('never tracks more than maxKeys sources', () => {
    const rl = new RateLimiter({ maxAttempts: 1, windowMs: 60_000, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) rl.attempt(`10.0.${i >> 8}.${i & 255}`);
    // Exactly full (a limiter that tracked nothing would also pass `<= 100`), newest kept.
    assert.equal(rl.size, 100);
    assert.equal(rl.attempt('10.0.3.231').allowed, false, 'the newest source is still tracked');
  });
});
