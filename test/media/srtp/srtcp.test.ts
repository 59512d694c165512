/** SrtpContext on the SRTCP side: RFC 3711 §3.4 and RFC 7714 §9 behaviour for every profile. */
import assert from 'node:assert/strict';
import { SRTP_PROFILES, SrtpAuthError, SrtpFormatError, SrtpReplayError, type SrtpProfileName } from '../../../media/srtp';
import { ALL_PROFILES, pair, rtcp, thrown } from './helpers';

/** Offset of the E||SRTCP index word: before the tag (RFC 3711 §3.4) or last (RFC 7714 §9.1). */
function indexWordAt(profile: SrtpProfileName, srtcp: Buffer, tagLength = SRTP_PROFILES[profile].srtcpTagLength): number {
  return profile.startsWith('AEAD') ? srtcp.length - 4 : srtcp.length - tagLength - 4;
}

describe('SrtpContext: RFC 3711 §3.4 / RFC 7714 §9 SRTCP', () => {
  for (const profile of ALL_PROFILES) {
    const tagLength = SRTP_PROFILES[profile].srtcpTagLength;

    describe(profile, () => {
      it('it MUST round-trip, set the E flag and count the SRTCP index from 0 per SSRC', () => {
        const { tx, rx } = pair(profile);
        for (let i = 0; i < 5; i++) {
          for (const ssrc of [0x1111, 0x2222]) {
            const plain = rtcp(ssrc, i);
            const srtcp = tx.protectRtcp(plain);
            assert.equal(srtcp.length, plain.length + 4 + tagLength);
            assert.deepEqual(srtcp.subarray(0, 8), plain.subarray(0, 8), 'the first 8 octets stay in clear');
            assert.notDeepEqual(srtcp.subarray(8, plain.length), plain.subarray(8), 'the rest is encrypted');
            assert.equal(srtcp.readUInt32BE(indexWordAt(profile, srtcp)), (0x80000000 | i) >>> 0, 'E=1, index i');
            assert.deepEqual(rx.unprotectRtcp(srtcp), plain);
          }
        }
      });

      it('with encryptRtcp=false it MUST send E=0 in clear, still authenticated', () => {
        const { tx } = pair(profile, { encryptRtcp: false });
        const { rx } = pair(profile); // a receiver honours the E flag of each packet
        const plain = rtcp();
        const srtcp = tx.protectRtcp(plain);
        assert.deepEqual(srtcp.subarray(0, plain.length), plain, 'payload in clear');
        assert.equal(srtcp.readUInt32BE(indexWordAt(profile, srtcp)), 0, 'E=0, index 0');
        const bad = Buffer.from(srtcp);
        bad[20] ^= 0x04;
        assert.ok(thrown(() => rx.unprotectRtcp(bad)) instanceof SrtpAuthError);
        assert.deepEqual(rx.unprotectRtcp(srtcp), plain);
      });

      it('the E flag MUST be authenticated: flipping it fails', () => {
        const { tx, rx } = pair(profile);
        const srtcp = tx.protectRtcp(rtcp());
        const bad = Buffer.from(srtcp);
        bad[indexWordAt(profile, bad)] ^= 0x80;
        const err = thrown(() => rx.unprotectRtcp(bad));
        assert.ok(err instanceof SrtpAuthError && !(err instanceof SrtpReplayError));
        assert.equal(err.reason, 'tag-mismatch');
      });

      it('a replayed SRTCP index MUST be rejected; reordering inside the window accepted', () => {
        const { tx, rx } = pair(profile);
        const packets = Array.from({ length: 10 }, () => tx.protectRtcp(rtcp()));
        rx.unprotectRtcp(packets[9]);
        for (let i = 8; i >= 0; i--) rx.unprotectRtcp(packets[i]);
        const err = thrown(() => rx.unprotectRtcp(packets[4]));
        assert.ok(err instanceof SrtpReplayError);
        assert.equal(err.code, 'ERR_SRTP_AUTH');
        assert.equal(err.reason, 'replayed');
        assert.equal(err.index, 4);
      });

      it('an SRTCP index older than the window MUST be rejected', () => {
        const { tx, rx } = pair(profile);
        const packets = Array.from({ length: 70 }, () => tx.protectRtcp(rtcp()));
        rx.unprotectRtcp(packets[69]);
        const err = thrown(() => rx.unprotectRtcp(packets[5]));
        assert.ok(err instanceof SrtpReplayError);
        assert.equal(err.reason, 'too-old');
      });

      it('a forged far-ahead SRTCP index MUST NOT poison the window', () => {
        const { tx, rx } = pair(profile);
        const first = tx.protectRtcp(rtcp());
        const second = tx.protectRtcp(rtcp());
        const forged = Buffer.from(second);
        forged.writeUInt32BE((0x80000000 | 5000) >>> 0, indexWordAt(profile, forged));
        const err = thrown(() => rx.unprotectRtcp(forged));
        assert.ok(err instanceof SrtpAuthError);
        assert.equal(err.reason, 'tag-mismatch');
        assert.deepEqual(rx.unprotectRtcp(first), rtcp());
        assert.deepEqual(rx.unprotectRtcp(second), rtcp());
      });

      it('a packet too short for header, index and tag MUST be a SrtpFormatError', () => {
        const { rx } = pair(profile);
        const err = thrown(() => rx.unprotectRtcp(rtcp().subarray(0, 8 + 4 + tagLength - 1)));
        assert.ok(err instanceof SrtpFormatError);
        assert.equal(err.code, 'ERR_SRTP_FORMAT');
      });
    });
  }

  describe('SRTCP tag length of the *_32 suites', () => {
    it('it MUST default to an 80-bit SRTCP tag (RFC 5764 §4.1.2) with a 32-bit SRTP tag', () => {
      const { tx } = pair('AES_CM_128_HMAC_SHA1_32');
      assert.equal(tx.protectRtcp(rtcp()).length, 32 + 4 + 10);
    });
    it('srtcpTagLength: 4 MUST interoperate with itself and not with the default', () => {
      const a = pair('AES_256_CM_HMAC_SHA1_32', { srtcpTagLength: 4 });
      const srtcp = a.tx.protectRtcp(rtcp());
      assert.equal(srtcp.length, 32 + 4 + 4);
      assert.deepEqual(a.rx.unprotectRtcp(srtcp), rtcp());
      const b = pair('AES_256_CM_HMAC_SHA1_32');
      assert.ok(thrown(() => b.rx.unprotectRtcp(srtcp)) instanceof SrtpAuthError);
    });
  });
});
