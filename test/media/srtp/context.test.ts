/** SrtpContext on the SRTP side: RFC 3711 §3.1–§3.3 behaviour for every profile. */
import assert from 'node:assert/strict';
import {
  generateKeyMaterial,
  SRTP_PROFILES,
  SrtpAuthError,
  SrtpConfigError,
  SrtpContext,
  SrtpError,
  SrtpKeyUsageError,
  SrtpReplayError,
  SrtpStreamLimitError,
} from '../../../media/srtp';
import { ALL_PROFILES, pair, rtp, thrown } from './helpers';

function assertAuthFailure(err: unknown, reason: 'tag-mismatch' | 'replayed' | 'too-old'): void {
  assert.ok(err instanceof SrtpAuthError, `expected SrtpAuthError, got ${String(err)}`);
  assert.equal(err.code, 'ERR_SRTP_AUTH');
  assert.equal(err.reason, reason);
  assert.equal(err instanceof SrtpReplayError, reason !== 'tag-mismatch');
}

describe('SrtpContext: RFC 3711 §3.3 SRTP', () => {
  for (const profile of ALL_PROFILES) {
    const tagLength = SRTP_PROFILES[profile].srtpTagLength;

    describe(profile, () => {
      it('it MUST round-trip a stream, appending the tag and encrypting only the payload', () => {
        const { tx, rx } = pair(profile);
        for (let seq = 1000; seq < 1100; seq++) {
          const plain = rtp({ seq });
          const copy = Buffer.from(plain);
          const srtp = tx.protectRtp(plain);
          assert.deepEqual(plain, copy, 'protectRtp must not modify its input');
          assert.equal(srtp.length, plain.length + tagLength);
          assert.deepEqual(srtp.subarray(0, 12), plain.subarray(0, 12), 'the header stays in clear');
          assert.notDeepEqual(srtp.subarray(12, plain.length), plain.subarray(12), 'the payload is encrypted');
          assert.deepEqual(rx.unprotectRtp(srtp), plain);
        }
      });

      it('§3.1: CSRCs and the header extension MUST stay in clear; padding is encrypted payload', () => {
        const { tx, rx } = pair(profile);
        const plain = rtp({ seq: 7, csrcs: [0xa1a2a3a4, 0xb1b2b3b4], extension: { profile: 0xbede, data: Buffer.from('10ff2233', 'hex') }, padding: 4 });
        const headerLength = 12 + 8 + 8;
        const srtp = tx.protectRtp(plain);
        assert.deepEqual(srtp.subarray(0, headerLength), plain.subarray(0, headerLength));
        assert.notDeepEqual(srtp.subarray(plain.length - 4, plain.length), plain.subarray(plain.length - 4), 'padding octets are encrypted');
        const back = rx.unprotectRtp(srtp);
        assert.deepEqual(back, plain, 'padding comes back untouched, P bit and count included');
      });

      it('§3.3.1: it MUST carry the ROC across a sequence wrap (65535 → 0)', () => {
        const { tx, rx } = pair(profile);
        const sent: Buffer[] = [];
        for (let i = 0; i < 20; i++) {
          const seq = (65526 + i) & 0xffff;
          const srtp = tx.protectRtp(rtp({ seq }));
          sent.push(srtp);
          assert.deepEqual(rx.unprotectRtp(srtp), rtp({ seq }), `seq ${seq}`);
        }
        // A receiver that never saw the wrap assumes ROC 0, so a post-wrap packet cannot verify:
        // proof that the sender authenticated (or AEAD-sealed) it with ROC 1.
        const fresh = pair(profile).rx;
        assertAuthFailure(thrown(() => fresh.unprotectRtp(sent[19])), 'tag-mismatch');
      });

      it('§3.3.2: packets reordered within the window MUST be accepted', () => {
        const { tx, rx } = pair(profile);
        const packets = Array.from({ length: 64 }, (_, i) => ({ seq: 65500 + i, srtp: tx.protectRtp(rtp({ seq: (65500 + i) & 0xffff })) }));
        // The first packet fixes ROC 0; then newest first, across the wrap: every later one is
        // older than the highest (ROC-1 guesses included) but inside the 64-packet window.
        const order = [packets[0], ...packets.slice(1).reverse()];
        for (const { seq, srtp } of order) assert.deepEqual(rx.unprotectRtp(srtp), rtp({ seq: seq & 0xffff }));
      });

      it('§3.3.2: a replayed packet MUST be rejected as a replay (an SrtpAuthError)', () => {
        const { tx, rx } = pair(profile);
        const srtp = tx.protectRtp(rtp({ seq: 5 }));
        rx.unprotectRtp(srtp);
        assertAuthFailure(thrown(() => rx.unprotectRtp(srtp)), 'replayed');
      });

      it('§3.3.2: a packet older than the window MUST be rejected', () => {
        const { tx, rx } = pair(profile);
        const old = tx.protectRtp(rtp({ seq: 100 }));
        rx.unprotectRtp(tx.protectRtp(rtp({ seq: 164 })));
        assertAuthFailure(thrown(() => rx.unprotectRtp(old)), 'too-old');
      });

      for (const [what, offset] of [
        ['header', 1],
        ['payload', 40],
        ['tag', -1],
      ] as const) {
        it(`§3.3 step 5: a flipped bit in the ${what} MUST fail authentication`, () => {
          const { tx, rx } = pair(profile);
          const srtp = tx.protectRtp(rtp({ seq: 9 }));
          const bad = Buffer.from(srtp);
          bad[offset < 0 ? bad.length + offset : offset] ^= 0x01;
          assertAuthFailure(thrown(() => rx.unprotectRtp(bad)), 'tag-mismatch');
          assert.deepEqual(rx.unprotectRtp(srtp), rtp({ seq: 9 }), 'the genuine packet still passes');
        });
      }

      it('a forged packet claiming a far-ahead SEQ MUST NOT advance the window or the ROC', () => {
        const { tx, rx } = pair(profile);
        for (let seq = 65000; seq < 65010; seq++) rx.unprotectRtp(tx.protectRtp(rtp({ seq })));
        const genuine = tx.protectRtp(rtp({ seq: 65010 }));
        for (const forgedSeq of [5 /* would imply ROC+1 */, 65300 /* far past the 64-packet window */]) {
          const forged = Buffer.from(genuine);
          forged.writeUInt16BE(forgedSeq, 2);
          assertAuthFailure(thrown(() => rx.unprotectRtp(forged)), 'tag-mismatch');
        }
        assert.deepEqual(rx.unprotectRtp(genuine), rtp({ seq: 65010 }), 'the genuine next packet is still accepted');
        const before = tx.protectRtp(rtp({ seq: 64999 - 50 }));
        assert.deepEqual(rx.unprotectRtp(before), rtp({ seq: 64949 }), 'the window did not slide');
      });

      it('a forged packet from a new SSRC MUST NOT create stream state', () => {
        const { tx, rx } = pair(profile);
        const forged = Buffer.from(tx.protectRtp(rtp({ seq: 1, ssrc: 0xdeadbeef })));
        forged[forged.length - 1] ^= 0x80;
        assertAuthFailure(thrown(() => rx.unprotectRtp(forged)), 'tag-mismatch');
        assert.equal(rx.streamCounts.rtpIn, 0);
      });

      it('the sender MUST refuse to protect the same index twice (keystream / nonce reuse)', () => {
        const { tx } = pair(profile);
        tx.protectRtp(rtp({ seq: 42 }));
        const err = thrown(() => tx.protectRtp(rtp({ seq: 42, payload: Buffer.alloc(160, 1) })));
        assert.ok(err instanceof SrtpKeyUsageError);
        assert.equal(err.reason, 'index-reused');
      });
    });
  }

  describe('per-SSRC streams', () => {
    it('streams MUST be independent: each SSRC has its own ROC and window', () => {
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80');
      const a = tx.protectRtp(rtp({ seq: 10, ssrc: 1 }));
      const b = tx.protectRtp(rtp({ seq: 10, ssrc: 2 }));
      rx.unprotectRtp(a);
      assert.deepEqual(rx.unprotectRtp(b), rtp({ seq: 10, ssrc: 2 }), 'same SEQ, other SSRC: not a replay');
      assert.deepEqual(rx.streamCounts, { rtpIn: 2, rtpOut: 0, rtcpIn: 0, rtcpOut: 0 });
    });

    it('it MUST bound the number of SSRCs (maxStreams) in both directions', () => {
      const { tx, rx } = pair('AEAD_AES_128_GCM', { maxStreams: 2 });
      const packets = [1, 2].map((ssrc) => tx.protectRtp(rtp({ seq: 1, ssrc })));
      assert.ok(thrown(() => tx.protectRtp(rtp({ seq: 1, ssrc: 3 }))) instanceof SrtpStreamLimitError);
      packets.forEach((p) => rx.unprotectRtp(p));
      const wide = pair('AEAD_AES_128_GCM').tx.protectRtp(rtp({ seq: 1, ssrc: 3 }));
      const err = thrown(() => rx.unprotectRtp(wide));
      assert.ok(err instanceof SrtpStreamLimitError);
      assert.equal(err.code, 'ERR_SRTP_STREAM_LIMIT');
    });

    it('a larger replayWindow MUST accept packets further back', () => {
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80', { replayWindow: 256 });
      const old = tx.protectRtp(rtp({ seq: 1 }));
      rx.unprotectRtp(tx.protectRtp(rtp({ seq: 200 })));
      assert.deepEqual(rx.unprotectRtp(old), rtp({ seq: 1 }));
    });
  });

  describe('configuration and key hygiene', () => {
    const keys = generateKeyMaterial('AES_CM_128_HMAC_SHA1_80');

    it('generateKeyMaterial MUST return random keys of the profile lengths', () => {
      for (const profile of ALL_PROFILES) {
        const k = generateKeyMaterial(profile);
        assert.equal(k.masterKey.length, SRTP_PROFILES[profile].keyLength);
        assert.equal(k.masterSalt.length, SRTP_PROFILES[profile].saltLength);
      }
      assert.notDeepEqual(generateKeyMaterial('AEAD_AES_256_GCM').masterKey, generateKeyMaterial('AEAD_AES_256_GCM').masterKey);
    });

    it('it MUST reject unknown profiles, wrong key/salt lengths and bad options with SrtpConfigError', () => {
      const bad: Array<() => unknown> = [
        () => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_99' as never, ...keys }),
        () => new SrtpContext({ profile: 'AES_256_CM_HMAC_SHA1_80', ...keys }),
        () => new SrtpContext({ profile: 'AEAD_AES_128_GCM', ...keys }),
        () => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...keys, replayWindow: 32 }),
        () => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...keys, maxStreams: 0 }),
        () => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...keys, srtcpTagLength: 4 }),
      ];
      for (const make of bad) {
        const err = thrown(make);
        assert.ok(err instanceof SrtpConfigError, String(err));
        assert.equal(err.code, 'ERR_SRTP_CONFIG');
      }
    });

    it('errors MUST NOT carry key, salt or packet bytes', () => {
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80');
      const srtp = tx.protectRtp(rtp({ seq: 1 }));
      const bad = Buffer.from(srtp);
      bad[bad.length - 1] ^= 1;
      const errors = [
        thrown(() => rx.unprotectRtp(bad)),
        thrown(() => new SrtpContext({ profile: 'AES_256_CM_HMAC_SHA1_80', ...keys })),
      ];
      const secrets = [keys.masterKey, keys.masterSalt, srtp.subarray(12)].map((b) => b.toString('hex'));
      for (const err of errors) {
        assert.ok(err instanceof SrtpError);
        const text = `${err.message} ${JSON.stringify(err)} ${err.stack ?? ''}`.toLowerCase();
        for (const s of secrets) assert.ok(!text.includes(s.slice(0, 8)), 'secret bytes leaked into an error');
      }
    });

    it('close() MUST make the context unusable', () => {
      const { tx } = pair('AEAD_AES_128_GCM');
      tx.protectRtp(rtp({ seq: 1 }));
      tx.close();
      assert.ok(thrown(() => tx.protectRtp(rtp({ seq: 2 }))) instanceof SrtpConfigError);
      assert.deepEqual(tx.streamCounts, { rtpIn: 0, rtpOut: 0, rtcpIn: 0, rtcpOut: 0 });
    });
  });
});
