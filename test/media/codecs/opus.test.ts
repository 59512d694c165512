/**
 * Opus (RFC 6716) for RTP (RFC 7587) through @evan/opus: tones survive a round trip at 8 and
 * 48 kHz, stereo folds to mono, concealment keeps the frame length, junk never crashes.
 */
import assert from 'node:assert/strict';
import { Encoder } from '@evan/opus';
import { CodecClosedError, CodecConfigError, CodecPayloadError, CodecPcmError, OpusCodec, createCodec } from '../../../media/codecs';
import { concat, garbage, sine, stereoSine, toneAmplitude } from './helpers';

/** Encode `frames` 20 ms frames of a tone and decode them back; returns the PCM after warm-up. */
function roundTrip(codec: OpusCodec, freq: number, frames: number): Int16Array {
  const n = codec.frameSamples(20);
  const parts: Int16Array[] = [];
  for (let f = 0; f < frames; f++) parts.push(codec.decode(codec.encode(sine(freq, codec.sampleRate, n, 8000, f * n))));
  return concat(parts.slice(10));
}

describe('Opus (RFC 6716, RFC 7587)', () => {
  describe('RFC 7587 §4.1, §7: RTP clock and rtpmap', () => {
    it('it MUST use a 48 kHz RTP clock and "/2" whatever the internal rate', () => {
      const c = createCodec('opus', { sampleRate: 8000 });
      assert.equal(c.name, 'opus');
      assert.equal(c.clockRate, 48000);
      assert.equal(c.channels, 2);
      assert.equal(c.sampleRate, 8000);
      assert.equal(c.frameSamples(20), 160);
      assert.equal(c.timestampIncrement(20), 960);
    });
    it('it MUST refuse a ptime that is not an Opus frame size and a bad rate', () => {
      const c = new OpusCodec({ sampleRate: 8000 });
      assert.throws(() => c.frameSamples(30), CodecConfigError);
      assert.throws(() => new OpusCodec({ sampleRate: 44100 as 48000 }), CodecConfigError);
      assert.throws(() => new OpusCodec({ complexity: 11 }), CodecConfigError);
    });
  });

  describe('RFC 6716 §2: coding a tone', () => {
    for (const rate of [8000, 48000] as const) {
      it(`it MUST keep a 1 kHz tone's frequency and level (±3 dB) at ${rate} Hz`, () => {
        const pcm = roundTrip(new OpusCodec({ sampleRate: rate }), 1000, 50);
        const a1k = toneAmplitude(pcm, 1000, rate);
        const a440 = toneAmplitude(pcm, 440, rate);
        assert.ok(Math.abs(20 * Math.log10(a1k / 8000)) < 3, `1 kHz level ${a1k}`);
        assert.ok(a1k > 20 * a440, `1 kHz ${a1k} vs 440 Hz ${a440}`);
      });
    }
    it('it MUST refuse PCM that is not a 2.5–60 ms frame', () => {
      const c = new OpusCodec({ sampleRate: 8000 });
      assert.throws(() => c.encode(new Int16Array(100)), CodecPcmError);
    });
  });

  describe('RFC 7587 §7: stereo streams fold to mono', () => {
    for (const decodeChannels of [1, 2] as const) {
      it(`it MUST decode a 48 kHz stereo stream as mono (decodeChannels ${decodeChannels})`, () => {
        const enc = new Encoder({ channels: 2, sample_rate: 48000, application: 'voip' });
        const codec = new OpusCodec({ sampleRate: 48000, decodeChannels });
        const parts: Int16Array[] = [];
        for (let f = 0; f < 40; f++) {
          const pcm = codec.decode(enc.encode(stereoSine(1000, 48000, 960, 8000, f * 960)));
          assert.equal(pcm.length, 960);
          parts.push(pcm);
        }
        const a = toneAmplitude(concat(parts.slice(10)), 1000, 48000);
        assert.ok(Math.abs(20 * Math.log10(a / 8000)) < 3, `level ${a}`);
      });
    }
  });

  describe('RFC 6716 §4.4: packet loss concealment', () => {
    it('it MUST conceal 20 ms before any packet and after 20 ms packets, at 8 and 48 kHz', () => {
      for (const rate of [8000, 48000] as const) {
        const c = new OpusCodec({ sampleRate: rate });
        assert.equal(c.decodeLost().length, rate / 50);
        c.decode(c.encode(sine(1000, rate, rate / 50)));
        assert.equal(c.decodeLost().length, rate / 50);
      }
    });
    it('it MUST conceal the duration of the last packet (10 and 40 ms)', () => {
      const c = new OpusCodec({ sampleRate: 8000 });
      c.decode(c.encode(sine(1000, 8000, 80)));
      assert.equal(c.decodeLost().length, 80);
      c.decode(c.encode(sine(1000, 8000, 320)));
      assert.equal(c.decodeLost().length, 320);
    });
    it('it MUST continue the tone through a concealed frame (PLC, not silence)', () => {
      const c = new OpusCodec({ sampleRate: 8000 });
      for (let f = 0; f < 20; f++) c.decode(c.encode(sine(1000, 8000, 160, 8000, f * 160)));
      assert.ok(toneAmplitude(c.decodeLost(), 1000, 8000) > 2000);
    });
  });

  describe('bad input', () => {
    it('it MUST refuse empty and over-long payloads with CodecPayloadError', () => {
      const c = new OpusCodec({ sampleRate: 8000 });
      assert.throws(() => c.decode(Buffer.alloc(0)), (e: unknown) => e instanceof CodecPayloadError && e.reason === 'empty');
      assert.throws(() => c.decode(Buffer.alloc(4000)), (e: unknown) => e instanceof CodecPayloadError && e.reason === 'too-long');
    });
    it('it MUST answer 2,000 garbage payloads with CodecPayloadError or bounded PCM, never anything else', () => {
      const c = new OpusCodec({ sampleRate: 8000 });
      const rnd = garbage(0xc0ffee);
      let rejected = 0;
      for (let i = 0; i < 2000; i++) {
        const payload = rnd(1 + (i % 300));
        try {
          const pcm = c.decode(payload);
          assert.ok(pcm.length > 0 && pcm.length <= 960, `length ${pcm.length}`);
        } catch (e) {
          assert.ok(e instanceof CodecPayloadError, String(e));
          rejected++;
        }
      }
      assert.ok(rejected > 0, 'some garbage must be rejected');
      // The decoder still works afterwards.
      assert.equal(c.decode(c.encode(new Int16Array(160))).length, 160);
    });
    it('it MUST refuse use after close()', () => {
      const c = new OpusCodec({ sampleRate: 8000 });
      const pkt = c.encode(new Int16Array(160));
      c.close();
      assert.throws(() => c.decode(pkt), CodecClosedError);
      assert.throws(() => c.decodeLost(), CodecClosedError);
    });
  });
});
