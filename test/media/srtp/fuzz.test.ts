/**
 * Malformed and hostile input: random bytes, truncations, bit flips and length games MUST end in
 * SrtpFormatError or SrtpAuthError (replays included), never another exception, and MUST NOT
 * disturb the genuine stream. Bounded: 2000 iterations per case, seeded for reproducibility.
 */
import assert from 'node:assert/strict';
import { SrtpAuthError, SrtpError, SrtpFormatError, type SrtpContext, type SrtpProfileName } from '../../../media/srtp';
import { pair, prng, rtcp, rtp } from './helpers';

const ITERATIONS = 2000;


function bytes(next: () => number, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = next() & 0xff;
  return b;
}

/** Mutates a genuine packet in one of several ways. */
function mutate(next: () => number, packet: Buffer): Buffer {
  const p = Buffer.from(packet);
  switch (next() % 6) {
    case 0:
      return p.subarray(0, next() % p.length); // truncate
    case 1:
      p[next() % p.length] ^= 1 << (next() % 8); // one bit
      return p;
    case 2:
      p[0] = (p[0] & 0xc0) | (next() & 0x3f); // CC, X and P bits: header length games
      return p;
    case 3:
      if (p.length > 15) p.writeUInt16BE(next() & 0xffff, 14); // extension length, if any
      return p;
    case 4:
      return Buffer.concat([p, bytes(next, 1 + (next() % 40))]); // trailing garbage
    default:
      return bytes(next, next() % (p.length + 20)); // same size class, random content
  }
}

function expectRejected(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SrtpFormatError || err instanceof SrtpAuthError, `${what}: unexpected ${String(err)}`);
    return;
  }
  assert.fail(`${what}: a malformed packet was accepted`);
}

describe('SRTP/SRTCP malformed input (bounded fuzz)', function () {
  this.timeout(60_000);

  for (const profile of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_128_GCM'] as SrtpProfileName[]) {
    describe(profile, () => {
      let tx: SrtpContext;
      let rx: SrtpContext;
      beforeEach(() => ({ tx, rx } = pair(profile)));

      it(`unprotectRtp MUST reject ${ITERATIONS} random packets with SrtpFormatError/SrtpAuthError`, () => {
        const next = prng(0x5eed0001);
        for (let i = 0; i < ITERATIONS; i++) {
          const p = bytes(next, next() % 300);
          if (i % 2) p[0] = 0x80 | (p[0] & 0x3f); // half of them pass the version check
          expectRejected(() => rx.unprotectRtp(p), `random #${i}`);
        }
        assert.equal(rx.streamCounts.rtpIn, 0, 'no forged packet created a stream');
      });

      it(`unprotectRtp MUST reject ${ITERATIONS} mutated genuine packets and still accept the genuine stream`, () => {
        const next = prng(0x5eed0002);
        let seq = 100;
        for (let i = 0; i < ITERATIONS; i++) {
          const genuine = tx.protectRtp(rtp({ seq: seq++, csrcs: i % 3 ? [] : [1, 2], extension: i % 4 ? undefined : { profile: 0xbede, data: Buffer.alloc(8, 7) } }));
          const bad = mutate(next, genuine);
          if (!bad.equals(genuine)) expectRejected(() => rx.unprotectRtp(bad), `mutation #${i}`);
          assert.equal(rx.unprotectRtp(genuine).length, genuine.length - (tx.profile.srtpTagLength), `genuine #${i}`);
        }
      });

      it(`unprotectRtcp MUST reject ${ITERATIONS} random and mutated packets and still accept genuine ones`, () => {
        const next = prng(0x5eed0003);
        for (let i = 0; i < ITERATIONS; i++) {
          const genuine = tx.protectRtcp(rtcp(0x1234, i & 0xff));
          const bad = i % 2 ? mutate(next, genuine) : bytes(next, next() % 120);
          if (!bad.equals(genuine)) expectRejected(() => rx.unprotectRtcp(bad), `rtcp #${i}`);
          assert.deepEqual(rx.unprotectRtcp(genuine), rtcp(0x1234, i & 0xff), `genuine #${i}`);
        }
      });

      it(`protectRtp/protectRtcp MUST throw only SrtpErrors on ${ITERATIONS} random inputs`, () => {
        const next = prng(0x5eed0004);
        for (let i = 0; i < ITERATIONS; i++) {
          const p = bytes(next, next() % 200);
          for (const f of [() => tx.protectRtp(p), () => tx.protectRtcp(p)]) {
            try {
              f();
            } catch (err) {
              assert.ok(err instanceof SrtpError, `#${i}: unexpected ${String(err)}`);
            }
          }
        }
      });
    });
  }

  it('a packet larger than any UDP datagram MUST be a SrtpFormatError', () => {
    const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80');
    const huge = rtp({ seq: 1, payload: Buffer.alloc(70_000) });
    for (const f of [() => tx.protectRtp(huge), () => rx.unprotectRtp(huge), () => rx.unprotectRtcp(huge)]) {
      try {
        f();
        assert.fail('accepted');
      } catch (err) {
        assert.ok(err instanceof SrtpFormatError && err.reason === 'too-long', String(err));
      }
    }
  });
});
