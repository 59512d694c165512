/**
 * SHA-1 (FIPS 180-4 §6.1) in plain TypeScript, for the precomputed-pad HMAC of ./hmac.ts.
 *
 * Why not node:crypto: an HMAC per packet through createHmac() costs ~2.2–3.5 µs on the
 * reference machine, almost all of it object creation and key setup, while an SRTP tag over a
 * 176-octet message needs four compression-function calls (~1 µs here). SHA-1 is add-rotate-xor
 * only: no table lookups and no data-dependent branches, so this code is constant-time by
 * construction. It is cross-checked against node:crypto in test/media/srtp/hmac.test.ts.
 */

/** The initial hash value H(0) (FIPS 180-4 §5.3.1), as signed 32-bit words. */
export const SHA1_INITIAL_STATE: Readonly<Int32Array> = Int32Array.of(
  0x67452301,
  0xefcdab89 | 0,
  0x98badcfe | 0,
  0x10325476,
  0xc3d2e1f0 | 0,
);

/** Message schedule scratch; compress() is synchronous, so one array per realm suffices. */
const W = new Int32Array(80);

/** Processes one 64-octet block of `block` at `offset` into the chaining `state` (§6.1.2). */
export function sha1Compress(state: Int32Array, block: Uint8Array, offset: number): void {
  for (let i = 0, o = offset; i < 16; i++, o += 4) {
    W[i] = (block[o] << 24) | (block[o + 1] << 16) | (block[o + 2] << 8) | block[o + 3];
  }
  for (let i = 16; i < 80; i++) {
    const x = W[i - 3] ^ W[i - 8] ^ W[i - 14] ^ W[i - 16];
    W[i] = (x << 1) | (x >>> 31);
  }
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let e = state[4];
  let t: number;
  let i = 0;
  // The four 20-round groups use Ch, Parity, Maj, Parity with K = 5a827999, 6ed9eba1, 8f1bbcdc, ca62c1d6.
  for (; i < 20; i++) {
    t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + W[i]) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  for (; i < 40; i++) {
    t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + W[i]) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  for (; i < 60; i++) {
    t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + W[i]) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  for (; i < 80; i++) {
    t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + W[i]) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0;
}

/** A SHA-1 computation that can resume from any chaining state (the HMAC pads' states). */
export class Sha1Stream {
  readonly state = new Int32Array(5);
  private readonly block = new Uint8Array(64);
  private readonly word = new Uint8Array(4);
  private fill = 0;
  /** Octets absorbed so far, including those folded into the starting state. */
  private length = 0;

  /** Restarts from `state`, which already absorbed `absorbed` octets (a multiple of 64). */
  reset(state: Readonly<Int32Array>, absorbed: number): this {
    this.state.set(state);
    this.fill = 0;
    this.length = absorbed;
    return this;
  }

  update(data: Uint8Array, start: number, end: number): this {
    let off = start;
    this.length += end - start;
    const block = this.block;
    // Byte loops, not block.set(data.subarray(...)): the copies are < 64 octets and a subarray
    // allocates a view, which costs more than the copy.
    if (this.fill > 0) {
      let fill = this.fill;
      while (fill < 64 && off < end) block[fill++] = data[off++];
      this.fill = fill;
      if (fill < 64) return this;
      sha1Compress(this.state, block, 0);
      this.fill = 0;
    }
    for (; end - off >= 64; off += 64) sha1Compress(this.state, data, off);
    let fill = 0;
    while (off < end) block[fill++] = data[off++];
    if (fill > 0) this.fill = fill;
    return this;
  }

  /** Absorbs a 32-bit big-endian word (the SRTP ROC of RFC 3711 §4.2). */
  updateUint32(value: number): this {
    writeUint32(this.word, 0, value);
    return this.update(this.word, 0, 4);
  }

  /** Pads (§5.1.1), finishes, and writes the 20-octet digest to `out` at `offset`. */
  digestInto(out: Uint8Array, offset: number): void {
    const block = this.block;
    let fill = this.fill;
    block[fill++] = 0x80;
    if (fill > 56) {
      block.fill(0, fill, 64);
      sha1Compress(this.state, block, 0);
      fill = 0;
    }
    block.fill(0, fill, 56);
    const bits = this.length * 8; // < 2^53: exact in a double
    writeUint32(block, 56, Math.floor(bits / 0x100000000));
    writeUint32(block, 60, bits >>> 0);
    sha1Compress(this.state, block, 0);
    for (let i = 0; i < 5; i++) writeUint32(out, offset + 4 * i, this.state[i]);
    this.fill = 0;
  }

  /** Overwrites the chaining state and buffered input. */
  wipe(): void {
    this.state.fill(0);
    this.block.fill(0);
    this.fill = 0;
    this.length = 0;
  }
}

function writeUint32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = value >>> 16;
  out[offset + 2] = value >>> 8;
  out[offset + 3] = value;
}
