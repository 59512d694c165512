/**
 * AES in counter mode as SRTP uses it (RFC 3711 §4.1.1; RFC 6188 §3 for AES-256), and as the
 * AES_CM PRF of the key derivation (RFC 3711 §4.3.3).
 *
 * Why ECB: node:crypto cannot re-IV a cipher, so an `aes-*-ctr` object per packet would pay the
 * full createCipheriv cost (~3 µs here) each time. Instead one `aes-*-ecb` object is created per
 * session key and the keystream is made by encrypting the counter blocks IV, IV+1, ... in a
 * single `update()` call. ECB over distinct counter blocks *is* counter mode; the object is never
 * finalised, and without padding every update returns exactly its input length.
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { SrtpConfigError } from '../errors';

const BLOCK = 16;
/**
 * RFC 3711 §4.1.1: the counter's low 16 bits step through one packet's keystream, so a packet
 * may use at most 2^16 blocks (1 MiB). Packets are bounded far below this by the context.
 */
export const MAX_KEYSTREAM_BLOCKS = 0x10000;

/** Whether this host stores 32-bit words little-endian (the counter words are written natively). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

export class AesCounterMode {
  private readonly ecb: Cipher;
  /** Reused counter blocks, as bytes (for the cipher) and as native 32-bit words (to fill them). */
  private counterBytes: Buffer;
  private counterWords: Uint32Array;
  /** The IV's first 12 octets as native words: one copy instead of 12 byte stores per block. */
  private readonly ivBytes = new Uint8Array(16);
  private readonly ivWords = new Uint32Array(this.ivBytes.buffer);

  constructor(key: Uint8Array) {
    const algorithm =
      key.length === 16 ? 'aes-128-ecb' : key.length === 24 ? 'aes-192-ecb' : key.length === 32 ? 'aes-256-ecb' : '';
    if (!algorithm) throw new SrtpConfigError(`AES key must be 16, 24 or 32 octets, got ${key.length}`);
    this.ecb = createCipheriv(algorithm, key, null);
    this.ecb.setAutoPadding(false);
    this.counterWords = new Uint32Array(4 * 16);
    this.counterBytes = Buffer.from(this.counterWords.buffer);
  }

  /**
   * XORs the keystream that starts at counter block `iv` into `data[start, end)`, in place
   * (encryption and decryption are the same operation).
   */
  xor(iv: Uint8Array, data: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (length <= 0) return;
    const stream = this.generate(iv, length);
    for (let i = 0; i < length; i++) data[start + i] ^= stream[i];
  }

  /** `length` octets of keystream starting at counter block `iv` (the PRF output of §4.3.3). */
  keystream(iv: Uint8Array, length: number): Buffer {
    const stream = this.generate(iv, length);
    const out = Buffer.from(stream.subarray(0, length));
    stream.fill(0); // it may be key material (the PRF output)
    return out;
  }

  private generate(iv: Uint8Array, length: number): Buffer {
    if (iv.length !== BLOCK) throw new RangeError('counter block must be 16 octets');
    const blocks = Math.ceil(length / BLOCK);
    if (blocks > MAX_KEYSTREAM_BLOCKS) throw new RangeError('keystream longer than 2^16 blocks');
    const bytes = blocks * BLOCK;
    if (this.counterBytes.length < bytes) {
      this.counterWords = new Uint32Array(Math.max(bytes, this.counterBytes.length * 2) / 4);
      this.counterBytes = Buffer.from(this.counterWords.buffer);
    }
    // Counter block j = IV + j mod 2^128 (RFC 3711 §4.1.1). SRTP IVs end in 16 zero bits, so the
    // low word never carries in practice; the slow path keeps the arithmetic exact anyway.
    const low = ((iv[12] << 24) | (iv[13] << 16) | (iv[14] << 8) | iv[15]) >>> 0;
    if (low + blocks - 1 > 0xffffffff) return this.generateWithCarry(iv, blocks);
    this.ivBytes.set(iv);
    const w = this.counterWords;
    const w0 = this.ivWords[0];
    const w1 = this.ivWords[1];
    const w2 = this.ivWords[2];
    for (let j = 0, o = 0; j < blocks; j++, o += 4) {
      const v = (low + j) >>> 0;
      w[o] = w0;
      w[o + 1] = w1;
      w[o + 2] = w2;
      w[o + 3] = LITTLE_ENDIAN ? ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24) : v;
    }
    return this.ecb.update(this.counterBytes.subarray(0, bytes));
  }

  /** The general case: a big-endian 128-bit increment per block. */
  private generateWithCarry(iv: Uint8Array, blocks: number): Buffer {
    const c = this.counterBytes;
    c.set(iv, 0);
    for (let off = BLOCK; off < blocks * BLOCK; off += BLOCK) {
      c.copyWithin(off, off - BLOCK, off);
      for (let i = off + BLOCK - 1; i >= off; i--) {
        c[i] = (c[i] + 1) & 0xff;
        if (c[i] !== 0) break;
      }
    }
    return this.ecb.update(c.subarray(0, blocks * BLOCK));
  }
}
