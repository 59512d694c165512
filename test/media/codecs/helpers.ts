/** Shared helpers of the codec tests: tone generation and measurement (Goertzel, RMS). */
import type { RtpAudioIn, RtpAudioOut, Transcoder } from '../../../media/codecs';

/** `samples` of a sine at `freq` Hz, peak `amplitude`, starting at sample index `start`. */
export function sine(freq: number, rate: number, samples: number, amplitude = 8000, start = 0): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * (start + i)) / rate));
  return out;
}

/** Interleaved stereo sine (same tone on both channels unless `rightAmplitude` says otherwise). */
export function stereoSine(freq: number, rate: number, samples: number, amplitude: number, start: number, rightAmplitude = amplitude): Int16Array {
  const out = new Int16Array(2 * samples);
  for (let i = 0; i < samples; i++) {
    const s = Math.sin((2 * Math.PI * freq * (start + i)) / rate);
    out[2 * i] = Math.round(amplitude * s);
    out[2 * i + 1] = Math.round(rightAmplitude * s);
  }
  return out;
}

/** Goertzel: amplitude of the `freq` component (a pure sine of peak A gives about A). */
export function toneAmplitude(pcm: Int16Array, freq: number, rate: number): number {
  const w = (2 * Math.PI * freq) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < pcm.length; i++) {
    const s0 = pcm[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / pcm.length;
}

export function rms(pcm: Int16Array): number {
  let acc = 0;
  for (const v of pcm) acc += v * v;
  return pcm.length ? Math.sqrt(acc / pcm.length) : 0;
}

/** Zero crossings per second (a tone at f Hz gives about 2f). */
export function zeroCrossingRate(pcm: Int16Array, rate: number): number {
  let n = 0;
  for (let i = 1; i < pcm.length; i++) if ((pcm[i - 1] < 0) !== (pcm[i] < 0)) n++;
  return (n * rate) / pcm.length;
}

export function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A reproducible byte generator for garbage payloads (xorshift32: test input, not a secret). */
export function garbage(seed: number): (n: number) => Buffer {
  let x = seed >>> 0 || 1;
  return (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      b[i] = x & 0xff;
    }
    return b;
  };
}

/** Feed frames as RTP packets (seq from `seq0`, timestamps step `tsStep`), skipping `drop(i)`. */
export function feed(t: Transcoder, payloads: Buffer[], tsStep: number, drop: (i: number) => boolean = () => false, seq0 = 1000, ts0 = 5000): RtpAudioOut[] {
  const out: RtpAudioOut[] = [];
  payloads.forEach((payload, i) => {
    if (drop(i)) return;
    const pkt: RtpAudioIn = { payload, sequenceNumber: (seq0 + i) & 0xffff, timestamp: (ts0 + i * tsStep) >>> 0 };
    out.push(...t.push(pkt));
  });
  return out;
}
