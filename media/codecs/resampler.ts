/**
 * Streaming rational resampler (polyphase FIR) for the rates telephony mixes: 8, 16 and 48 kHz
 * (and any pair whose ratio reduces to small integers).
 *
 * Conversion by L/M: the input is conceptually upsampled by L (zero-stuffed), low-pass filtered
 * at min(in, out)/2, and every M-th sample kept. Only the kept samples are computed, and each
 * uses one of the L polyphase branches of the prototype filter, K taps long:
 *
 *     y[n] = Σ_k h[p + kL] · x[⌊nM/L⌋ − k],   p = nM mod L
 *
 * The prototype is a Kaiser-windowed sinc (β = 8, about 80 dB stop band) spanning
 * `zeroCrossings` lobes of the lower rate's sinc on each side, cut off at 0.92 of the lower
 * Nyquist frequency: 3.68 kHz for 8 kHz telephony. The group delay is half the prototype:
 * 2 ms with the default 16 zero crossings at 8 kHz.
 *
 * State (the last K−1 input samples and the output phase) carries over between calls, so
 * 20 ms frames in give seamless 20 ms frames out; a block whose length is a multiple of M
 * yields exactly length·L/M samples.
 */
import { CodecConfigError } from './errors';
import { toInt16 } from './codec';

export interface ResamplerOptions {
  /** Half-length of the prototype, in lobes of the lower rate's sinc (4–64, default 16). */
  zeroCrossings?: number;
  /** Cut-off as a fraction of the lower Nyquist frequency (0.5–0.99, default 0.92). */
  rolloff?: number;
}

const KAISER_BETA = 8;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for x ≤ 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

export class Resampler {
  /** Upsampling factor L and downsampling factor M (in/out = M/L, reduced). */
  readonly up: number;
  readonly down: number;
  /** Taps per polyphase branch (K). */
  readonly taps: number;
  /**
   * The polyphase branches, flattened and time-reversed for a forward inner loop:
   * coef[p·K + j] = h[p + (K−1−j)·L] multiplies buf[i + j], the oldest sample first.
   */
  private readonly coef: Float64Array;
  /** Working buffer: the K−1 samples of history, then the current block. */
  private buf: Float64Array;
  /** Position of the next output in the upsampled domain, relative to the current block start. */
  private pos = 0;

  constructor(
    readonly inRate: number,
    readonly outRate: number,
    opts: ResamplerOptions = {},
  ) {
    if (!Number.isInteger(inRate) || !Number.isInteger(outRate) || inRate < 1000 || outRate < 1000 || inRate > 192000 || outRate > 192000) {
      throw new CodecConfigError(`resampler: rates ${inRate} → ${outRate} Hz are not integers in 1–192 kHz`);
    }
    const g = gcd(inRate, outRate);
    this.up = outRate / g;
    this.down = inRate / g;
    if (this.up > 64 || this.down > 64) throw new CodecConfigError(`resampler: ratio ${this.up}/${this.down} is too fine`);
    const zc = opts.zeroCrossings ?? 16;
    const rolloff = opts.rolloff ?? 0.92;
    if (!Number.isInteger(zc) || zc < 4 || zc > 64) throw new CodecConfigError(`resampler: zeroCrossings ${zc} is not 4–64`);
    if (!(rolloff >= 0.5 && rolloff <= 0.99)) throw new CodecConfigError(`resampler: rolloff ${rolloff} is not 0.5–0.99`);

    // Prototype at the upsampled rate F = L·inRate; the lower rate's sinc has lobes of F/low samples.
    const L = this.up;
    const F = L * inRate;
    const low = Math.min(inRate, outRate);
    // K rounded up to a multiple of 4 for the unrolled inner loop (the prototype just gets longer).
    const K = Math.ceil((2 * zc * F) / low / L / 4) * 4;
    const N = K * L;
    const fc = (rolloff * low) / 2 / F; // cut-off in cycles per upsampled sample
    const mid = (N - 1) / 2;
    const proto = new Float64Array(N);
    let sum = 0;
    const i0b = besselI0(KAISER_BETA);
    for (let j = 0; j < N; j++) {
      const t = j - mid;
      const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
      const r = t / (mid + 1);
      proto[j] = sinc * (besselI0(KAISER_BETA * Math.sqrt(Math.max(0, 1 - r * r))) / i0b);
      sum += proto[j];
    }
    // Unity DC gain after zero-stuffing: each branch sums to about 1, the whole to L.
    for (let j = 0; j < N; j++) proto[j] *= L / sum;
    this.taps = K;
    this.coef = new Float64Array(N);
    for (let p = 0; p < L; p++) {
      for (let j = 0; j < K; j++) this.coef[p * K + j] = proto[p + (K - 1 - j) * L];
    }
    this.buf = new Float64Array(K - 1 + 960);
  }

  /** Samples out for `inputSamples` in, from the current phase (exact for multiples of `down`). */
  outputLength(inputSamples: number): number {
    const end = inputSamples * this.up;
    return end > this.pos ? Math.ceil((end - this.pos) / this.down) : 0;
  }

  /** Resample one block; state carries to the next call. */
  process(input: Int16Array): Int16Array {
    const K = this.taps;
    const H = K - 1;
    const n = input.length;
    if (this.buf.length < H + n) {
      const bigger = new Float64Array(H + n);
      bigger.set(this.buf.subarray(0, H));
      this.buf = bigger;
    }
    const buf = this.buf;
    for (let i = 0; i < n; i++) buf[H + i] = input[i];

    const L = this.up;
    const M = this.down;
    const coef = this.coef;
    const out = new Int16Array(this.outputLength(n));
    let pos = this.pos;
    for (let o = 0; o < out.length; o++, pos += M) {
      const i = (pos / L) | 0;
      const c0 = (pos - i * L) * K;
      // x[i − k] for k = K−1..0 sits at buf[i .. i+H]: oldest first, matching coef.
      // Four partial sums: independent add chains run in parallel (about 1.5× faster in V8).
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let j = 0; j < K; j += 4) {
        a0 += coef[c0 + j] * buf[i + j];
        a1 += coef[c0 + j + 1] * buf[i + j + 1];
        a2 += coef[c0 + j + 2] * buf[i + j + 2];
        a3 += coef[c0 + j + 3] * buf[i + j + 3];
      }
      out[o] = toInt16(a0 + a1 + a2 + a3);
    }
    this.pos = pos - n * L;
    buf.copyWithin(0, n, n + H);
    return out;
  }

  /** Forget the history (e.g. after a discontinuity), as if freshly built. */
  reset(): void {
    this.buf.fill(0);
    this.pos = 0;
  }
}
