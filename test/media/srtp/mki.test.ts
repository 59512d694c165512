/**
 * The MKI (RFC 3711 §3.1, §3.4; RFC 7714 §8, §9): one master key per context, its identifier in
 * every packet, between the authenticated portion and the tag (AES-CM) or at the very end (AEAD),
 * never authenticated. Known answers are the libsrtp reference packets of vectors.json with the MKI
 * spliced in where libsrtp's srtp_protect_mki writes it.
 */
import assert from 'node:assert/strict';
import {
  SRTP_PROFILES,
  SrtpAuthError,
  SrtpConfigError,
  SrtpContext,
  SrtpError,
  SrtpReplayError,
  type SrtpContextOptions,
  type SrtpProfileName,
} from '../../../media/srtp';
import { ALL_PROFILES, hex, loadVectors, pair, rtcp, rtp, thrown, type PacketVector } from './helpers';

const MKI = Buffer.from('deadbeef', 'hex');

function assertUnknownMki(err: unknown): void {
  assert.ok(err instanceof SrtpAuthError && !(err instanceof SrtpReplayError), `expected SrtpAuthError, got ${String(err)}`);
  assert.equal(err.code, 'ERR_SRTP_AUTH');
  assert.equal(err.reason, 'unknown-mki');
}

/** Where the MKI goes in a packet protected without one: before the tag (AES-CM) or at the end (AEAD). */
function splice(profile: SrtpProfileName, withoutMki: Buffer, tagLength: number, mki: Buffer = MKI): Buffer {
  const at = profile.startsWith('AEAD') ? withoutMki.length : withoutMki.length - tagLength;
  return Buffer.concat([withoutMki.subarray(0, at), mki, withoutMki.subarray(at)]);
}

describe('SrtpContext MKI (RFC 3711 §3.1, §3.4; RFC 7714 §8, §9)', () => {
  describe('known answers: libsrtp reference packets with an MKI', () => {
    const vectors = loadVectors();
    for (const name of Object.keys(vectors).filter((k) => k.startsWith('libsrtp_validate_'))) {
      const profile = name.slice('libsrtp_validate_'.length).toUpperCase() as SrtpProfileName;
      const v = vectors[name] as PacketVector;
      const p = SRTP_PROFILES[profile];
      const ctx = (): SrtpContext => new SrtpContext({ profile, masterKey: hex(v.master_key), masterSalt: hex(v.master_salt), mki: MKI });

      it(`${profile}: protectRtp MUST write the MKI ${profile.startsWith('AEAD') ? 'after the tag' : 'between the payload and the tag'}`, () => {
        const srtp = ctx().protectRtp(hex(v.rtp_plain));
        assert.equal(srtp.toString('hex'), splice(profile, hex(v.srtp), p.srtpTagLength).toString('hex'));
        assert.equal(srtp.length, hex(v.rtp_plain).length + p.srtpTagLength + MKI.length);
      });

      it(`${profile}: unprotectRtp MUST recover the RTP packet`, () => {
        assert.equal(ctx().unprotectRtp(splice(profile, hex(v.srtp), p.srtpTagLength)).toString('hex'), v.rtp_plain.toLowerCase());
      });

      it(`${profile}: protectRtcp MUST write the MKI after the E||index word (SRTCP index 1)`, () => {
        const tx = ctx();
        tx.protectRtcp(hex(v.rtcp_plain)); // index 0; the reference packet carries index 1
        const srtcp = tx.protectRtcp(hex(v.rtcp_plain));
        const expected = splice(profile, hex(v.srtcp), p.srtcpTagLength);
        assert.equal(srtcp.toString('hex'), expected.toString('hex'));
        const wordAt = profile.startsWith('AEAD') ? srtcp.length - MKI.length - 4 : srtcp.length - p.srtcpTagLength - MKI.length - 4;
        assert.equal(srtcp.readUInt32BE(wordAt), 0x80000001);
        assert.deepEqual(srtcp.subarray(wordAt + 4, wordAt + 4 + MKI.length), MKI);
      });

      it(`${profile}: unprotectRtcp MUST recover the RTCP packet`, () => {
        assert.equal(ctx().unprotectRtcp(splice(profile, hex(v.srtcp), p.srtcpTagLength)).toString('hex'), v.rtcp_plain.toLowerCase());
      });
    }
  });

  for (const profile of ALL_PROFILES) {
    const p = SRTP_PROFILES[profile];
    describe(profile, () => {
      const withMki = (extra: Partial<SrtpContextOptions> = {}): { tx: SrtpContext; rx: SrtpContext } => pair(profile, { mki: MKI, ...extra });

      it('it MUST round-trip SRTP and SRTCP, and the MKI MUST NOT be authenticated (same tag as without it)', () => {
        const { tx, rx } = withMki();
        const plain = pair(profile);
        for (let seq = 1; seq <= 3; seq++) {
          const srtp = tx.protectRtp(rtp({ seq }));
          assert.deepEqual(srtp, splice(profile, plain.tx.protectRtp(rtp({ seq })), p.srtpTagLength));
          assert.deepEqual(rx.unprotectRtp(srtp), rtp({ seq }));
          const srtcp = tx.protectRtcp(rtcp(0x1234, seq));
          assert.deepEqual(srtcp, splice(profile, plain.tx.protectRtcp(rtcp(0x1234, seq)), p.srtcpTagLength));
          assert.deepEqual(rx.unprotectRtcp(srtcp), rtcp(0x1234, seq));
        }
      });

      it('a packet with another MKI MUST be refused before any crypto (unknown-mki), changing no state', () => {
        const { tx, rx } = withMki();
        const other = pair(profile, { mki: Buffer.from('deadbe00', 'hex') });
        const srtp = tx.protectRtp(rtp({ seq: 10 }));
        const srtcp = tx.protectRtcp(rtcp());
        assertUnknownMki(thrown(() => rx.unprotectRtp(other.tx.protectRtp(rtp({ seq: 10 })))));
        assertUnknownMki(thrown(() => rx.unprotectRtcp(other.tx.protectRtcp(rtcp()))));
        assert.deepEqual(rx.streamCounts, { rtpIn: 0, rtpOut: 0, rtcpIn: 0, rtcpOut: 0 }, 'no stream created');
        assert.deepEqual(rx.unprotectRtp(srtp), rtp({ seq: 10 }), 'the genuine packet is still fresh');
        assert.deepEqual(rx.unprotectRtcp(srtcp), rtcp());
      });

      it('packets without the MKI, or an MKI where none is expected, MUST be refused with an SrtpError, not crash', () => {
        const { rx } = withMki();
        const plain = pair(profile);
        for (const f of [() => rx.unprotectRtp(plain.tx.protectRtp(rtp({ seq: 5 }))), () => rx.unprotectRtcp(plain.tx.protectRtcp(rtcp()))]) {
          const err = thrown(f);
          assert.ok(err instanceof SrtpError, String(err));
        }
        const { tx } = withMki();
        for (const f of [() => plain.rx.unprotectRtp(tx.protectRtp(rtp({ seq: 5 }))), () => plain.rx.unprotectRtcp(tx.protectRtcp(rtcp()))]) {
          const err = thrown(f);
          assert.ok(err instanceof SrtpAuthError && err.reason === 'tag-mismatch', String(err));
        }
        const tiny = rtp({ seq: 6, payload: Buffer.alloc(0) }).subarray(0, 12 + p.srtpTagLength + MKI.length - 1);
        assert.ok(thrown(() => rx.unprotectRtp(tiny)) instanceof SrtpError);
      });
    });
  }

  it('an MKI of 0 or more than 128 octets MUST be a SrtpConfigError; 1 and 128 are accepted', () => {
    for (const mki of [Buffer.alloc(0), Buffer.alloc(129)]) {
      assert.ok(thrown(() => pair('AES_CM_128_HMAC_SHA1_80', { mki })) instanceof SrtpConfigError);
    }
    for (const n of [1, 128]) {
      const { tx, rx } = pair('AEAD_AES_128_GCM', { mki: Buffer.alloc(n, 7) });
      assert.deepEqual(rx.unprotectRtp(tx.protectRtp(rtp({ seq: 1 }))), rtp({ seq: 1 }));
    }
  });

  it('the context MUST keep its own copy of the MKI', () => {
    const mki = Buffer.from(MKI);
    const { tx } = pair('AES_CM_128_HMAC_SHA1_80', { mki });
    mki.fill(0);
    const srtp = tx.protectRtp(rtp({ seq: 1 }));
    assert.deepEqual(srtp.subarray(srtp.length - 10 - 4, srtp.length - 10), MKI);
  });
});
