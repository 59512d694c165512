/** The B2BUA's pure parts: admission limits, failure mapping, the header allow-list, media flags. */
import assert from 'node:assert/strict';
import { bestFailure, CallLimiter, CallMedia, checkCallsSettings, DEFAULT_CALLS_SETTINGS, HeaderPolicy, isEndToEnd, mapTrunkFailure, mapUserFailure, originVersion, reasonPhrase, CallsConfigError } from '../../gateway/b2bua';
import { HeaderList } from '../../gateway/sip/message/message';
import type { MediaEngine } from '../../media/engine';
import { dtlsSdp, rtpSdp, srtpSdp } from './sip-ua';

describe('B2BUA units', () => {
  describe('admission (issue 5 §5, RFC 3261 §21.5.4)', () => {
    it('MUST hold a calls-per-second bucket per source that refills over time', () => {
      let now = 0;
      const l = new CallLimiter({ maxConcurrent: 0, maxPerUser: 0, cpsPerSource: 2, retryAfterSec: 1 }, () => now);
      assert.equal(l.admitSource('192.0.2.1'), true);
      assert.equal(l.admitSource('192.0.2.1'), true);
      assert.equal(l.admitSource('192.0.2.1'), false);
      assert.equal(l.admitSource('192.0.2.2'), true, 'another source has its own bucket');
      now += 500;
      assert.equal(l.admitSource('192.0.2.1'), true, 'one token back after 1/2 s at 2/s');
      assert.equal(l.admitSource('192.0.2.1'), false);
    });

    it('MUST count concurrent calls globally and per user, and release exactly once', () => {
      const l = new CallLimiter({ maxConcurrent: 2, maxPerUser: 1, cpsPerSource: 0, retryAfterSec: 1 });
      const a = l.acquire(['alice']);
      assert.notEqual(typeof a, 'string');
      assert.equal(l.acquire(['alice']), 'user');
      const b = l.acquire([]);
      assert.equal(l.acquire([]), 'global');
      if (typeof a === 'string' || typeof b === 'string') throw new Error('unreachable');
      assert.equal(l.extend(b, 'alice'), 'user');
      a.release();
      a.release();
      assert.equal(l.concurrent, 1);
      const c = l.extend(b, 'bob');
      if (typeof c === 'string') throw new Error('bob is free');
      assert.equal(l.callsOf('bob'), 1);
      c.release();
      assert.equal(l.concurrent, 0);
      assert.equal(l.callsOf('bob'), 0);
    });
  });

  describe('failure mapping (issue 5 §4)', () => {
    it('MUST pass 486/600/603/480/404/488 and map the rest of a device\'s refusals', () => {
      for (const s of [486, 600, 603, 480, 404, 488]) assert.equal(mapUserFailure(s), s);
      assert.equal(mapUserFailure(407), 403);
      assert.equal(mapUserFailure(302), 480);
      assert.equal(mapUserFailure(500), 480);
      assert.equal(mapUserFailure(408), 480);
    });

    it('MUST prefer a 6xx, then busy, among several devices (RFC 3261 §16.7)', () => {
      assert.equal(bestFailure([480, 486]), 486);
      assert.equal(bestFailure([486, 603]), 603);
      assert.equal(bestFailure([]), 480);
      assert.equal(bestFailure([415, 420]), 415);
    });

    it('MUST not follow a trunk\'s redirect nor show its challenge to the caller', () => {
      assert.equal(mapTrunkFailure(302), 480);
      assert.equal(mapTrunkFailure(407), 503);
      assert.equal(mapTrunkFailure(486), 486);
      assert.equal(reasonPhrase(486), 'Busy Here');
      assert.equal(reasonPhrase(599), 'Server Error');
    });
  });

  describe('topology hiding (issue 5 §1)', () => {
    const h = new HeaderList();
    for (const [n, v] of [['Via', 'SIP/2.0/UDP 10.0.0.1'], ['Record-Route', '<sip:10.0.0.1;lr>'], ['P-Asserted-Identity', '<sip:+34911@pbx>'], ['Privacy', 'id'], ['X-Internal', '10.0.0.1'], ['Diversion', '<sip:+3491@pbx>'], ['User-to-User', '42']]) h.add(n, v);

    it('MUST pass only allow-listed headers, and PAI only from the trust domain', () => {
      const p = new HeaderPolicy();
      assert.deepEqual(p.pass(h, true), [['P-Asserted-Identity', '<sip:+34911@pbx>'], ['Privacy', 'id'], ['Diversion', '<sip:+3491@pbx>'], ['User-to-User', '42']]);
      assert.equal(p.pass(h, false).some(([n]) => n === 'P-Asserted-Identity'), false);
    });

    it('MUST never pass the topology headers even when configured', () => {
      const p = new HeaderPolicy(['Via', 'Record-Route', 'Contact', 'Call-ID', 'X-Internal']);
      assert.deepEqual(p.pass(h, true), [['X-Internal', '10.0.0.1']]);
    });

    it('MUST bound the values passed', () => {
      const many = new HeaderList();
      for (let i = 0; i < 20; i++) many.add('Diversion', `<sip:${i}@x>`);
      many.add('Privacy', 'x'.repeat(2000));
      const out = new HeaderPolicy().pass(many, true);
      assert.equal(out.filter(([n]) => n === 'Diversion').length, 8);
      assert.equal(out.some(([n]) => n === 'Privacy'), false);
    });
  });

  describe('media flags (issue 5 §1: SRTP to users, the trunk profile to trunks, pass-through end to end)', () => {
    const media = new CallMedia({} as MediaEngine, 'c', true, false);
    const trunk = { kind: 'trunk', policy: { profile: 'RTP/AVP', codecs: ['PCMA', 'PCMU'], telephoneEvent: true } } as const;

    it('MUST give a user SDES-SRTP, or pass DTLS-SRTP through, and require security from users', () => {
      assert.deepEqual(media.offerFlags({ kind: 'user' }, { kind: 'user' }, srtpSdp(1)), { transport: 'RTP/SAVP', requireSecure: true });
      assert.deepEqual(media.offerFlags({ kind: 'user' }, { kind: 'user' }, dtlsSdp(1)), { transport: 'pass-through', requireSecure: true });
      assert.deepEqual(media.offerFlags(trunk, { kind: 'user' }, rtpSdp(1)), { transport: 'RTP/SAVP', requireSecure: false });
      assert.deepEqual(media.answerFlags({ kind: 'user' }), { requireSecure: true });
    });

    it('MUST give a trunk its profile and codecs', () => {
      assert.deepEqual(media.offerFlags({ kind: 'user' }, trunk, srtpSdp(1)), { transport: 'RTP/AVP', codecs: { allow: ['PCMA', 'PCMU'] }, requireSecure: true });
    });

    it('MUST tell end-to-end keys and session versions from the SDP', () => {
      assert.equal(isEndToEnd(dtlsSdp(1)), true);
      assert.equal(isEndToEnd(srtpSdp(1)), false);
      assert.equal(isEndToEnd(rtpSdp(1)), false);
      assert.equal(originVersion(srtpSdp(1, 7)), '1000 7');
      assert.equal(originVersion('v=0\r\ns=-\r\n'), undefined);
    });
  });

  describe('settings', () => {
    it('MUST refuse settings it cannot work with', () => {
      assert.equal(checkCallsSettings(DEFAULT_CALLS_SETTINGS), DEFAULT_CALLS_SETTINGS);
      assert.throws(() => checkCallsSettings({ ...DEFAULT_CALLS_SETTINGS, ringTimeoutSec: 0 }), CallsConfigError);
      assert.throws(() => checkCallsSettings({ ...DEFAULT_CALLS_SETTINGS, sessionTimer: { enabled: true, intervalSec: 60, minSeSec: 90 } }), CallsConfigError);
    });
  });
});
