/**
 * SRTCP tag length of the *_HMAC_SHA1_32 suites: 80 bits per RFC 3711 §3.4 / §5.2 and RFC 4568 §6.2
 * (libsrtp), 32 bits from libre/baresip. A receiving context with `learnSrtcpTagLength` accepts
 * both until one authenticates, then only that one; the other suites are unaffected.
 */
import assert from 'node:assert/strict';
import { SrtpAuthError, SrtpConfigError, SrtpContext, SrtpReplayError, type SrtpProfileName } from '../../../media/srtp';
import { AesCmHmacTransform } from '../../../media/srtp/transform/aes-cm-hmac';
import { NativeAesCmTransform } from '../../../media/srtp/transform/native-aes-cm';
import { pair, rtcp, thrown } from './helpers';

/**
 * SRTCP tag checks run by `fn`: calls of the transform's unprotectRtcp (one HMAC each), on
 * whichever backend is in use (native or TypeScript, media/srtp/transform).
 */
function hmacVerifications(fn: () => void): number {
  const classes = [AesCmHmacTransform, NativeAesCmTransform] as const;
  const originals = classes.map((c) => c.prototype.unprotectRtcp);
  let calls = 0;
  classes.forEach((c, i) => {
    const original = originals[i]!;
    c.prototype.unprotectRtcp = function (this: InstanceType<typeof c>, ...args: Parameters<typeof original>): Buffer | null {
      calls++;
      return (original as (...a: Parameters<typeof original>) => Buffer | null).apply(this, args);
    };
  });
  try {
    fn();
  } finally {
    classes.forEach((c, i) => {
      c.prototype.unprotectRtcp = originals[i]!;
    });
  }
  return calls;
}

/** A libsrtp-like sender (10-octet SRTCP tag), a libre-like one (4 octets), and a learning receiver, all on one key. */
function peers(profile: SrtpProfileName = 'AES_CM_128_HMAC_SHA1_32'): { libsrtp: SrtpContext; libre: SrtpContext; rx: SrtpContext } {
  return {
    libsrtp: pair(profile).tx,
    libre: pair(profile, { srtcpTagLength: 4 }).tx,
    rx: pair(profile, { learnSrtcpTagLength: true }).rx,
  };
}

describe('SRTCP tag length of the *_32 suites (RFC 3711 §3.4, §5.2; libre interop)', () => {
  for (const profile of ['AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_32'] as const) {
    describe(profile, () => {
      it('a learning receiver MUST start on the RFC default of 10 octets', () => {
        const { rx } = peers(profile);
        assert.equal(rx.srtcpTagLength, 10);
        assert.equal(rx.learningSrtcpTagLength, true);
        assert.equal(rx.protectRtcp(rtcp()).length, 32 + 4 + 10, 'what it would send uses 10 until told otherwise');
      });

      it('a 10-octet peer MUST be accepted with one HMAC, and then only 10 octets tried', () => {
        const { libsrtp, libre, rx } = peers(profile);
        assert.equal(hmacVerifications(() => assert.deepEqual(rx.unprotectRtcp(libsrtp.protectRtcp(rtcp())), rtcp())), 1);
        assert.equal(rx.learningSrtcpTagLength, false);
        assert.equal(rx.srtcpTagLength, 10);
        const short = libre.protectRtcp(rtcp(0x5555));
        let err: unknown;
        assert.equal(hmacVerifications(() => (err = thrown(() => rx.unprotectRtcp(short)))), 1, 'the 4-octet length is no longer tried');
        assert.ok(err instanceof SrtpAuthError && err.reason === 'tag-mismatch');
      });

      it('a 4-octet peer MUST be accepted after the 10-octet attempt fails, then only 4 octets tried', () => {
        const { libsrtp, libre, rx } = peers(profile);
        const first = libre.protectRtcp(rtcp(0x1111, 1));
        assert.equal(first.length, 32 + 4 + 4);
        assert.equal(hmacVerifications(() => assert.deepEqual(rx.unprotectRtcp(first), rtcp(0x1111, 1))), 2);
        assert.equal(rx.learningSrtcpTagLength, false);
        assert.equal(rx.srtcpTagLength, 4);
        assert.equal(hmacVerifications(() => assert.deepEqual(rx.unprotectRtcp(libre.protectRtcp(rtcp(0x1111, 2))), rtcp(0x1111, 2))), 1);
        const long = libsrtp.protectRtcp(rtcp(0x2222));
        let err: unknown;
        assert.equal(hmacVerifications(() => (err = thrown(() => rx.unprotectRtcp(long)))), 1, 'a forgery costs one HMAC again');
        assert.ok(err instanceof SrtpAuthError);
      });

      it('replay protection MUST hold across the two attempts: checked before, updated only after a success', () => {
        const { libre, rx } = peers(profile);
        const packets = [0, 1, 2].map(() => libre.protectRtcp(rtcp()));
        const forged = Buffer.from(packets[1]!);
        forged[forged.length - 1] ^= 1;
        const err = thrown(() => rx.unprotectRtcp(forged));
        assert.ok(err instanceof SrtpAuthError && !(err instanceof SrtpReplayError) && err.reason === 'tag-mismatch');
        assert.equal(rx.learningSrtcpTagLength, true, 'a forgery teaches nothing');
        assert.equal(rx.streamCounts.rtcpIn, 0, 'and creates no stream');
        rx.unprotectRtcp(packets[1]!);
        const replay = thrown(() => rx.unprotectRtcp(packets[1]!));
        assert.ok(replay instanceof SrtpReplayError && replay.reason === 'replayed' && replay.index === 1);
        assert.deepEqual(rx.unprotectRtcp(packets[0]!), rtcp(), 'an older index inside the window is still fresh');
        assert.deepEqual(rx.unprotectRtcp(packets[2]!), rtcp());
      });

      it('a 4-octet packet too short for a 10-octet tag MUST still be learnt', () => {
        const { libre, rx } = peers(profile);
        const header = rtcp().subarray(0, 8); // an RR with no report block
        header[0] = 0x80;
        header.writeUInt16BE(1, 2);
        const srtcp = libre.protectRtcp(header);
        assert.equal(srtcp.length, 8 + 4 + 4);
        assert.deepEqual(rx.unprotectRtcp(srtcp), header);
        assert.equal(rx.srtcpTagLength, 4);
      });

      it('learning MUST work with an MKI between the index word and the tag', () => {
        const mki = Buffer.from([9, 9]);
        const libre = pair(profile, { srtcpTagLength: 4, mki }).tx;
        const { rx } = pair(profile, { learnSrtcpTagLength: true, mki });
        assert.deepEqual(rx.unprotectRtcp(libre.protectRtcp(rtcp())), rtcp());
        assert.equal(rx.srtcpTagLength, 4);
      });

      it('setSrtcpTagLength MUST switch what a sender writes and stop learning', () => {
        const { rx } = peers(profile);
        rx.setSrtcpTagLength(4);
        assert.equal(rx.learningSrtcpTagLength, false);
        assert.equal(rx.protectRtcp(rtcp()).length, 32 + 4 + 4);
        rx.setSrtcpTagLength(10);
        assert.equal(rx.protectRtcp(rtcp()).length, 32 + 4 + 10);
        assert.ok(thrown(() => rx.setSrtcpTagLength(8)) instanceof SrtpConfigError);
      });
    });
  }

  describe('the other suites are untouched', () => {
    for (const profile of ['AES_CM_128_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_80', 'AEAD_AES_128_GCM', 'AEAD_AES_256_GCM'] as const) {
      it(`${profile}: learnSrtcpTagLength MUST have no effect and a 4-octet tag MUST be refused`, () => {
        const { tx, rx } = pair(profile, { learnSrtcpTagLength: true });
        assert.equal(rx.learningSrtcpTagLength, false);
        const srtcp = tx.protectRtcp(rtcp());
        assert.equal(hmacVerifications(() => assert.deepEqual(rx.unprotectRtcp(srtcp), rtcp())), profile.startsWith('AEAD') ? 0 : 1);
        assert.ok(thrown(() => rx.setSrtcpTagLength(4)) instanceof SrtpConfigError);
        assert.ok(thrown(() => pair(profile, { srtcpTagLength: 4 })) instanceof SrtpConfigError);
        if (!profile.startsWith('AEAD')) {
          // An 80-bit packet cut to a 32-bit tag: the right octets, the wrong length.
          const cut = Buffer.concat([srtcp.subarray(0, srtcp.length - 10), srtcp.subarray(srtcp.length - 10, srtcp.length - 6)]);
          assert.ok(thrown(() => pair(profile, { learnSrtcpTagLength: true }).rx.unprotectRtcp(cut)) instanceof SrtpAuthError);
        }
      });
    }
  });
});
