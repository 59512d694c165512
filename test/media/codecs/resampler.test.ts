/**
 * The polyphase resampler: exact lengths per 20 ms frame, tones keep frequency and level,
 * out-of-band tones and images are suppressed (which nearest-neighbour or linear would not do),
 * and frame-by-frame output equals one-shot output.
 */
import assert from 'node:assert/strict';
import { CodecConfigError, Resampler } from '../../../media/codecs';
import { concat, sine, toneAmplitude } from './helpers';

function run(r: Resampler, input: Int16Array, block: number): Int16Array {
  const parts: Int16Array[] = [];
  for (let off = 0; off < input.length; off += block) parts.push(r.process(input.subarray(off, off + block)));
  return concat(parts);
}

const db = (a: number, ref: number): number => 20 * Math.log10(a / ref);

describe('Resampler (polyphase FIR)', () => {
  const pairs: Array<[number, number]> = [[8000, 16000], [16000, 8000], [8000, 48000], [48000, 8000], [16000, 48000], [48000, 16000]];

  for (const [from, to] of pairs) {
    it(`${from} → ${to}: it MUST give exactly one 20 ms frame per 20 ms frame and keep a 1 kHz tone (±0.5 dB)`, () => {
      const r = new Resampler(from, to);
      const inFrame = from / 50;
      const out = run(r, sine(1000, from, inFrame * 50), inFrame);
      assert.equal(out.length, (to / 50) * 50);
      const steady = out.subarray(to / 10); // skip the filter's start-up
      const a = toneAmplitude(steady, 1000, to);
      assert.ok(Math.abs(db(a, 8000)) < 0.5, `level ${a}`);
      assert.ok(toneAmplitude(steady, 440, to) < a / 100, '440 Hz must be absent');
    });
  }

  it('48000 → 8000: it MUST suppress a 5 kHz tone (above the new Nyquist) by at least 50 dB', () => {
    const r = new Resampler(48000, 8000);
    const out = run(r, sine(5000, 48000, 48000), 960);
    // 5 kHz would alias to 3 kHz at 8 kHz.
    const alias = toneAmplitude(out.subarray(800), 3000, 8000);
    assert.ok(db(alias + 1e-9, 8000) < -50, `alias at ${db(alias, 8000).toFixed(1)} dB`);
  });

  it('8000 → 48000: it MUST suppress the images of a 1 kHz tone (7 and 9 kHz) by at least 50 dB', () => {
    const r = new Resampler(8000, 48000);
    const out = run(r, sine(1000, 8000, 8000), 160).subarray(4800);
    for (const f of [7000, 9000, 15000]) {
      const a = toneAmplitude(out, f, 48000);
      assert.ok(db(a + 1e-9, 8000) < -50, `${f} Hz image at ${db(a, 8000).toFixed(1)} dB`);
    }
  });

  it('it MUST produce the same samples frame by frame as in one block (state carries over)', () => {
    const input = sine(700, 8000, 1600, 12000);
    const oneShot = new Resampler(8000, 48000).process(input);
    const framed = run(new Resampler(8000, 48000), input, 160);
    const odd = run(new Resampler(8000, 48000), input, 37);
    assert.deepEqual(framed, oneShot);
    assert.deepEqual(odd, oneShot);
  });

  it('it MUST clip rather than wrap the overshoot of a full-scale step', () => {
    const step = new Int16Array(1920);
    step.fill(-32768, 0, 960);
    step.fill(32767, 960);
    const out = new Resampler(48000, 8000).process(step);
    // The step leaves the filter (16 output samples of delay) at output sample 176; the ringing
    // after it overshoots full scale and would wrap to large negative values.
    const after = out.subarray(177);
    assert.ok(after.every((v) => v > 25000), `min after the step ${Math.min(...after)}`);
    assert.ok(out.includes(32767), 'the overshoot must reach the clip level');
  });

  it('it MUST refuse nonsense rates with CodecConfigError', () => {
    assert.throws(() => new Resampler(0, 8000), CodecConfigError);
    assert.throws(() => new Resampler(8000, 44101), CodecConfigError);
    assert.throws(() => new Resampler(8000, 16000, { zeroCrossings: 1000 }), CodecConfigError);
  });

  it('it MUST return to silence-in/silence-out after reset()', () => {
    const r = new Resampler(8000, 16000);
    r.process(sine(1000, 8000, 160));
    r.reset();
    assert.ok(r.process(new Int16Array(160)).every((v) => v === 0));
  });
});
