/**
 * Packet-loss concealment of the waveform codecs (media/codecs/plc.ts, after ITU-T G.711
 * Appendix I): a lost packet continues the last pitch period instead of falling silent, full level
 * for 10 ms, down 20% per 10 ms after, silent from 60 ms; the next real frame is cross-faded in.
 * Measured on tones and a voiced-speech-like signal, through the codecs and a transcoder.
 */
import assert from 'node:assert/strict';
import { createTranscoder, G711Codec, G722Codec } from '../../../media/codecs';
import { PitchConcealer } from '../../../media/codecs/plc';
import { concat, feed, rms, sine, toneAmplitude, zeroCrossingRate } from './helpers';

/** A vowel-like signal: 125 Hz fundamental and four harmonics of falling level. */
function voiced(rate: number, samples: number, start = 0): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) {
    let v = 0;
    for (let k = 1; k <= 5; k++) v += (6000 / k) * Math.sin((2 * Math.PI * 125 * k * (start + i)) / rate + k);
    out[i] = Math.round(v);
  }
  return out;
}

/** Normalised correlation of two equal-length signals (1: same shape). */
function correlation(a: Int16Array, b: Int16Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Feeds `frames` 20 ms frames of `signal(start, n)` to a fresh concealer; returns it and the next frame's start. */
function primed(rate: number, frames: number, signal: (start: number, n: number) => Int16Array): { plc: PitchConcealer; next: number } {
  const plc = new PitchConcealer(rate);
  const n = rate / 50;
  for (let f = 0; f < frames; f++) plc.received(signal(f * n, n));
  return { plc, next: frames * n };
}

describe('packet-loss concealment for G.711 and G.722 (G.711 Appendix I style)', () => {
  for (const [name, rate, freq] of [['1 kHz at 8 kHz', 8000, 1000], ['440 Hz at 8 kHz', 8000, 440], ['1 kHz at 16 kHz', 16000, 1000]] as const) {
    it(`MUST continue a ${name} tone through a lost frame: same frequency, same level, same phase`, () => {
      const tone = (start: number, n: number): Int16Array => sine(freq, rate, n, 8000, start);
      const { plc, next } = primed(rate, 5, tone);
      const lost = plc.conceal(rate / 50);
      const truth = tone(next, rate / 50);
      assert.ok(toneAmplitude(lost, freq, rate) > 7000, `tone in the concealed frame: ${toneAmplitude(lost, freq, rate).toFixed(0)} (silence: 0)`);
      assert.ok(Math.abs(zeroCrossingRate(lost, rate) / (2 * freq) - 1) < 0.05, `zero crossings ${zeroCrossingRate(lost, rate)}`);
      assert.ok(correlation(lost, truth) > 0.95, `correlation with the lost audio ${correlation(lost, truth).toFixed(3)}`);
    });
  }

  it('MUST continue a voiced (harmonic, 125 Hz) signal with the lost audio\'s shape', () => {
    const { plc, next } = primed(8000, 5, (s, n) => voiced(8000, n, s));
    const lost = plc.conceal(160);
    const truth = voiced(8000, 160, next);
    assert.ok(correlation(lost, truth) > 0.9, `correlation ${correlation(lost, truth).toFixed(3)}`);
    assert.ok(Math.abs(rms(lost) / rms(truth) - 1) < 0.15, `level ${rms(lost).toFixed(0)} against ${rms(truth).toFixed(0)}`);
  });

  it('MUST hold full level for 10 ms, fade by 20% per 10 ms after, and be silent from 60 ms on', () => {
    const { plc } = primed(8000, 5, (s, n) => sine(1000, 8000, n, 8000, s));
    const gap = concat([plc.conceal(160), plc.conceal(160), plc.conceal(160), plc.conceal(160)]);
    const level = (fromMs: number): number => rms(gap.subarray(fromMs * 8, fromMs * 8 + 40)); // 5 ms windows
    const full = rms(sine(1000, 8000, 40));
    assert.ok(Math.abs(level(0) / full - 1) < 0.05 && Math.abs(level(5) / full - 1) < 0.05, `first 10 ms at full level: ${level(0).toFixed(0)}, ${level(5).toFixed(0)} of ${full.toFixed(0)}`);
    const mid = level(35) / full; // 35–40 ms: gain 1 − 0.2·(25..30)/10 → 0.5–0.4
    assert.ok(mid > 0.35 && mid < 0.55, `at 35–40 ms: ${mid.toFixed(2)} of full`);
    assert.ok(level(50) < level(35) / 2, 'still falling at 50 ms');
    assert.ok(gap.subarray(60 * 8).every((v) => v === 0), 'silent from 60 ms');
    assert.equal(plc.concealing, 640);
  });

  it('MUST fade the next real frame in from the extrapolation, and pass it untouched after the fade', () => {
    const { plc, next } = primed(8000, 5, (s, n) => sine(1000, 8000, n, 8000, s));
    const lost = plc.conceal(160);
    // The talker moved on: the real frame is a quarter period ahead of where the extrapolation goes, inverted.
    const real = sine(1000, 8000, 160, -8000, next + 162);
    const continued = sine(1000, 8000, 160, 8000, next + 160);
    const heard = Int16Array.from(real);
    plc.received(heard);
    assert.equal(plc.concealing, 0);
    assert.ok(toneAmplitude(lost, 1000, 8000) > 7000);
    // No step at the joint: the first sample is near the extrapolation's next one, not the real one.
    assert.ok(Math.abs(heard[0]! - continued[0]!) < Math.abs(real[0]! - continued[0]!) / 4, `first sample ${heard[0]}: extrapolation ${continued[0]}, real ${real[0]}`);
    // 20 ms erased: 4 ms + 1 ms (for the 10 ms past the first 10) = 40 samples of fade, then the real frame as it was.
    assert.notDeepEqual([...heard.subarray(36, 40)], [...real.subarray(36, 40)]);
    assert.deepEqual([...heard.subarray(40)], [...real.subarray(40)]);
  });

  it('MUST conceal silence as silence, before any audio and after it', () => {
    const plc = new PitchConcealer(8000);
    assert.deepEqual(plc.conceal(160), new Int16Array(160));
    plc.received(new Int16Array(160));
    assert.deepEqual(plc.conceal(160), new Int16Array(160));
  });

  it('MUST forget the audio it holds when cleared (the codec\'s close)', () => {
    const { plc } = primed(8000, 5, (s, n) => sine(1000, 8000, n, 8000, s));
    plc.conceal(160);
    plc.clear();
    assert.equal(plc.concealing, 0);
    assert.deepEqual(plc.conceal(160), new Int16Array(160), 'nothing left to repeat');
  });

  it('MUST take frames of any length, shorter or longer than its history', () => {
    const plc = new PitchConcealer(16000);
    plc.received(sine(1000, 16000, 2400)); // 150 ms: more than the history
    plc.received(sine(1000, 16000, 80, 8000, 2400)); // 5 ms
    const lost = plc.conceal(80);
    assert.ok(correlation(lost, sine(1000, 16000, 80, 8000, 2480)) > 0.95);
  });

  it('G.711: a lost packet after a tone is the tone continued (not silence), as long as the last packet', () => {
    const c = new G711Codec('PCMU');
    assert.deepEqual(c.decodeLost(), new Int16Array(160), 'nothing heard yet: 20 ms of silence');
    for (let f = 0; f < 5; f++) c.decode(c.encode(sine(1000, 8000, 240, 8000, f * 240)));
    const lost = c.decodeLost();
    assert.equal(lost.length, 240);
    assert.ok(toneAmplitude(lost, 1000, 8000) > 6000, `tone ${toneAmplitude(lost, 1000, 8000).toFixed(0)}`);
  });

  it('G.722: a lost packet after a tone is the tone continued at 16 kHz', () => {
    const c = new G722Codec();
    assert.deepEqual(c.decodeLost(), new Int16Array(320), 'nothing heard yet: 20 ms of silence');
    for (let f = 0; f < 10; f++) c.decode(c.encode(sine(1000, 16000, 320, 8000, f * 320)));
    const lost = c.decodeLost();
    assert.equal(lost.length, 320);
    assert.ok(toneAmplitude(lost, 1000, 16000) > 6000, `tone ${toneAmplitude(lost, 1000, 16000).toFixed(0)}`);
    assert.ok(Math.abs(zeroCrossingRate(lost, 16000) / 2000 - 1) < 0.05);
  });

  it('transcoded G.711 → G.722 with a lost packet: the tone holds through the lost slot', () => {
    const t = createTranscoder('PCMU', 'G722', { timestampBase: 0 });
    const pcmu = new G711Codec('PCMU');
    const payloads = Array.from({ length: 12 }, (_, f) => pcmu.encode(sine(1000, 8000, 160, 8000, f * 160)));
    const out = feed(t, payloads, 160, (i) => i === 8);
    assert.equal(t.stats.concealed, 1);
    const g722 = new G722Codec();
    const frames = out.map((f) => g722.decode(f.payload));
    const slot = out.findIndex((f) => f.concealed);
    assert.ok(slot > 0, 'a concealed frame was sent');
    const heard = toneAmplitude(frames[slot]!, 1000, 16000);
    const before = toneAmplitude(frames[slot - 1]!, 1000, 16000);
    assert.ok(heard > 0.7 * before, `the lost slot carries the tone: ${heard.toFixed(0)} against ${before.toFixed(0)} before`);
  });
});
