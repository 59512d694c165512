/**
 * G.722 (ITU-T G.722, 7 kHz audio in 64 kbit/s by sub-band ADPCM), mode 1 only, as RTP payload
 * type 9 (RFC 3551 §4.5.2): one octet per pair of 16 kHz samples, RTP clock 8000 (the RFC's
 * historical quirk), so 20 ms = 320 samples = 160 octets = 160 timestamp ticks.
 *
 * Written from the algorithm of ITU-T G.722 §3 (encoder) and §4 (decoder):
 * - QMF (§3.2, §4.4): the 24-tap symmetric filter of Table 11/G.722 splits 16 kHz PCM into a lower
 *   and a higher sub-band at 8 kHz each, and merges them back; the pair delays by 23 samples.
 * - Lower sub-band (§3.3–3.5): 6-bit adaptive quantizer (Table 6: 30 decision levels × the scale
 *   factor), 4-bit inverse quantizer feeding the predictor (Table 7), 6-bit reconstruction in the
 *   decoder (mode 1, Table 7), log scale factor adaptation with leakage 127/128.
 * - Higher sub-band (§3.3–3.5): 2-bit quantizer with one decision level (564) and its inverse.
 * - Block 4 (§3.6): the shared pole-zero predictor — two poles and six zeros, sign-sign adapted
 *   (RECONS, PARREC, UPPOL2, UPPOL1, UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC).
 *
 * The octet is I_H (2 bits) in bits 7–6 and I_L (6 bits) in bits 5–0 (§1.4.4). All arithmetic is
 * the integer arithmetic of the recommendation: 16-bit values, products shifted by 15 bits.
 * Band signals are carried at 15 bits: the 16-bit PCM enters the analysis QMF with a 2^-14 scale
 * and leaves the synthesis QMF with 2^-11, which keeps the codec at unity gain.
 */
import { checkPtime, MAX_PACKET_MS, WaveformCodec } from './codec';
import { CodecPcmError } from './errors';

/** QMF coefficients h0…h23 (Table 11/G.722): symmetric, h(i) = h(23 − i). */
const QMF_HALF = [3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876];
const QMF: readonly number[] = [...QMF_HALF, ...[...QMF_HALF].reverse()];

/** Lower sub-band decision levels (Table 6/G.722), compared as (level × DETL) >> 12; index 1–29. */
const Q6 = [0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919];
/** I_L code for a negative (ILN) and a non-negative (ILP) difference, by quantizer interval. */
const ILN = [0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4];
const ILP = [0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32];

/** 4-bit inverse quantizer outputs QQ4 (Table 7/G.722), by I_L >> 2: what the predictor sees. */
const QM4 = [0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0];
/** 6-bit inverse quantizer outputs QQ6 (Table 7/G.722, mode 1), by I_L. */
const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
  -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
  24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
  4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
/** Magnitude index of the 4-bit code (RIL → IL4) and its log scale factor multiplier WL (Table 8). */
const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042];

/** Higher sub-band: I_H codes (Table 9), inverse quantizer QQ2 (Table 10), multipliers WH. */
const IHN = [0, 1, 0];
const IHP = [0, 3, 2];
const QM2 = [-7408, -1616, 7408, 1616];
const RH2 = [2, 1, 2, 1];
const WH = [0, -214, 798];

/** Antilog table ILB (§3.5, Table 13): 2048 · 2^(i/32). */
const ILB = [
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
  2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];

/** Saturate to the 16-bit two's complement range (the recommendation's "limit"). */
function sat16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/** Scale factor from the log scale factor (§3.5 SCALEL/SCALEH): `shift` is 8 lower, 10 higher. */
function scaleOf(nb: number, shift: number): number {
  const frac = (nb >> 6) & 31;
  const exp = shift - (nb >> 11);
  const lin = exp < 0 ? ILB[frac] << -exp : ILB[frac] >> exp;
  return lin << 2;
}

/** The adaptive state of one sub-band (§3.5–3.6), the same in encoder and decoder. */
class SubBand {
  /** Predictor output SL/SH for the next sample, and its zero part SZ. */
  s = 0;
  sz = 0;
  /** Log scale factor NBL/NBH and scale factor DETL/DETH. */
  nb = 0;
  det: number;
  /** Reconstructed signal R, partial reconstruction P, quantized differences D (index 0 = now). */
  private readonly r = [0, 0, 0];
  private readonly p = [0, 0, 0];
  private readonly d = [0, 0, 0, 0, 0, 0, 0];
  /** Pole coefficients A1, A2 and zero coefficients B1…B6 (index 0 unused). */
  private readonly a = [0, 0, 0];
  private readonly b = [0, 0, 0, 0, 0, 0, 0];

  constructor(
    private readonly det0: number,
    private readonly shift: number,
    private readonly nbMax: number,
    private readonly weights: readonly number[],
  ) {
    this.det = det0;
  }

  /** LOGSCL + SCALE (§3.5): leak the log scale factor by 127/128, add the code's multiplier. */
  adapt(weightIndex: number): void {
    const nb = ((this.nb * 127) >> 7) + this.weights[weightIndex];
    this.nb = nb < 0 ? 0 : nb > this.nbMax ? this.nbMax : nb;
    this.det = scaleOf(this.nb, this.shift);
  }

  /** Block 4 (§3.6): update the predictor with the quantized difference `dq` of this sample. */
  predict(dq: number): void {
    const { r, p, d, a, b } = this;
    // RECONS, PARREC
    d[0] = dq;
    r[0] = sat16(this.s + dq);
    p[0] = sat16(this.sz + dq);
    // UPPOL2: second pole, sign-sign on P with A1 feedback, leakage 32512/32768, |A2| ≤ 12288.
    const sg0 = p[0] >> 15;
    const sg1 = p[1] >> 15;
    const sg2 = p[2] >> 15;
    let wd = sat16(a[1] * 4);
    wd = sg0 === sg1 ? -wd : wd;
    if (wd > 32767) wd = 32767;
    let a2 = (wd >> 7) + (sg0 === sg2 ? 128 : -128) + ((a[2] * 32512) >> 15);
    a2 = a2 > 12288 ? 12288 : a2 < -12288 ? -12288 : a2;
    // UPPOL1: first pole, leakage 32640/32768, |A1| ≤ 15360 − A2 (stability).
    let a1 = sat16((sg0 === sg1 ? 192 : -192) + ((a[1] * 32640) >> 15));
    const lim = sat16(15360 - a2);
    a1 = a1 > lim ? lim : a1 < -lim ? -lim : a1;
    // UPZERO: six zeros, sign-sign on D, step 128, leakage 32640/32768.
    const step = dq === 0 ? 0 : 128;
    const sgd = dq >> 15;
    // Each B(i) depends only on its own old value and D(i), so it is updated in place, before
    // DELAYA moves the differences along.
    for (let i = 1; i < 7; i++) b[i] = sat16(((d[i] >> 15) === sgd ? step : -step) + ((b[i] * 32640) >> 15));
    // DELAYA
    for (let i = 6; i > 0; i--) d[i] = d[i - 1];
    r[2] = r[1];
    r[1] = r[0];
    p[2] = p[1];
    p[1] = p[0];
    a[1] = a1;
    a[2] = a2;
    // FILTEP, FILTEZ, PREDIC
    const sp = sat16(((a[1] * sat16(2 * r[1])) >> 15) + ((a[2] * sat16(2 * r[2])) >> 15));
    let sz = 0;
    for (let i = 6; i > 0; i--) sz += (b[i] * sat16(2 * d[i])) >> 15;
    this.sz = sat16(sz);
    this.s = sat16(sp + this.sz);
  }

  reset(): void {
    this.s = 0;
    this.sz = 0;
    this.nb = 0;
    this.det = this.det0;
    this.r.fill(0);
    this.p.fill(0);
    this.d.fill(0);
    this.a.fill(0);
    this.b.fill(0);
  }
}

const lowerBand = (): SubBand => new SubBand(32, 8, 18432, WL);
const higherBand = (): SubBand => new SubBand(8, 10, 22528, WH);

/** Largest payload accepted: MAX_PACKET_MS of octets at 8000 octets/s. */
const MAX_PAYLOAD = (8000 * MAX_PACKET_MS) / 1000;

/** The G.722 encoder of §3: 16 kHz PCM pairs in, one octet out per pair. */
export class G722Encoder {
  private readonly low = lowerBand();
  private readonly high = higherBand();
  /** The last 24 input samples, newest at index 23. */
  private readonly x = new Int32Array(24);

  encode(pcm: Int16Array, out: Uint8Array): void {
    const { low, high, x } = this;
    for (let n = 0; n < out.length; n++) {
      for (let i = 0; i < 22; i++) x[i] = x[i + 2]; // a loop: copyWithin's call costs more for 22 values
      x[22] = pcm[2 * n];
      x[23] = pcm[2 * n + 1];
      // Transmit QMF (§3.2): xA on even taps of x(j − 2i), xB on odd taps of x(j − 2i − 1).
      let xa = 0;
      let xb = 0;
      for (let i = 0; i < 12; i++) {
        xa += QMF[2 * i] * x[23 - 2 * i];
        xb += QMF[2 * i + 1] * x[22 - 2 * i];
      }
      const xl = (xa + xb) >> 14;
      const xh = (xa - xb) >> 14;

      // Lower sub-band: SUBTRA, QUANTL (6 bits), INVQAL (4 bits), LOGSCL/SCALEL, block 4.
      const el = sat16(xl - low.s);
      const mag = el >= 0 ? el : -(el + 1);
      let k = 1;
      while (k < 30 && mag >= (Q6[k] * low.det) >> 12) k++;
      const il = el < 0 ? ILN[k] : ILP[k];
      const ril = il >> 2;
      const dl = (low.det * QM4[ril]) >> 15;
      low.adapt(RL42[ril]);
      low.predict(dl);

      // Higher sub-band: SUBTRA, QUANTH (2 bits), INVQAH, LOGSCH/SCALEH, block 4.
      const eh = sat16(xh - high.s);
      const magh = eh >= 0 ? eh : -(eh + 1);
      const mih = magh >= (564 * high.det) >> 12 ? 2 : 1;
      const ih = eh < 0 ? IHN[mih] : IHP[mih];
      const dh = (high.det * QM2[ih]) >> 15;
      high.adapt(RH2[ih]);
      high.predict(dh);

      out[n] = (ih << 6) | il;
    }
  }
}

/** The G.722 decoder of §4, mode 1: one octet in, a pair of 16 kHz samples out. */
export class G722Decoder {
  private readonly low = lowerBand();
  private readonly high = higherBand();
  /** The last 12 values of rL − rH (xd) and rL + rH (xs), newest at index 0. */
  private readonly xd = new Int32Array(12);
  private readonly xs = new Int32Array(12);

  decode(payload: Uint8Array, pcm: Int16Array): void {
    const { low, high, xd, xs } = this;
    for (let n = 0; n < payload.length; n++) {
      const il = payload[n] & 0x3f;
      const ih = payload[n] >> 6;

      // Lower sub-band: INVQBL (6 bits, mode 1) for the output, INVQAL (4 bits) for the predictor.
      let rl = low.s + ((low.det * QM6[il]) >> 15);
      rl = rl > 16383 ? 16383 : rl < -16384 ? -16384 : rl;
      const ril = il >> 2;
      const dl = (low.det * QM4[ril]) >> 15;
      low.adapt(RL42[ril]);
      low.predict(dl);

      // Higher sub-band: INVQAH, reconstruction, adaptation.
      const dh = (high.det * QM2[ih]) >> 15;
      let rh = high.s + dh;
      rh = rh > 16383 ? 16383 : rh < -16384 ? -16384 : rh;
      high.adapt(RH2[ih]);
      high.predict(dh);

      // Receive QMF (§4.4): x(j) from the even taps over xd, x(j + 1) from the odd taps over xs.
      for (let i = 11; i > 0; i--) {
        xd[i] = xd[i - 1];
        xs[i] = xs[i - 1];
      }
      xd[0] = rl - rh;
      xs[0] = rl + rh;
      let s0 = 0;
      let s1 = 0;
      for (let i = 0; i < 12; i++) {
        s0 += QMF[2 * i] * xd[i];
        s1 += QMF[2 * i + 1] * xs[i];
      }
      pcm[2 * n] = sat16(s0 >> 11);
      pcm[2 * n + 1] = sat16(s1 >> 11);
    }
  }
}

/** G.722 at 64 kbit/s (mode 1): 16 kHz mono PCM, RTP clock 8000 (RFC 3551 §4.5.2), payload type 9. */
export class G722Codec extends WaveformCodec {
  readonly name = 'G722';
  readonly clockRate = 8000;
  readonly sampleRate = 16000;
  private readonly encoder = new G722Encoder();
  private readonly decoder = new G722Decoder();

  constructor() {
    super(16000, MAX_PAYLOAD);
  }

  frameSamples(ptimeMs: number): number {
    checkPtime(ptimeMs);
    return 16 * ptimeMs;
  }

  timestampIncrement(ptimeMs: number): number {
    checkPtime(ptimeMs);
    return 8 * ptimeMs;
  }

  /** Every octet value is a valid codeword in mode 1, so only the length can be wrong. */
  protected decodePayload(payload: Uint8Array): Int16Array {
    const pcm = new Int16Array(2 * payload.length);
    this.decoder.decode(payload, pcm);
    return pcm;
  }

  protected encodePcm(pcm: Int16Array): Buffer {
    const n = pcm.length;
    if (n === 0 || n % 2 !== 0 || n > 2 * MAX_PAYLOAD) {
      throw new CodecPcmError(this.name, n, `not an even count of 2–${2 * MAX_PAYLOAD} samples`);
    }
    const out = Buffer.allocUnsafe(n / 2);
    this.encoder.encode(pcm, out);
    return out;
  }
}
