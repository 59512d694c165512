/**
 * The transcoder (media-plane issue §6): tones survive PCMU → Opus → PCMU and Opus 48 kHz stereo →
 * PCMA; loss, junk, duplicates, reordering, wraps and restarts never throw and keep the cadence
 * and RTP timestamps (RFC 3550 §5.1, §A.1; RFC 3551 §4.1; RFC 7587 §4.1).
 */
import assert from 'node:assert/strict';
import { Encoder } from '@evan/opus';
import {
  CodecUnsupportedError,
  G711Codec,
  OpusCodec,
  createCodec,
  createTranscoder,
  resolveCodec,
  type RtpAudioOut,
} from '../../../media/codecs';
import { concat, feed, garbage, sine, stereoSine, toneAmplitude, zeroCrossingRate } from './helpers';

const pcmu = new G711Codec('PCMU');
const pcma = new G711Codec('PCMA');

/** `frames` PCMU payloads of a tone, 20 ms each. */
function pcmuTone(freq: number, frames: number, samples = 160): Buffer[] {
  return Array.from({ length: frames }, (_, i) => pcmu.encode(sine(freq, 8000, samples, 8000, i * samples)));
}

/** `frames` Opus payloads of a tone coded at `rate`, 20 ms each. */
function opusTone(freq: number, frames: number, rate: 8000 | 48000 = 8000): Buffer[] {
  const enc = new OpusCodec({ sampleRate: rate });
  const n = rate / 50;
  return Array.from({ length: frames }, (_, i) => enc.encode(sine(freq, rate, n, 8000, i * n)));
}

function decodeAll(codec: G711Codec, frames: RtpAudioOut[]): Int16Array {
  return concat(frames.map((f) => codec.decode(f.payload)));
}

/** Output timestamps must advance by exactly `step` per frame (mod 2^32). */
function assertCadence(frames: RtpAudioOut[], step: number): void {
  for (let i = 1; i < frames.length; i++) {
    assert.equal((frames[i].timestamp - frames[i - 1].timestamp) >>> 0, step, `frame ${i}`);
  }
}

const db = (a: number, ref: number): number => 20 * Math.log10(a / ref);

describe('Transcoder', () => {
  describe('tones through transcoding (issue §6)', () => {
    for (const freq of [1000, 440]) {
      it(`it MUST carry a ${freq} Hz tone through PCMU → Opus → PCMU at its frequency and level (±3 dB)`, () => {
        const up = createTranscoder('PCMU', 'opus', { timestampBase: 0 });
        const down = createTranscoder('opus', 'PCMU', { timestampBase: 0 });
        const opusFrames = feed(up, pcmuTone(freq, 100), 160);
        assert.equal(opusFrames.length, 100);
        assertCadence(opusFrames, 960);
        const back: RtpAudioOut[] = [];
        opusFrames.forEach((f, i) => back.push(...down.push({ payload: f.payload, sequenceNumber: i, timestamp: f.timestamp })));
        assert.equal(back.length, 100);
        assertCadence(back, 160);
        const pcm = decodeAll(pcmu, back).subarray(1600);
        const other = freq === 1000 ? 440 : 1000;
        const a = toneAmplitude(pcm, freq, 8000);
        assert.ok(Math.abs(db(a, 8000)) < 3, `level ${a}`);
        assert.ok(a > 20 * toneAmplitude(pcm, other, 8000), `${other} Hz must be absent`);
        assert.ok(Math.abs(zeroCrossingRate(pcm, 8000) / (2 * freq) - 1) < 0.05, 'zero crossings');
      });
    }

    for (const decodeChannels of [1, 2] as const) {
      it(`it MUST carry a 1 kHz tone from Opus 48 kHz stereo to PCMA (resampled, decodeChannels ${decodeChannels})`, () => {
        const enc = new Encoder({ channels: 2, sample_rate: 48000, application: 'audio' });
        const payloads = Array.from({ length: 100 }, (_, i) => Buffer.from(enc.encode(stereoSine(1000, 48000, 960, 8000, i * 960))));
        const t = createTranscoder({ name: 'opus', options: { sampleRate: 48000, decodeChannels } }, 'PCMA', { timestampBase: 7 });
        const out = feed(t, payloads, 960);
        assert.equal(out.length, 100);
        assert.equal(out[0].timestamp, 7);
        assertCadence(out, 160);
        assert.ok(out.every((f) => f.payload.length === 160));
        const pcm = decodeAll(pcma, out).subarray(1600);
        const a = toneAmplitude(pcm, 1000, 8000);
        assert.ok(Math.abs(db(a, 8000)) < 3, `level ${a}`);
        assert.ok(a > 20 * toneAmplitude(pcm, 440, 8000));
      });
    }

    it('it MUST run Opus at 8 kHz next to G.711 unless told otherwise (no resampler)', () => {
      const t = createTranscoder('opus', 'PCMU');
      assert.equal(t.from.sampleRate, 8000);
      assert.equal(createTranscoder('PCMA', 'opus').to.sampleRate, 8000);
    });
  });

  describe('RFC 3550 §A.1: packet loss and sequence handling', () => {
    it('it MUST conceal every 5th dropped frame (Opus → PCMU) and keep one frame per 20 ms', () => {
      const t = createTranscoder('opus', 'PCMU', { timestampBase: 0 });
      const out = feed(t, opusTone(1000, 101), 960, (i) => i % 5 === 4);
      assert.equal(out.length, 101);
      assertCadence(out, 160);
      assert.equal(t.stats.concealed, 20);
      assert.equal(out.filter((f) => f.concealed).length, 20);
      // Concealment continues the tone: the level stays within 6 dB.
      const a = toneAmplitude(decodeAll(pcmu, out).subarray(1600), 1000, 8000);
      assert.ok(db(a, 8000) > -6, `level ${a}`);
    });

    it('it MUST conceal dropped frames the other way (PCMU → Opus) with Opus timestamps', () => {
      const t = createTranscoder('PCMU', 'opus', { timestampBase: 1 });
      const out = feed(t, pcmuTone(1000, 50), 160, (i) => i % 5 === 4 && i < 49);
      assert.equal(out.length, 50);
      assertCadence(out, 960);
      assert.equal(t.stats.concealed, 9);
    });

    it('it MUST treat a gap longer than maxConcealFrames as a discontinuity, not a burst of PLC', () => {
      const t = createTranscoder('PCMU', 'PCMA', { timestampBase: 0, maxConcealFrames: 3 });
      const out = feed(t, pcmuTone(1000, 20), 160, (i) => i >= 5 && i < 15);
      assert.equal(t.stats.concealed, 0);
      assert.equal(t.stats.discontinuities, 1);
      assert.equal(out.length, 10);
      assert.equal(out[5].timestamp, 15 * 160);
      assert.equal(out[5].marker, true);
    });

    it('it MUST drop duplicates and late packets, and count them', () => {
      const t = createTranscoder('PCMU', 'PCMA');
      const p = pcmuTone(1000, 4);
      assert.equal(t.push({ payload: p[0], sequenceNumber: 10, timestamp: 0 }).length, 1);
      assert.equal(t.push({ payload: p[1], sequenceNumber: 11, timestamp: 160 }).length, 1);
      assert.equal(t.push({ payload: p[1], sequenceNumber: 11, timestamp: 160 }).length, 0);
      assert.equal(t.push({ payload: p[2], sequenceNumber: 13, timestamp: 480 }).length, 2);
      assert.equal(t.push({ payload: p[3], sequenceNumber: 12, timestamp: 320 }).length, 0);
      assert.deepEqual([t.stats.duplicates, t.stats.late, t.stats.concealed], [1, 1, 1]);
    });

    it('it MUST run across a sequence-number wrap and an RTP timestamp wrap without loss or jump', () => {
      const t = createTranscoder('opus', 'PCMU', { timestampBase: 2 ** 32 - 320 });
      const out = feed(t, opusTone(1000, 20), 960, () => false, 65530, 2 ** 32 - 960 * 3);
      assert.equal(out.length, 20);
      assertCadence(out, 160);
      assert.deepEqual([t.stats.concealed, t.stats.discontinuities, t.stats.late], [0, 0, 0]);
    });

    it('it MUST follow a restarted sender after two packets in sequence (probation)', () => {
      const t = createTranscoder('PCMU', 'PCMA', { timestampBase: 0 });
      const p = pcmuTone(1000, 20);
      feed(t, p.slice(0, 10), 160, () => false, 100, 0);
      assert.equal(t.push({ payload: p[10], sequenceNumber: 40000, timestamp: 999999 }).length, 0);
      const out = feed(t, p.slice(11), 160, () => false, 40001, 999999 + 160);
      assert.equal(out.length, 9);
      assert.equal(out[0].marker, true);
      assertCadence(out, 160);
    });

    it('it MUST conceal on a timer with pushLost() and then drop the late original', () => {
      const t = createTranscoder('opus', 'PCMU', { timestampBase: 0 });
      const p = opusTone(1000, 3);
      t.push({ payload: p[0], sequenceNumber: 1, timestamp: 0 });
      const lost = t.pushLost();
      assert.equal(lost.length, 1);
      assert.equal(lost[0].timestamp, 160);
      assert.equal(lost[0].concealed, true);
      assert.equal(t.push({ payload: p[1], sequenceNumber: 2, timestamp: 960 }).length, 0);
      assert.equal(t.push({ payload: p[2], sequenceNumber: 3, timestamp: 1920 })[0].timestamp, 320);
    });
  });

  describe('RFC 3550 §5.1, RFC 3551 §4.1: timestamps, marker, frame sizes', () => {
    it('it MUST carry a silence-suppression gap into the output clock and mark the talkspurt', () => {
      const t = createTranscoder('opus', 'PCMU', { timestampBase: 1000 });
      const p = opusTone(1000, 11);
      const out = feed(t, p.slice(0, 10), 960, () => false, 0, 0);
      out.push(...t.push({ payload: p[10], sequenceNumber: 10, timestamp: 960 * 35, marker: true }));
      assert.equal(out.length, 11);
      assert.equal(out[0].marker, true);
      assert.ok(out.slice(1, 10).every((f) => !f.marker));
      assert.equal(out[10].timestamp, 1000 + 35 * 160);
      assert.equal(out[10].marker, true);
    });

    it('it MUST never step the output clock back when the input timestamp jumps backwards', () => {
      const t = createTranscoder('PCMU', 'PCMA', { timestampBase: 0 });
      const p = pcmuTone(1000, 12);
      const out = feed(t, p.slice(0, 10), 160, () => false, 0, 100000);
      out.push(...t.push({ payload: p[10], sequenceNumber: 10, timestamp: 50000 }));
      out.push(...t.push({ payload: p[11], sequenceNumber: 11, timestamp: 50160 }));
      assert.equal(out.length, 12);
      assertCadence(out, 160);
      assert.equal(out[10].marker, true);
    });

    it('it MUST start a new talkspurt after reset() (new SSRC) and keep the output clock running', () => {
      const t = createTranscoder('opus', 'PCMU', { timestampBase: 0 });
      const p = opusTone(1000, 10);
      const out = feed(t, p.slice(0, 5), 960, () => false, 500, 0);
      t.reset();
      out.push(...feed(t, p.slice(5), 960, () => false, 9, 123456));
      assert.equal(out.length, 10);
      assertCadence(out, 160);
      assert.deepEqual(out.map((f) => f.marker), [true, false, false, false, false, true, false, false, false, false]);
    });

    it('it MUST reframe 30 ms PCMU packets into 20 ms Opus frames', () => {
      const t = createTranscoder('PCMU', 'opus', { timestampBase: 0 });
      const out = feed(t, pcmuTone(1000, 20, 240), 240);
      assert.equal(out.length, 30);
      assertCadence(out, 960);
    });

    it('it MUST split a 60 ms Opus packet into three 20 ms PCMU frames', () => {
      const enc = new OpusCodec({ sampleRate: 8000 });
      const payloads = Array.from({ length: 5 }, (_, i) => enc.encode(sine(1000, 8000, 480, 8000, i * 480)));
      const t = createTranscoder('opus', 'PCMU', { timestampBase: 0 });
      const out = feed(t, payloads, 2880);
      assert.equal(out.length, 15);
      assertCadence(out, 160);
    });
  });

  describe('bad input never crashes', () => {
    it('it MUST conceal undecodable Opus payloads in place and keep the cadence', () => {
      const t = createTranscoder('opus', 'PCMU', { timestampBase: 0 });
      const junk = garbage(7);
      const p = opusTone(1000, 50).map((b, i) => (i % 7 === 3 ? Buffer.concat([Buffer.from([0x0b, 0x00]), junk(3)]) : b));
      const out = feed(t, p, 960);
      assert.equal(out.length, 50);
      assertCadence(out, 160);
      assert.equal(t.stats.undecodable, 7);
    });

    it('it MUST survive 3,000 random payloads (with empty and oversized ones) from every codec', () => {
      for (const from of ['opus', 'PCMU', 'PCMA'] as const) {
        const t = createTranscoder(from, from === 'opus' ? 'PCMA' : 'opus');
        const junk = garbage(99);
        for (let i = 0; i < 3000; i++) {
          const len = i % 97 === 0 ? 0 : i % 89 === 0 ? 5000 : 1 + (i % 400);
          const out = t.push({ payload: junk(len), sequenceNumber: i, timestamp: i * (from === 'opus' ? 960 : 160) });
          assert.ok(Array.isArray(out));
        }
        assert.ok(t.stats.framesOut > 0, `${from}: output must keep flowing`);
        t.close();
        assert.deepEqual(t.push({ payload: Buffer.alloc(160), sequenceNumber: 1, timestamp: 0 }), []);
      }
    });
  });

  describe('codec lookup', () => {
    it('it MUST resolve rtpmap names case-insensitively and refuse what it cannot transcode', () => {
      assert.equal(resolveCodec('OPUS', 48000, 2), 'opus');
      assert.equal(resolveCodec('pcmu', 8000), 'PCMU');
      assert.equal(resolveCodec('PCMA', 8000, 1), 'PCMA');
      assert.equal(resolveCodec('opus', 48000, 1), undefined);
      assert.equal(resolveCodec('G722', 8000), 'G722', 'RFC 3551 §4.5.2: G722/8000 although it samples at 16 kHz');
      assert.equal(resolveCodec('G722', 16000), undefined);
      assert.equal(resolveCodec('G729', 8000), undefined);
      assert.throws(() => createCodec('G729'), CodecUnsupportedError);
      assert.throws(() => createCodec('x'.repeat(10000)), (e: unknown) => e instanceof CodecUnsupportedError && e.message.length < 100);
    });
  });
});
