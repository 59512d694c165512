/**
 * The defences as units, on an injected clock: account lockout, source bans (pike-style), source
 * keys (IPv6 /64), exemptions and scanner signatures.
 */
import assert from 'node:assert/strict';
import { AccountLockout, ExemptSources, ScannerDetector, SecurityConfigError, SourceGuard, sourceKey } from '../../gateway/security';

describe('Security: account lockout', () => {
  const clock = { now: 1_000_000 };
  const make = (): AccountLockout => new AccountLockout({ maxFailures: 5, windowMs: 900_000, lockMs: 900_000, now: () => clock.now });

  it('locks a name at the 5th failure within the window, whether or not the account exists', () => {
    const l = make();
    for (let i = 1; i <= 4; i++) assert.equal(l.failure('nobody'), false, `failure ${i}`);
    assert.equal(l.isLocked('nobody'), false);
    assert.equal(l.failure('nobody'), true);
    assert.equal(l.isLocked('nobody'), true);
    assert.equal(l.isLocked('alice'), false, 'other names are not affected');
  });

  it('unlocks after the lock duration; failures spread beyond the window do not lock', () => {
    const l = make();
    for (let i = 0; i < 5; i++) l.failure('alice');
    clock.now += 900_001;
    assert.equal(l.isLocked('alice'), false);
    for (let i = 0; i < 4; i++) l.failure('bob');
    clock.now += 900_001;
    assert.equal(l.failure('bob'), false, 'a new window started');
    assert.equal(l.isLocked('bob'), false);
  });

  it('does not extend a lock with failures made while locked', () => {
    const l = make();
    for (let i = 0; i < 5; i++) l.failure('alice');
    const until = l.lockedUntil('alice');
    clock.now += 1000;
    for (let i = 0; i < 10; i++) assert.equal(l.failure('alice'), false);
    assert.equal(l.lockedUntil('alice'), until);
  });

  it('forgets pending failures on success, and holds a bounded number of names', () => {
    const l = new AccountLockout({ maxFailures: 3, maxTracked: 100, now: () => clock.now });
    l.failure('alice');
    l.failure('alice');
    l.success('alice');
    assert.equal(l.failure('alice'), false);
    for (let i = 0; i < 1000; i++) l.failure(`name${i}`);
    assert.ok(l.size <= 100, `tracked ${l.size}`);
  });
});

describe('Security: source bans (pike)', () => {
  const clock = { now: 5_000_000 };
  const guard = (o: ConstructorParameters<typeof SourceGuard>[0] = {}): SourceGuard =>
    new SourceGuard({ maxRequests: 10, requestWindowMs: 2000, maxAuthFailures: 3, authWindowMs: 60_000, banMs: 600_000, exemptLoopback: false, now: () => clock.now, ...o });

  it('bans a source that sends more than maxRequests in the window, for banMs', () => {
    const g = guard();
    for (let i = 0; i < 10; i++) assert.equal(g.admit('192.0.2.1', 'TLS'), true);
    assert.equal(g.admit('192.0.2.1', 'TLS'), false);
    assert.equal(g.isBanned('192.0.2.1', 'TLS'), true);
    assert.equal(g.admit('192.0.2.2', 'TLS'), true, 'another source is not affected');
    clock.now += 600_001;
    assert.equal(g.admit('192.0.2.1', 'TLS'), true);
  });

  it('a new window restarts the count', () => {
    const g = guard();
    for (let i = 0; i < 10; i++) g.admit('192.0.2.3', 'TLS');
    clock.now += 2000;
    for (let i = 0; i < 10; i++) assert.equal(g.admit('192.0.2.3', 'TLS'), true);
  });

  it('bans at the maxAuthFailures-th failure within the window', () => {
    const bans: string[] = [];
    const g = guard({ onBan: (b) => bans.push(`${b.source} ${b.reason} ${b.scope}`) });
    assert.equal(g.authFailure('198.51.100.7', 'TLS'), false);
    assert.equal(g.authFailure('198.51.100.7', 'TLS'), false);
    assert.equal(g.authFailure('198.51.100.7', 'TLS'), true);
    assert.deepEqual(bans, ['198.51.100.7 auth all']);
    assert.equal(g.admit('198.51.100.7', 'UDP'), false, 'a ban earned over TLS drops UDP too');
  });

  it('a ban earned over UDP (spoofable) drops UDP only', () => {
    const g = guard();
    for (let i = 0; i < 11; i++) g.admit('203.0.113.9', 'UDP');
    assert.equal(g.isBanned('203.0.113.9', 'UDP'), true);
    assert.equal(g.isBanned('203.0.113.9', 'TLS'), false);
    assert.equal(g.admit('203.0.113.9', 'TLS'), true);
  });

  it('bans IPv6 sources by /64 and never bans exempt sources', () => {
    const g = guard({ exemptLoopback: true, exempt: ['10.0.0.0/8'] });
    for (let i = 0; i < 11; i++) g.admit(`2001:db8:1:2::${i + 1}`, 'TLS');
    assert.equal(g.isBanned('2001:db8:1:2:ffff::1', 'TLS'), true);
    assert.equal(g.isBanned('2001:db8:1:3::1', 'TLS'), false);
    for (let i = 0; i < 50; i++) {
      assert.equal(g.admit('127.0.0.1', 'TLS'), true);
      assert.equal(g.admit('10.1.2.3', 'TLS'), true);
    }
  });

  it('manual ban and unban', () => {
    const g = guard();
    g.ban('192.0.2.77');
    assert.equal(g.isBanned('192.0.2.77', 'TCP'), true);
    assert.equal(g.list().length >= 1, true);
    assert.equal(g.unban('192.0.2.77'), true);
    assert.equal(g.isBanned('192.0.2.77', 'TCP'), false);
  });
});

describe('Security: source keys and exemptions', () => {
  it('keys IPv4 by address, IPv4-mapped IPv6 as IPv4, IPv6 by /64', () => {
    assert.equal(sourceKey('192.0.2.1'), '192.0.2.1');
    assert.equal(sourceKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(sourceKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(sourceKey('[2001:DB8:0:0:1::1]'), '2001:db8:0:0::/64');
    assert.equal(sourceKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(sourceKey('not-an-ip'), undefined);
  });

  it('matches loopback, listed addresses and prefixes; rejects malformed entries', () => {
    const e = new ExemptSources(true, ['192.0.2.0/24', '2001:db8::/32', '198.51.100.1']);
    assert.equal(e.has('127.0.0.1'), true);
    assert.equal(e.has('::1'), true);
    assert.equal(e.has('::ffff:127.0.0.1'), true);
    assert.equal(e.has('192.0.2.200'), true);
    assert.equal(e.has('2001:db8:ff::1'), true);
    assert.equal(e.has('198.51.100.2'), false);
    assert.equal(new ExemptSources(false, []).has('127.0.0.1'), false);
    assert.throws(() => new ExemptSources(false, ['10.0.0.0/33']), SecurityConfigError);
    assert.throws(() => new ExemptSources(false, ['example.org']), SecurityConfigError);
  });
});

describe('Security: scanner User-Agents', () => {
  const d = new ScannerDetector();

  it('recognises well-known scanners, case-insensitively', () => {
    for (const ua of ['friendly-scanner', 'sipvicious 0.3.0', 'SIPVicious', 'sipcli/v1.8', 'sip-scan', 'VaxSIPUserAgent/3.1', 'Mozilla (sipcli)']) {
      assert.ok(d.match(ua), ua);
    }
  });

  it('leaves real clients alone, including names that merely contain a signature', () => {
    for (const ua of ['baresip v1.0.0 (x86_64/linux)', 'Linphone/5.0', 'Cosmaphone/1.0', 'Zoiper rv2.10', undefined]) {
      assert.equal(d.match(ua), undefined, String(ua));
    }
  });

  it('can be emptied (no signature ever matches)', () => {
    assert.equal(new ScannerDetector([]).match('friendly-scanner'), undefined);
  });
});
