/** The block-cipher modes under the transforms: AES-CM (RFC 3711 §4.1.1) and AES-GCM (RFC 7714). */
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { SrtpConfigError } from '../../../media/srtp';
import { AesCounterMode, MAX_KEYSTREAM_BLOCKS } from '../../../media/srtp/cipher/ctr';
import { AesGcm } from '../../../media/srtp/cipher/gcm';

describe('RFC 3711 §4.1.1 AES counter mode (cipher/ctr.ts)', () => {
  for (const bits of [128, 192, 256]) {
    it(`AES-${bits}: the ECB-built keystream MUST equal OpenSSL aes-${bits}-ctr, carries included`, () => {
      const key = randomBytes(bits / 8);
      const cm = new AesCounterMode(key);
      const ivs = [
        Buffer.from('f0f1f2f3f4f5f6f7f8f9fafbfcfd0000', 'hex'), // the SRTP shape: low 16 bits zero
        Buffer.from('000102030405060708090a0bfffffff0', 'hex'), // carry out of the low word
        Buffer.alloc(16, 0xff), // wraps mod 2^128
        randomBytes(16),
      ];
      for (const iv of ivs) {
        for (const length of [1, 15, 16, 17, 160, 333]) {
          const expected = createCipheriv(`aes-${bits}-ctr`, key, iv).update(Buffer.alloc(length));
          assert.deepEqual(cm.keystream(iv, length), expected, `iv ${iv.toString('hex')} length ${length}`);
        }
      }
    });
  }

  it('xor() MUST touch only [start, end) and be its own inverse', () => {
    const cm = new AesCounterMode(randomBytes(16));
    const iv = randomBytes(16);
    const data = randomBytes(100);
    const copy = Buffer.from(data);
    cm.xor(iv, data, 12, 90);
    assert.deepEqual(data.subarray(0, 12), copy.subarray(0, 12));
    assert.deepEqual(data.subarray(90), copy.subarray(90));
    assert.notDeepEqual(data.subarray(12, 90), copy.subarray(12, 90));
    cm.xor(iv, data, 12, 90);
    assert.deepEqual(data, copy);
  });

  it('it MUST refuse a keystream longer than 2^16 blocks and keys of a wrong size', () => {
    const cm = new AesCounterMode(randomBytes(16));
    assert.throws(() => cm.keystream(Buffer.alloc(16), MAX_KEYSTREAM_BLOCKS * 16 + 1), RangeError);
    assert.throws(() => new AesCounterMode(randomBytes(20)), SrtpConfigError);
  });
});

describe('RFC 7714 AES-GCM (cipher/gcm.ts)', () => {
  const gcm = new AesGcm(randomBytes(16));
  const iv = randomBytes(12);
  const aad = randomBytes(12);
  const plain = randomBytes(160);
  const sealed = Buffer.alloc(176);
  gcm.seal(iv, aad, plain, sealed, 0);

  it('open() MUST invert seal()', () => {
    const out = Buffer.alloc(160);
    assert.equal(gcm.open(iv, aad, sealed.subarray(0, 160), sealed.subarray(160), out, 0), true);
    assert.deepEqual(out, plain);
  });

  it('open() MUST fail and write nothing for a wrong tag, AAD or IV', () => {
    const flip = (b: Buffer, at: number): Buffer => {
      const c = Buffer.from(b);
      c[at] ^= 0x01;
      return c;
    };
    const cases: Array<[Buffer, Buffer, Buffer]> = [
      [iv, aad, flip(sealed.subarray(160), 0)],
      [iv, flip(aad, 0), sealed.subarray(160)],
      [flip(iv, 11), aad, sealed.subarray(160)],
    ];
    for (const [v, a, tag] of cases) {
      const out = Buffer.alloc(160, 0xee);
      assert.equal(gcm.open(v, a, sealed.subarray(0, 160), tag, out, 0), false);
      assert.deepEqual(out, Buffer.alloc(160, 0xee), 'no unauthenticated plaintext released');
    }
  });

  it('open() MUST refuse a truncated tag even when its prefix is right (no short-tag forgery)', () => {
    const out = Buffer.alloc(160);
    assert.equal(gcm.open(iv, aad, sealed.subarray(0, 160), sealed.subarray(160, 172), out, 0), false);
    assert.equal(gcm.open(iv, aad, sealed.subarray(0, 160), sealed.subarray(160, 164), out, 0), false);
  });

  it('it MUST refuse keys that are not 16 or 32 octets', () => {
    assert.throws(() => new AesGcm(randomBytes(24)), SrtpConfigError);
  });
});
