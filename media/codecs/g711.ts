/**
 * G.711 µ-law (PCMU) and A-law (PCMA), RFC 3551 §4.5.14, by lookup tables.
 *
 * The tables are built once, at load, from the ITU-T G.191 (STL) reference algorithms
 * `ulaw_compress`/`ulaw_expand` and `alaw_compress`/`alaw_expand`, which are bit-exact with
 * ITU-T G.711 Tables 1a/2a. That matters for negative inputs: the reference takes the one's
 * complement of a negative sample (so -1 encodes like +0 with the sign bit clear: µ-law 0x7F,
 * A-law 0x55), where the widespread Sun `g711.c` negates it and lands one step away.
 *
 * Encoding is one 64 K-entry table per law indexed by the 16-bit sample (128 KB in all, one
 * memory access per sample); decoding is one 256-entry table per law.
 */
import { CodecConfigError, CodecPcmError } from './errors';
import { checkPtime, MAX_PACKET_MS, WaveformCodec } from './codec';

/** ITU-T G.191 ulaw_compress for one 16-bit sample (14-bit left-justified input). */
export function ulawCompress(sample: number): number {
  const absno = Math.min((sample < 0 ? ~sample >> 2 : sample >> 2) + 33, 0x1fff);
  let segno = 1;
  for (let i = absno >> 6; i !== 0; i >>= 1) segno++;
  const high = 8 - segno;
  const low = 0x0f - ((absno >> segno) & 0x0f);
  const code = (high << 4) | low;
  return sample >= 0 ? code | 0x80 : code;
}

/** ITU-T G.191 ulaw_expand: one µ-law octet to a 16-bit sample (14-bit left-justified). */
export function ulawExpand(code: number): number {
  const sign = code < 0x80 ? -1 : 1;
  const mantissa = ~code & 0xff;
  const exponent = (mantissa >> 4) & 0x07;
  const step = 4 << (exponent + 1);
  return sign * ((0x80 << exponent) + step * (mantissa & 0x0f) + step / 2 - 4 * 33);
}

/** ITU-T G.191 alaw_compress for one 16-bit sample (13-bit left-justified input). */
export function alawCompress(sample: number): number {
  let ix = sample < 0 ? ~sample >> 4 : sample >> 4;
  if (ix > 15) {
    let iexp = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      iexp++;
    }
    ix = ix - 16 + (iexp << 4);
  }
  if (sample >= 0) ix |= 0x80;
  return ix ^ 0x55;
}

/** ITU-T G.191 alaw_expand: one A-law octet to a 16-bit sample (13-bit left-justified). */
export function alawExpand(code: number): number {
  const ix = (code ^ 0x55) & 0x7f;
  const iexp = ix >> 4;
  let mant = ix & 0x0f;
  if (iexp > 0) mant += 16;
  mant = (mant << 4) + 0x08;
  if (iexp > 1) mant <<= iexp - 1;
  return code > 127 ? mant : -mant;
}

function encodeTable(compress: (s: number) => number): Uint8Array {
  const t = new Uint8Array(65536);
  for (let u = 0; u < 65536; u++) t[u] = compress((u << 16) >> 16);
  return t;
}

function decodeTable(expand: (c: number) => number): Int16Array {
  const t = new Int16Array(256);
  for (let c = 0; c < 256; c++) t[c] = expand(c);
  return t;
}

/** 16-bit sample (as `sample & 0xffff`) → µ-law octet. */
export const ULAW_ENCODE: Readonly<Uint8Array> = encodeTable(ulawCompress);
/** µ-law octet → 16-bit sample. */
export const ULAW_DECODE: Readonly<Int16Array> = decodeTable(ulawExpand);
/** 16-bit sample (as `sample & 0xffff`) → A-law octet. */
export const ALAW_ENCODE: Readonly<Uint8Array> = encodeTable(alawCompress);
/** A-law octet → 16-bit sample. */
export const ALAW_DECODE: Readonly<Int16Array> = decodeTable(alawExpand);

/** Longest payload accepted: MAX_PACKET_MS at 8 kHz, one octet per sample. */
const MAX_PAYLOAD = (8000 * MAX_PACKET_MS) / 1000;

/** PCMU (payload type 0) or PCMA (payload type 8): 8 kHz, one octet per sample (RFC 3551 §4.5.14). */
export class G711Codec extends WaveformCodec {
  readonly clockRate = 8000;
  readonly sampleRate = 8000;
  private readonly enc: Readonly<Uint8Array>;
  private readonly dec: Readonly<Int16Array>;

  constructor(readonly name: 'PCMU' | 'PCMA') {
    super(8000, MAX_PAYLOAD);
    if (name !== 'PCMU' && name !== 'PCMA') throw new CodecConfigError(`not a G.711 law: ${String(name)}`);
    this.enc = name === 'PCMU' ? ULAW_ENCODE : ALAW_ENCODE;
    this.dec = name === 'PCMU' ? ULAW_DECODE : ALAW_DECODE;
  }

  frameSamples(ptimeMs: number): number {
    checkPtime(ptimeMs);
    return 8 * ptimeMs;
  }

  timestampIncrement(ptimeMs: number): number {
    return this.frameSamples(ptimeMs);
  }

  protected decodePayload(payload: Uint8Array): Int16Array {
    const n = payload.length;
    const pcm = new Int16Array(n);
    const dec = this.dec;
    for (let i = 0; i < n; i++) pcm[i] = dec[payload[i]];
    return pcm;
  }

  protected encodePcm(pcm: Int16Array): Buffer {
    const n = pcm.length;
    if (n === 0 || n > MAX_PAYLOAD) throw new CodecPcmError(this.name, n, `not 1–${MAX_PAYLOAD} samples`);
    const out = Buffer.allocUnsafe(n);
    const enc = this.enc;
    for (let i = 0; i < n; i++) out[i] = enc[pcm[i] & 0xffff];
    return out;
  }
}
