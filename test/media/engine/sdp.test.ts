/**
 * The descriptions the engine writes (RFC 3264 offer/answer through an anchoring B2BUA, RFC 4568
 * SDES per leg) and the refusals the B2BUA maps to SIP responses (488, 503, 500).
 */
import assert from 'node:assert/strict';
import { EmbeddedMediaEngine, MediaEngineError, MediaPortsExhaustedError, type MediaEngineErrorCode } from '../../../media/engine';
import { cryptoAttributeValues, parseCryptoAttribute, parseSdp, redactCrypto } from '../../../media/sdp';
import * as F from '../sdp/fixtures';
import { engineSettings, startEngine } from './helpers';

const PLAIN_B = (port = 40000, extra: string[] = []): string =>
  ['v=0', 'o=pbx 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', ...extra, 'a=sendrecv', ''].join('\r\n');

async function code(p: Promise<unknown>): Promise<MediaEngineError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MediaEngineError, `expected MediaEngineError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a MediaEngineError');
}

const keyOf = (sdp: string): string[] =>
  cryptoAttributeValues(parseSdp(sdp), 0).map((v) => parseCryptoAttribute(v).keys[0]!.masterKey.toString('base64'));

describe('media engine SDP (RFC 3264 through an anchoring engine)', () => {
  let engine: EmbeddedMediaEngine;
  beforeEach(() => {
    engine = startEngine({ allowDirectMedia: true });
  });
  afterEach(() => engine.close());

  describe('offer toward the other leg (RFC 3264 §5)', () => {
    it('MUST put the engine in c=/m=, replace o=, and strip SDES when the other leg is plain', async () => {
      const out = await engine.offer('o1', 'a', F.BARESIP_SRTP_MAND, { transport: 'RTP/AVP' });
      assert.doesNotMatch(out, /192\.0\.2\.2/, 'nothing of the offerer\'s address leaks');
      assert.match(out, /^o=ciphergate \d+ 0 IN IP4 127\.0\.0\.1\r$/m);
      assert.match(out, /^c=IN IP4 127\.0\.0\.1\r$/m);
      const m = /^m=audio (\d+) RTP\/AVP 0 8 9 96 101\r$/m.exec(out);
      assert.ok(m, redactCrypto(out)); // printed on failure: no inline keys
      const port = Number(m[1]);
      assert.equal(port % 2, 0, 'RTP on an even port');
      assert.match(out, new RegExp(`a=rtcp:${port + 1} IN IP4 127.0.0.1`));
      assert.match(out, /a=rtcp-mux/);
      assert.doesNotMatch(out, /a=crypto/);
    });

    it('MUST NOT pass a=ssrc/a=msid on: their CNAME carries the previous hop\'s address (topology hiding)', async () => {
      const withSsrc = PLAIN_B(40010, ['a=ssrc:1234 cname:sip:alice@192.0.2.77:5061', 'a=msid:stream track']);
      for (const [id, transport] of [['s1', 'RTP/AVP'], ['s2', 'pass-through']] as const) {
        const out = await engine.offer(id, 'a', withSsrc, { transport });
        assert.doesNotMatch(out, /a=ssrc|a=msid|192\.0\.2\.77/, `${transport}: ${out}`);
      }
    });

    it('MUST offer fresh keys of its own, one per suite in order, when the other leg is SDES-SRTP (RFC 4568 §7.1.1)', async () => {
      const out = await engine.offer('o2', 'a', F.BARESIP_SRTP_MAND, {
        transport: 'RTP/SAVP',
        sdesSuites: ['AES_256_CM_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_80'],
      });
      assert.match(out, /m=audio \d+ RTP\/SAVP /);
      const lines = cryptoAttributeValues(parseSdp(out), 0).map(parseCryptoAttribute);
      assert.deepEqual(lines.map((l) => [l.tag, l.suite]), [[1, 'AES_256_CM_HMAC_SHA1_80'], [2, 'AES_CM_128_HMAC_SHA1_80']]);
      assert.ok(!keyOf(out).some((k) => F.BARESIP_SRTP_MAND.includes(k.slice(0, 20))), 'never the offerer\'s key');
    });

    it('MUST strip ICE and BUNDLE when anchoring', async () => {
      const withIce = F.BARESIP_SRTP_MAND.replace('a=sendrecv', 'a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef0123456789\r\na=candidate:1 1 UDP 2130706431 192.0.2.2 27118 typ host\r\na=end-of-candidates\r\na=sendrecv');
      const out = await engine.offer('o3', 'a', withIce, { transport: 'RTP/AVP' });
      assert.doesNotMatch(out, /ice-|candidate/);
    });

    it('MUST filter and order codecs by policy, keeping telephone-event', async () => {
      const out = await engine.offer('o4', 'a', F.BARESIP_SRTP_MAND, { transport: 'RTP/AVP', codecs: { allow: ['PCMA', 'pcmu'] } });
      assert.match(out, /m=audio \d+ RTP\/AVP 8 0 101\r/);
      assert.doesNotMatch(out, /opus|G722/);
    });

    it('MUST turn a c=0.0.0.0 hold into a direction once its own address replaces it (RFC 3264 §8.4)', async () => {
      const out = await engine.offer('o5', 'a', F.LEGACY_HOLD, { transport: 'RTP/AVP' });
      assert.match(out, /a=sendonly/);
      assert.doesNotMatch(out, /0\.0\.0\.0/);
    });

    it('MUST keep a=fingerprint, a=setup and a=zrtp-hash and the protocol in pass-through', async () => {
      const out = await engine.offer('o6', 'a', F.BARESIP_DTLS_SRTP, { transport: 'pass-through' });
      assert.match(out, /m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 8 9 96 101/);
      assert.match(out, /a=fingerprint:SHA-256 5A:AA:D1:EF/);
      assert.match(out, /a=setup:actpass/);
      const zrtp = F.LINPHONE_ZRTP.replace(/IP6 fd00::2/g, 'IP4 192.0.2.9');
      const out2 = await engine.offer('o7', 'a', zrtp, { transport: 'pass-through' });
      assert.match(out2, /a=zrtp-hash:1\.10 40bb7396/);
      assert.match(out2, /c=IN IP4 127\.0\.0\.1/);
    });

    it('MUST pass the endpoints\' own addresses with direct media when configuration allows it', async () => {
      const free = engine.freePortPairs;
      const out = await engine.offer('o8', 'a', F.BARESIP_DTLS_SRTP, { transport: 'pass-through', directMedia: true });
      assert.match(out, /c=IN IP4 192\.0\.2\.2/);
      assert.match(out, /m=audio 34144 /);
      assert.equal(engine.freePortPairs, free, 'no relay ports');
      const anchored = startEngine({ allowDirectMedia: false });
      try {
        const out2 = await anchored.offer('o9', 'a', F.BARESIP_DTLS_SRTP, { transport: 'pass-through', directMedia: true });
        assert.match(out2, /c=IN IP4 127\.0\.0\.1/, 'config off: anchored anyway');
      } finally {
        await anchored.close();
      }
    });

    it('MUST disable a stream the offerer disabled, or that is not RTP', async () => {
      const two = F.BARESIP_SRTP_MAND + 'm=video 0 RTP/AVP 96\r\nm=image 4000 udptl t38\r\n';
      const out = await engine.offer('o10', 'a', two, { transport: 'RTP/AVP' });
      assert.match(out, /m=video 0 /);
      assert.match(out, /m=image 0 /);
      const answer = await engine.answer('o10', 'a', 'b', PLAIN_B() + 'm=video 0 RTP/AVP 96\r\nm=image 0 udptl t38\r\n');
      assert.match(answer, /m=video 0 /);
      assert.match(answer, /m=image 0 /);
    });
  });

  describe('answer toward the offering leg (RFC 3264 §6, RFC 4568 §7.1.2)', () => {
    it('MUST answer the offerer\'s SDES with exactly one line of its tag and suite, and a key of its own', async () => {
      await engine.offer('a1', 'a', F.ASTERISK_SDES, { transport: 'RTP/AVP' });
      const out = await engine.answer('a1', 'a', 'b', PLAIN_B());
      assert.match(out, /m=audio \d+ RTP\/SAVP 0 101\r/);
      const lines = cryptoAttributeValues(parseSdp(out), 0).map(parseCryptoAttribute);
      assert.equal(lines.length, 1);
      assert.deepEqual([lines[0]!.tag, lines[0]!.suite], [1, 'AES_256_CM_HMAC_SHA1_80']);
      assert.ok(!F.ASTERISK_SDES.includes(keyOf(out)[0]!.slice(0, 20)));
      assert.doesNotMatch(out, /o=pbx/);
    });

    it('MUST answer the same offer the same way again (183 then 200) and bump o= only on change (RFC 3264 §8)', async () => {
      await engine.offer('a2', 'a', F.BARESIP_SRTP_MAND, { transport: 'RTP/AVP' });
      const early = await engine.answer('a2', 'a', 'b', PLAIN_B());
      const final = await engine.answer('a2', 'a', 'b', PLAIN_B());
      assert.equal(final, early, 'same key, same version');
      const reoffer = await engine.offer('a2', 'a', F.BARESIP_SRTP_MAND.replace('a=sendrecv', 'a=sendonly'), { transport: 'RTP/AVP' });
      assert.match(reoffer, /^o=ciphergate \d+ 1 /m, 'version 1 after a change');
      const held = await engine.answer('a2', 'a', 'b', PLAIN_B().replace('a=sendrecv', 'a=recvonly'));
      assert.deepEqual(keyOf(held), keyOf(early), 'RFC 4568 §7.1.4: unchanged stream keeps its key');
    });

    it('MUST carry a re-offer from the answering leg back to the first one', async () => {
      await engine.offer('a3', 'a', F.BARESIP_SRTP_MAND, { transport: 'RTP/AVP' });
      await engine.answer('a3', 'a', 'b', PLAIN_B());
      const toA = await engine.offer('a3', 'b', PLAIN_B(40002), { transport: 'RTP/SAVP', sdesSuites: ['AES_CM_128_HMAC_SHA1_80'] });
      assert.match(toA, /m=audio \d+ RTP\/SAVP 0 101/);
      const answerA = F.BARESIP_SRTP_MAND.replace(/a=crypto:1 [^\r]+/, cryptoAttributeValues(parseSdp(toA), 0).map((v) => `a=crypto:${v.replace(/inline:\S+/, 'inline:YUJDZGVmZ2hpSktMbW5vUFFSU1R1dnd4eXpBQkNE')}`)[0]!);
      const toB = await engine.answer('a3', 'b', 'a', answerA);
      assert.match(toB, /m=audio \d+ RTP\/AVP 0 101/);
      assert.doesNotMatch(toB, /a=crypto/);
    });

    it('MUST let another branch answer after delete(callId, answererTag) (serial forking)', async () => {
      await engine.offer('a4', 'a', F.BARESIP_SRTP_MAND, { transport: 'RTP/AVP' });
      await engine.answer('a4', 'a', 'b1', PLAIN_B());
      await engine.delete('a4', 'b1');
      assert.equal(engine.callCount, 1);
      const out = await engine.answer('a4', 'a', 'b2', PLAIN_B(40010));
      assert.match(out, /a=crypto:1 AES_CM_128_HMAC_SHA1_80/);
      assert.deepEqual((await engine.query('a4')).legs.map((l) => l.tag), ['a', 'b2']);
      await engine.delete('a4');
      assert.equal(engine.callCount, 0);
    });
  });

  describe('refusals (mapped to SIP responses)', () => {
    const cases: [string, () => Promise<unknown>, MediaEngineErrorCode, number][] = [
      ['DTLS-SRTP outside pass-through', () => engine.offer('e1', 'a', F.BARESIP_DTLS_SRTP, { transport: 'RTP/AVP' }), 'unsupported-transport', 488],
      ['SDES keys in pass-through', () => engine.offer('e2', 'a', F.BARESIP_SRTP_MAND, { transport: 'pass-through' }), 'sdes-in-pass-through', 488],
      ['plain RTP when the leg must be secure', () => engine.offer('e3', 'a', PLAIN_B(), { transport: 'RTP/SAVP', requireSecure: true }), 'insecure-leg', 488],
      ['no allowed codec', () => engine.offer('e4', 'a', PLAIN_B(), { transport: 'RTP/AVP', codecs: { allow: ['G729'] } }), 'no-common-codec', 488],
      ['no codec the transcoder knows (G.729 only)', () => engine.offer('e5', 'a', PLAIN_B().replace('RTP/AVP 0 101', 'RTP/AVP 18').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:18 G729/8000'), { transport: 'RTP/AVP', codecs: { allow: ['opus'], transcode: true } }), 'transcoding-unavailable', 488],
      ['an IPv6 leg on an IPv4 engine', () => engine.offer('e6', 'a', F.LINPHONE_SRTP, { transport: 'RTP/AVP' }), 'address-family', 488],
      ['an unparsable description', () => engine.offer('e7', 'a', 'v=0\r\nbogus\r\n', { transport: 'RTP/AVP' }), 'bad-sdp', 400],
      ['an answer without an offer', () => engine.answer('e8', 'a', 'b', PLAIN_B()), 'no-pending-offer', 500],
      ['statistics of an unknown call', () => engine.query('e9'), 'unknown-call', 500],
    ];
    for (const [what, run, c, status] of cases) {
      it(`MUST refuse ${what} with ${c} (${status})`, async () => {
        const free = engine.freePortPairs;
        const e = await code(run());
        assert.equal(e.code, c);
        assert.equal(e.status, status);
        assert.ok(!e.reason.includes('inline:'));
        assert.equal(engine.callCount, 0, 'a refused first offer leaves no call');
        assert.equal(engine.freePortPairs, free, 'and no port');
      });
    }

    it('MUST refuse a plain answer from a leg that must be secure, and keep the call for another answer', async () => {
      await engine.offer('r1', 'a', F.BARESIP_SRTP_MAND, { transport: 'RTP/AVP' });
      const e = await code(engine.answer('r1', 'a', 'b', PLAIN_B(), { requireSecure: true }));
      assert.equal(e.code, 'insecure-leg');
      assert.equal(e.status, 488);
      assert.equal(engine.callCount, 1);
    });

    it('MUST refuse an answer without a=rtcp-mux when mux is required (RFC 8858 §3)', async () => {
      const out = await engine.offer('m1', 'a', F.BARESIP_SRTP_MAND, { transport: 'RTP/AVP', rtcpMux: 'require' });
      assert.match(out, /a=rtcp-mux-only/);
      assert.doesNotMatch(out, /a=rtcp:/);
      assert.equal((await code(engine.answer('m1', 'a', 'b', PLAIN_B()))).code, 'rtcp-mux-required');
      assert.ok(await engine.answer('m1', 'a', 'b', PLAIN_B(40000, ['a=rtcp-mux'])));
    });

    it('MUST refuse with 503 when the port range is used up, and recover when a call ends', async () => {
      const range = engineSettings();
      const e = new EmbeddedMediaEngine({ media: { ...range, portMax: range.portMin + 3 }, sweepIntervalMs: 0 });
      try {
        await e.offer('x1', 'a', PLAIN_B(), { transport: 'RTP/AVP' });
        const err = await code(e.offer('x2', 'a', PLAIN_B(), { transport: 'RTP/AVP' }));
        assert.ok(err instanceof MediaPortsExhaustedError);
        assert.equal(err.status, 503);
        await e.delete('x1');
        assert.ok(await e.offer('x3', 'a', PLAIN_B(), { transport: 'RTP/AVP' }));
      } finally {
        await e.close();
      }
    });
  });
});
