/**
 * G.711 (ITU-T G.711, RFC 3551 §4.5.14): table values, the digital milliwatt, round trips and
 * quantisation error bounds, over every 16-bit input.
 *
 * Expected values are G.711's own: decoder outputs of Tables 1a (A-law, 4096 scale, ×8 to
 * 16 bits) and 2a (µ-law, 8159 scale, ×4), decision thresholds, and the digital milliwatt of
 * Tables 5/6. Encoding follows ITU-T G.191 (one's complement of negative samples).
 */
import assert from 'node:assert/strict';
import {
  ALAW_DECODE,
  ALAW_ENCODE,
  CodecClosedError,
  CodecPayloadError,
  CodecPcmError,
  G711Codec,
  ULAW_DECODE,
  ULAW_ENCODE,
  createCodec,
} from '../../../media/codecs';
import { toneAmplitude } from './helpers';

const ulaw = (x: number): number => ULAW_ENCODE[x & 0xffff];
const alaw = (x: number): number => ALAW_ENCODE[x & 0xffff];

describe('G.711 (ITU-T G.711, RFC 3551 §4.5.14)', () => {
  describe('µ-law (Table 2a)', () => {
    // [16-bit input, code]: decision thresholds at 14-bit 1, 3, 31 (×4), the extremes.
    const encode: Array<[number, number]> = [
      [0, 0xff], [3, 0xff], [4, 0xfe], [11, 0xfe], [12, 0xfd],
      [123, 0xf0], [124, 0xef], [32767, 0x80], [-32768, 0x00],
      // G.191: one's complement for negatives, so -1…-4 quantise like 0…3 with the sign bit clear.
      [-1, 0x7f], [-4, 0x7f], [-5, 0x7e],
    ];
    for (const [x, code] of encode) {
      it(`it MUST encode ${x} as 0x${code.toString(16)}`, () => assert.equal(ulaw(x), code));
    }
    // [code, 16-bit output]: outputs 0, 2, 30, 33 and 8031 of the 8159 scale, ×4.
    const decode: Array<[number, number]> = [
      [0xff, 0], [0x7f, 0], [0xfe, 8], [0xf0, 120], [0xef, 132], [0x80, 32124], [0x00, -32124], [0x01, -31100],
    ];
    for (const [code, y] of decode) {
      it(`it MUST decode 0x${code.toString(16)} as ${y}`, () => assert.equal(ULAW_DECODE[code], y));
    }
  });

  describe('A-law (Table 1a)', () => {
    const encode: Array<[number, number]> = [
      [0, 0xd5], [15, 0xd5], [16, 0xd4], [511, 0xca], [512, 0xf5], [32767, 0xaa], [-32768, 0x2a],
      [-1, 0x55], [-16, 0x55], [-17, 0x54],
    ];
    for (const [x, code] of encode) {
      it(`it MUST encode ${x} as 0x${code.toString(16)}`, () => assert.equal(alaw(x), code));
    }
    // Outputs 1, 3, 33 and 4032 of the 4096 scale, ×8; even bits inverted on the line.
    const decode: Array<[number, number]> = [[0xd5, 8], [0x55, -8], [0xd4, 24], [0xc5, 264], [0xaa, 32256], [0x2a, -32256]];
    for (const [code, y] of decode) {
      it(`it MUST decode 0x${code.toString(16)} as ${y}`, () => assert.equal(ALAW_DECODE[code], y));
    }
  });

  describe('digital milliwatt (Tables 5 and 6)', () => {
    const cases: Array<[string, number[], Readonly<Int16Array>, (x: number) => number]> = [
      ['µ-law', [0x1e, 0x0b, 0x0b, 0x1e, 0x9e, 0x8b, 0x8b, 0x9e], ULAW_DECODE, ulaw],
      ['A-law', [0x34, 0x21, 0x21, 0x34, 0xb4, 0xa1, 0xa1, 0xb4], ALAW_DECODE, alaw],
    ];
    for (const [law, codes, dec, enc] of cases) {
      it(`${law}: it MUST decode to a 1 kHz sine at 0 dBm0 (±0.1 dB) and re-encode to the same octets`, () => {
        const one = Int16Array.from(codes, (c) => dec[c]);
        const pcm = new Int16Array(800);
        for (let i = 0; i < pcm.length; i++) pcm[i] = one[i % 8];
        const peak = toneAmplitude(pcm, 1000, 8000);
        // 0 dBm0 peak: µ-law 3.17 dB below 8159×4, A-law 3.14 dB below 4096×8 (G.711 §§3, 4).
        const ref = law === 'µ-law' ? 32636 * 10 ** (-3.17 / 20) : 32768 * 10 ** (-3.14 / 20);
        assert.ok(Math.abs(20 * Math.log10(peak / ref)) < 0.1, `level ${peak} vs ${ref}`);
        assert.deepEqual(Array.from(one, enc), codes);
      });
    }
  });

  describe('round trips and error bounds', () => {
    it('it MUST re-encode every decoded µ-law code to itself (0x7F, negative zero, becomes 0xFF)', () => {
      for (let c = 0; c < 256; c++) assert.equal(ulaw(ULAW_DECODE[c]), c === 0x7f ? 0xff : c, `code 0x${c.toString(16)}`);
    });
    it('it MUST re-encode every decoded A-law code to itself', () => {
      for (let c = 0; c < 256; c++) assert.equal(alaw(ALAW_DECODE[c]), c, `code 0x${c.toString(16)}`);
    });
    it('it MUST keep µ-law error within half a step, (|x|+132)/32, below the clip level 32635', () => {
      for (let x = -32635; x <= 32635; x++) {
        const e = Math.abs(ULAW_DECODE[ulaw(x)] - x);
        assert.ok(e <= (Math.abs(x) + 132) / 32, `x=${x} error ${e}`);
      }
    });
    it('it MUST keep A-law error within half a step, max(8, |x|/32), over the whole 16-bit range', () => {
      for (let x = -32768; x <= 32767; x++) {
        const e = Math.abs(ALAW_DECODE[alaw(x)] - x);
        assert.ok(e <= Math.max(8, Math.abs(x) / 32), `x=${x} error ${e}`);
      }
    });
    it('it MUST decode monotonically and symmetrically in both laws', () => {
      for (let m = 1; m < 128; m++) {
        assert.ok(ULAW_DECODE[0x80 | (127 - m)] > ULAW_DECODE[0x80 | (128 - m)], `µ-law magnitude ${m}`);
        assert.equal(ULAW_DECODE[m] + ULAW_DECODE[0x80 | m], 0, `µ-law code ${m}`);
        assert.equal(ALAW_DECODE[m] + ALAW_DECODE[0x80 | m], 0, `A-law code ${m}`);
      }
    });
  });

  describe('the codec object (AudioCodec)', () => {
    it('it MUST describe PCMU/PCMA as 8000 Hz mono with 160-sample 20 ms frames', () => {
      for (const name of ['PCMU', 'PCMA'] as const) {
        const c = createCodec(name);
        assert.equal(c.name, name);
        assert.equal(c.clockRate, 8000);
        assert.equal(c.sampleRate, 8000);
        assert.equal(c.channels, 1);
        assert.equal(c.frameSamples(20), 160);
        assert.equal(c.timestampIncrement(30), 240);
      }
    });
    it('it MUST encode and decode a frame through the tables', () => {
      const c = new G711Codec('PCMU');
      const pcm = Int16Array.from([0, -1, 32767, -32768, 124]);
      assert.deepEqual([...c.encode(pcm)], [0xff, 0x7f, 0x80, 0x00, 0xef]);
      assert.deepEqual([...c.decode(Buffer.from([0xff, 0x80, 0x00]))], [0, 32124, -32124]);
    });
    it('it MUST conceal a lost packet as long as the last one: silence after silence (plc.test.ts: tones)', () => {
      const c = new G711Codec('PCMA');
      assert.equal(c.decodeLost().length, 160);
      c.decode(Buffer.alloc(240, 0xd5)); // A-law's smallest positive level: near silence
      c.decode(Buffer.alloc(240, 0x55));
      const lost = c.decodeLost();
      assert.equal(lost.length, 240);
      assert.ok(lost.every((v) => Math.abs(v) <= 8), 'no more than the near-silence it follows');
    });
    it('it MUST refuse an empty or over-long payload and bad PCM with named errors', () => {
      const c = new G711Codec('PCMU');
      assert.throws(() => c.decode(Buffer.alloc(0)), (e: unknown) => e instanceof CodecPayloadError && e.reason === 'empty');
      assert.throws(() => c.decode(Buffer.alloc(961)), (e: unknown) => e instanceof CodecPayloadError && e.reason === 'too-long');
      assert.throws(() => c.encode(new Int16Array(0)), CodecPcmError);
    });
    it('it MUST refuse use after close()', () => {
      const c = new G711Codec('PCMA');
      c.close();
      c.close();
      assert.throws(() => c.decode(Buffer.alloc(160)), CodecClosedError);
      assert.throws(() => c.encode(new Int16Array(160)), CodecClosedError);
    });
  });
});
