/**
 * Packet-loss concealment for the waveform codecs (G.711, G.722), which have none of their own:
 * periodic waveform extrapolation after ITU-T G.711 Appendix I. A lost packet is filled with the
 * last pitch period of the decoded signal, repeated, instead of silence (a 20 ms hole in a 1 kHz
 * tone or a vowel is a click and a gap; a repeated period is barely heard for one or two packets).
 *
 *   - Pitch: at the first lost packet, the lag of 5–15 ms (App. I's 66–200 Hz; a multiple of a
 *     higher voice's period repeats it as well) whose normalised correlation with the last 10 ms
 *     is highest. One period of the history becomes the cycle that is repeated; its last quarter
 *     is cross-faded with the period before, so the cycle's end joins its start without a step.
 *     The first repeated sample continues the real signal where a periodic one would go on.
 *   - Attenuation (App. I §I.2.6): full level for the first 10 ms of an erasure, then down 20% per
 *     10 ms, silence from 60 ms on: a long gap must not buzz.
 *   - Recovery (App. I §I.2.7): the first real frame after an erasure is cross-faded in from the
 *     continued extrapolation over 4 ms, plus 1 ms per further 10 ms of erasure, at most 10 ms.
 * Simplifications, noted: one period is repeated throughout (App. I widens to two and three periods
 * after 10 and 20 ms), and the output is not delayed for an overlap-add at the erasure's start.
 * For G.722 the ADPCM decoder's state is not re-synchronised after a loss (G.722 Appendices III
 * and IV do): it adapts back within a few milliseconds of the next packet.
 */
import { toInt16 } from './pcm';

const PITCH_MIN_MS = 5;
const PITCH_MAX_MS = 15;
const WINDOW_MS = 10;
const FULL_LEVEL_MS = 10;
const FADE_OUT_MS = 50;

export class PitchConcealer {
  /** The last decoded (or concealed) samples, newest at the end: two longest periods. */
  private readonly history: Float32Array;
  private readonly pitchMin: number;
  private readonly pitchMax: number;
  private readonly window: number;
  private readonly fullLevel: number;
  private readonly fadeOut: number;
  /** One pitch period being repeated, while concealing; undefined when the history was silent. */
  private cycle: Float32Array | undefined;
  private phase = 0;
  /** Samples concealed in the current erasure (0: none under way). */
  private erased = 0;

  constructor(readonly rate: number) {
    const ms = (v: number): number => Math.round((rate * v) / 1000);
    this.pitchMin = ms(PITCH_MIN_MS);
    this.pitchMax = ms(PITCH_MAX_MS);
    this.window = ms(WINDOW_MS);
    this.fullLevel = ms(FULL_LEVEL_MS);
    this.fadeOut = ms(FADE_OUT_MS);
    this.history = new Float32Array(2 * this.pitchMax);
  }

  /** Samples in a row that were concealed (0 after a real frame). */
  get concealing(): number {
    return this.erased;
  }

  /** A decoded frame, in order. After an erasure its start is cross-faded in (changed in place). */
  received(pcm: Int16Array): void {
    if (this.erased > 0) {
      const erasedMs = (this.erased * 1000) / this.rate;
      const fadeMs = Math.min(10, 4 + Math.max(0, Math.floor((erasedMs - 10) / 10)));
      const fade = Math.min(pcm.length, Math.round((this.rate * fadeMs) / 1000));
      const synthetic = this.extrapolate(fade);
      for (let i = 0; i < fade; i++) {
        const w = (i + 1) / (fade + 1);
        pcm[i] = toInt16(w * pcm[i]! + (1 - w) * synthetic[i]!);
      }
      this.erased = 0;
      this.cycle = undefined;
    }
    this.remember(pcm);
  }

  /** `samples` of concealment for a lost frame. */
  conceal(samples: number): Int16Array {
    if (this.erased === 0) {
      this.cycle = this.findCycle();
      this.phase = 0;
    }
    const out = this.extrapolate(samples);
    this.erased += samples;
    this.remember(out);
    return out;
  }

  /** The next `n` samples of the repeated cycle at the erasure's gain; advances the phase, not `erased`. */
  private extrapolate(n: number): Int16Array {
    const out = new Int16Array(n);
    const cycle = this.cycle;
    if (cycle === undefined) return out;
    let phase = this.phase;
    for (let i = 0; i < n; i++) {
      const t = this.erased + i;
      const gain = t < this.fullLevel ? 1 : Math.max(0, 1 - (t - this.fullLevel) / this.fadeOut);
      out[i] = toInt16(cycle[phase]! * gain);
      if (++phase === cycle.length) phase = 0;
    }
    this.phase = phase;
    return out;
  }

  /** The pitch period of the history's end as a cycle that repeats without a step (see above). */
  private findCycle(): Float32Array | undefined {
    const h = this.history;
    const end = h.length;
    const w = this.window;
    let energy = 0;
    for (let i = end - w; i < end; i++) energy += h[i]! * h[i]!;
    if (energy === 0) return undefined;
    let best = this.pitchMax;
    let bestScore = -Infinity;
    for (let p = this.pitchMin; p <= this.pitchMax; p++) {
      let cross = 0;
      let lagged = 0;
      for (let i = end - w; i < end; i++) {
        const x = h[i - p]!;
        cross += h[i]! * x;
        lagged += x * x;
      }
      const score = lagged > 0 ? cross / Math.sqrt(lagged * energy) : -1;
      if (score > bestScore) {
        bestScore = score;
        best = p;
      }
    }
    const p = best;
    const q = p >> 2;
    const cycle = new Float32Array(p);
    for (let i = 0; i < p; i++) {
      const recent = h[end - p + i]!;
      if (i < p - q) {
        cycle[i] = recent;
      } else {
        const wIn = (i - (p - q) + 1) / (q + 1);
        cycle[i] = (1 - wIn) * recent + wIn * h[end - 2 * p + i]!;
      }
    }
    return cycle;
  }

  /** Forgets the audio it holds (the codec's close()): no call audio stays behind in memory. */
  clear(): void {
    this.history.fill(0);
    this.cycle?.fill(0);
    this.cycle = undefined;
    this.erased = 0;
  }

  private remember(pcm: Int16Array): void {
    const h = this.history;
    const n = pcm.length;
    if (n >= h.length) {
      for (let i = 0; i < h.length; i++) h[i] = pcm[n - h.length + i]!;
      return;
    }
    h.copyWithin(0, n);
    for (let i = 0; i < n; i++) h[h.length - n + i] = pcm[i]!;
  }
}
