/**
 * HMAC-SHA1 (RFC 2104) with the key's inner and outer pad blocks hashed once, at construction:
 * each message then costs only its own compression-function calls plus one for the outer hash.
 * This is the SRTP message authentication of RFC 3711 §4.2.1.
 */
import { SHA1_INITIAL_STATE, Sha1Stream, sha1Compress } from './sha1';

const BLOCK = 64;
export const SHA1_DIGEST_LENGTH = 20;

export class HmacSha1 {
  private readonly innerState = new Int32Array(5);
  private readonly outerState = new Int32Array(5);
  private readonly stream = new Sha1Stream();
  private readonly inner = new Uint8Array(SHA1_DIGEST_LENGTH);
  /** The last computed MAC; overwritten by the next call. */
  private readonly mac = Buffer.alloc(SHA1_DIGEST_LENGTH);

  constructor(key: Uint8Array) {
    // RFC 2104 §2: keys longer than the block are hashed first; shorter ones are zero-padded.
    let k = key;
    if (k.length > BLOCK) {
      const digest = new Uint8Array(SHA1_DIGEST_LENGTH);
      this.stream.reset(SHA1_INITIAL_STATE, 0).update(k, 0, k.length).digestInto(digest, 0);
      k = digest;
    }
    const pad = new Uint8Array(BLOCK);
    for (const [state, byte] of [[this.innerState, 0x36], [this.outerState, 0x5c]] as const) {
      pad.fill(byte);
      for (let i = 0; i < k.length; i++) pad[i] ^= k[i];
      state.set(SHA1_INITIAL_STATE);
      sha1Compress(state, pad, 0);
    }
    pad.fill(0);
    if (k !== key) k.fill(0);
  }

  /**
   * HMAC over `data[start, end)`, followed by the 32-bit big-endian `trailer` when one is given
   * (SRTP's ROC, RFC 3711 §4.2). Returns an internal 20-octet buffer valid until the next call.
   */
  compute(data: Uint8Array, start: number, end: number, trailer?: number): Buffer {
    const s = this.stream.reset(this.innerState, BLOCK).update(data, start, end);
    if (trailer !== undefined) s.updateUint32(trailer);
    s.digestInto(this.inner, 0);
    this.stream.reset(this.outerState, BLOCK).update(this.inner, 0, SHA1_DIGEST_LENGTH).digestInto(this.mac, 0);
    return this.mac;
  }

  /** Writes the first `tagLength` octets of the MAC to `out` at `offset`. */
  sign(data: Uint8Array, start: number, end: number, trailer: number | undefined, out: Uint8Array, offset: number, tagLength: number): void {
    const mac = this.compute(data, start, end, trailer);
    for (let i = 0; i < tagLength; i++) out[offset + i] = mac[i];
  }

  /**
   * Constant-time comparison of the truncated MAC with `tag[tagOffset, tagOffset + tagLength)`:
   * every octet is compared whatever the data (OR of XORs, no early exit), as timingSafeEqual does,
   * without allocating two views per packet.
   */
  verify(data: Uint8Array, start: number, end: number, trailer: number | undefined, tag: Uint8Array, tagOffset: number, tagLength: number): boolean {
    if (tagLength < 1 || tagLength > SHA1_DIGEST_LENGTH || tagOffset + tagLength > tag.length) return false;
    const mac = this.compute(data, start, end, trailer);
    let diff = 0;
    for (let i = 0; i < tagLength; i++) diff |= mac[i] ^ tag[tagOffset + i];
    return diff === 0;
  }

  /** Overwrites the pad states and scratch buffers; the object is unusable afterwards. */
  wipe(): void {
    this.innerState.fill(0);
    this.outerState.fill(0);
    this.inner.fill(0);
    this.mac.fill(0);
    this.stream.wipe();
  }
}
