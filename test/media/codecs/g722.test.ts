/**
 * G.722 (ITU-T G.722 mode 1, 64 kbit/s; RFC 3551 §4.5.2): tones in both sub-bands come back at
 * their frequency and level, the codec delay is the QMF pair's 22 samples, state runs across
 * frames, junk decodes, bad lengths throw; and G722 transcoded to and from PCMU and Opus, through
 * media/codecs and through the media engine (no CN next to G722, RFC 3389).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CodecClosedError,
  CodecPayloadError,
  CodecPcmError,
  G711Codec,
  G722Codec,
  OpusCodec,
  createCodec,
  createTranscoder,
  resolveCodec,
  type RtpAudioOut,
} from '../../../media/codecs';
import type { EmbeddedMediaEngine } from '../../../media/engine';
import { Peer, rtpPacket, transcodeFixture, waitFor } from '../engine/helpers';
import { concat, feed, garbage, rms, sine, toneAmplitude, zeroCrossingRate } from './helpers';

/** Encoder + decoder delay of the QMF pair (two 24-tap filters), in 16 kHz samples. */
const DELAY = 22;

const db = (a: number, ref: number): number => 20 * Math.log10(a / ref);

/** Encode `pcm` with one codec in 20 ms frames, decode each frame with another. */
function roundTrip(pcm: Int16Array, frame = 320): { payloads: Buffer[]; out: Int16Array } {
  const enc = new G722Codec();
  const dec = new G722Codec();
  const payloads: Buffer[] = [];
  for (let i = 0; i + frame <= pcm.length; i += frame) payloads.push(enc.encode(pcm.subarray(i, i + frame)));
  return { payloads, out: concat(payloads.map((p) => dec.decode(p))) };
}

/** SNR in dB of `out` against `ref` delayed by `delay` samples, over ref[from, to). */
function snr(ref: Int16Array, out: Int16Array, delay: number, from: number, to: number): number {
  let sig = 0;
  let err = 0;
  for (let i = from; i < to; i++) {
    const e = out[i + delay] - ref[i];
    sig += ref[i] * ref[i];
    err += e * e;
  }
  return 10 * Math.log10(sig / Math.max(err, 1));
}

/** 1 s of reproducible, mildly low-passed noise: a signal with no period, to find the delay. */
function noise(): Int16Array {
  const g = garbage(7)(32000);
  const out = new Int16Array(16000);
  let y = 0;
  for (let i = 0; i < out.length; i++) {
    y = 0.5 * y + 0.5 * (g.readUInt16BE(2 * i) - 32768);
    out[i] = Math.round(y / 8);
  }
  return out;
}

describe('G.722 (ITU-T G.722 mode 1, RFC 3551 §4.5.2)', () => {
  it('MUST describe itself as G722/8000, 16 kHz PCM, 20 ms = 320 samples = 160 octets = 160 ticks', () => {
    const c = new G722Codec();
    assert.deepEqual([c.name, c.clockRate, c.channels, c.sampleRate], ['G722', 8000, 1, 16000]);
    assert.equal(c.frameSamples(20), 320);
    assert.equal(c.timestampIncrement(20), 160);
    assert.equal(c.timestampIncrement(30), 240);
    assert.equal(c.encode(new Int16Array(320)).length, 160);
    assert.equal(c.decode(Buffer.alloc(160, 0xfa)).length, 320);
    assert.ok(createCodec('G722') instanceof G722Codec);
    assert.equal(resolveCodec('g722', 8000), 'G722');
    assert.equal(resolveCodec('G722', 16000), undefined, 'RFC 3551 §4.5.2: the rtpmap says 8000');
    assert.equal(resolveCodec('G722', 8000, 2), undefined);
  });

  it('MUST start digital silence as 0xFA (I_H 3, I_L 58 at the initial scale factors), I_H staying 3', () => {
    const c = new G722Codec();
    const first = c.encode(new Int16Array(320));
    // At DETL = 32 the first three decision levels round to 0 (Table 6 × 32 >> 12), so 0 falls in interval 4.
    assert.ok(first.subarray(0, 40).every((b) => b === 0xfa));
    for (let f = 0; f < 5; f++) assert.ok((f ? c.encode(new Int16Array(320)) : first).every((b) => b >> 6 === 3), `frame ${f}`);
  });

  describe('bit-exact against a reference implementation', () => {
    // SHA-256 of the octets (and of the decoded PCM as 16-bit little-endian) that libspandsp 0.0.6's
    // g722_encode/g722_decode at 64000 produce for the same 1 s of input, 20 ms at a time here.
    const N = 50 * 320;
    const mix = (): Int16Array => {
      const [a, b] = [sine(1000, 16000, N, 6000), sine(5000, 16000, N, 6000)];
      return a.map((v, i) => v + b[i]);
    };
    const noisy = (): Int16Array => {
      const g = garbage(99)(2 * N);
      return Int16Array.from({ length: N }, (_, i) => g.readInt16LE(2 * i));
    };
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    const le = (pcm: Int16Array): Buffer => {
      const b = Buffer.alloc(2 * pcm.length);
      pcm.forEach((v, i) => b.writeInt16LE(v, 2 * i));
      return b;
    };
    for (const [name, signal, encoded, window, decoded] of [
      ['1 kHz + 5 kHz', mix, '16eba4e0097b5370486fcacfeff50fabfc8a56efb38a0505b61ab222dbcf0d38', 'dd5baf73f8f417d75c19f03078f513d8', 'd725ef2f7002460eea62aa535090c8c118cc25527fc0257522f27a3f4c6cb438'],
      ['full-scale noise', noisy, '6ff9af186047c12b3aa2e8ef17b9d06ffa84ef697b58e88ac72db211a9b7ceec', '32122ec60d4d0b929d3bafc437a2642a', undefined],
    ] as const) {
      it(`MUST encode ${name} octet for octet${decoded ? ' and decode it sample for sample' : ''}`, () => {
        const { payloads, out } = roundTrip(signal());
        const octets = Buffer.concat(payloads);
        assert.equal(octets.subarray(100, 116).toString('hex'), window, 'octets 100–115');
        assert.equal(sha(octets), encoded);
        // (On noise the reference's synthesis QMF wraps around on 16-bit overflow where this one saturates.)
        if (decoded) assert.equal(sha(le(out)), decoded);
      });
    }
  });

  // 1 kHz lies in the lower sub-band, 5 and 7 kHz in the higher one, which G.711 cannot carry.
  for (const [freq, minSnr] of [[1000, 40], [5000, 20], [7000, 20]] as const) {
    it(`MUST carry a ${freq} Hz tone at 16 kHz at its frequency and level, SNR > ${minSnr} dB after ${DELAY} samples`, () => {
      const src = sine(freq, 16000, 50 * 320, 8000); // 50 frames, one encoder: state runs across frames
      const { payloads, out } = roundTrip(src);
      assert.equal(payloads.length, 50);
      assert.ok(payloads.every((p) => p.length === 160));
      const tail = out.subarray(3200);
      assert.ok(Math.abs(db(toneAmplitude(tail, freq, 16000), 8000)) < 0.5, `level ${toneAmplitude(tail, freq, 16000).toFixed(0)}`);
      assert.ok(Math.abs(zeroCrossingRate(tail, 16000) / (2 * freq) - 1) < 0.01, `zero crossings ${zeroCrossingRate(tail, 16000)}`);
      const other = freq === 1000 ? 5000 : 1000;
      assert.ok(toneAmplitude(tail, other, 16000) < 80, `${other} Hz must be absent`);
      const s = snr(src, out, DELAY, 3200, src.length - DELAY);
      assert.ok(s > minSnr, `SNR ${s.toFixed(1)} dB`);
    });
  }

  it(`MUST delay by exactly ${DELAY} samples (QMF analysis + synthesis) and follow broadband noise`, () => {
    const src = noise();
    const { out } = roundTrip(src);
    const at = (d: number): number => snr(src, out, d, 1600, src.length - 40);
    const best = Array.from({ length: 40 }, (_, d) => d).reduce((b, d) => (at(d) > at(b) ? d : b), 0);
    assert.equal(best, DELAY);
    assert.ok(at(DELAY) > 12, `noise SNR ${at(DELAY).toFixed(1)} dB`);
    assert.ok(at(DELAY) - at(DELAY + 1) > 10, 'a sharp peak: the two QMF branches line up');
  });

  it('MUST keep silence near silence, and a quiet tone quiet', () => {
    const { out } = roundTrip(new Int16Array(50 * 320));
    assert.ok(rms(out) < 4, `silence rms ${rms(out)}`);
    assert.ok(out.every((v) => Math.abs(v) < 16));
    const quiet = sine(440, 16000, 50 * 320, 100);
    const q = roundTrip(quiet).out.subarray(3200);
    assert.ok(Math.abs(db(toneAmplitude(q, 440, 16000), 100)) < 1.5, `quiet level ${toneAmplitude(q, 440, 16000).toFixed(1)}`);
  });

  it('MUST carry its state across frames: the octets do not depend on the framing, and a fresh state per frame differs', () => {
    const src = sine(1000, 16000, 40 * 320, 8000);
    const by20 = roundTrip(src, 320).payloads;
    const by40 = roundTrip(src, 640).payloads;
    assert.deepEqual(Buffer.concat(by40), Buffer.concat(by20));
    const fresh = Buffer.concat(Array.from({ length: 40 }, (_, i) => new G722Codec().encode(src.subarray(i * 320, (i + 1) * 320))));
    assert.notDeepEqual(fresh, Buffer.concat(by20));
  });

  it('MUST keep encoder and decoder state per instance (two streams interleaved = two streams apart)', () => {
    const x = sine(1000, 16000, 10 * 320, 8000);
    const y = sine(6000, 16000, 10 * 320, 3000);
    const alone = (pcm: Int16Array): Buffer => roundTrip(pcm).payloads.reduce((a, p) => Buffer.concat([a, p]), Buffer.alloc(0));
    const [cx, cy] = [new G722Codec(), new G722Codec()];
    const ix: Buffer[] = [];
    const iy: Buffer[] = [];
    for (let f = 0; f < 10; f++) {
      ix.push(cx.encode(x.subarray(f * 320, (f + 1) * 320)));
      iy.push(cy.encode(y.subarray(f * 320, (f + 1) * 320)));
      cx.decode(iy[f]); // the decoders of the same instances, in the way
      cy.decode(ix[f]);
    }
    assert.deepEqual(Buffer.concat(ix), alone(x));
    assert.deepEqual(Buffer.concat(iy), alone(y));
  });

  it('MUST decode any octets without throwing, two samples an octet, and recover on a real stream', () => {
    const dec = new G722Codec();
    const junk = garbage(0x722);
    for (let i = 0; i < 300; i++) {
      const n = 1 + (junk(2).readUInt16BE(0) % 960);
      const pcm = dec.decode(junk(n));
      assert.equal(pcm.length, 2 * n);
    }
    const { payloads } = roundTrip(sine(1000, 16000, 50 * 320, 8000));
    const after = concat(payloads.map((p) => dec.decode(p))).subarray(30 * 320);
    assert.ok(Math.abs(db(toneAmplitude(after, 1000, 16000), 8000)) < 1, `after junk ${toneAmplitude(after, 1000, 16000).toFixed(0)}`);
  });

  it('MUST throw CodecPayloadError / CodecPcmError on bad lengths, CodecClosedError after close()', () => {
    const c = new G722Codec();
    assert.throws(() => c.decode(new Uint8Array(0)), (e: unknown) => e instanceof CodecPayloadError && e.reason === 'empty');
    assert.throws(() => c.decode(new Uint8Array(961)), (e: unknown) => e instanceof CodecPayloadError && e.reason === 'too-long');
    assert.equal(c.decode(new Uint8Array(960)).length, 1920, '120 ms is the longest');
    for (const n of [0, 1, 319, 1922]) assert.throws(() => c.encode(new Int16Array(n)), CodecPcmError, `${n} samples`);
    assert.equal(c.encode(new Int16Array(2)).length, 1);
    c.close();
    c.close();
    assert.throws(() => c.encode(new Int16Array(320)), CodecClosedError);
    assert.throws(() => c.decode(new Uint8Array(160)), CodecClosedError);
    assert.throws(() => c.decodeLost(), CodecClosedError);
  });

  it('MUST conceal a lost packet as long as the last one (20 ms before any; plc.test.ts: tones)', () => {
    const c = new G722Codec();
    assert.deepEqual(c.decodeLost(), new Int16Array(320));
    c.decode(Buffer.alloc(80, 0x3c));
    assert.equal(c.decodeLost().length, 160);
  });
});

describe('Transcoder with G722', () => {
  const pcmu = new G711Codec('PCMU');

  const g722Tone = (freq: number, frames: number): Buffer[] => roundTrip(sine(freq, 16000, frames * 320, 8000)).payloads;
  const cadence = (frames: RtpAudioOut[], step: number): boolean => frames.every((f, i) => i === 0 || ((f.timestamp - frames[i - 1].timestamp) >>> 0) === step);

  it('MUST carry 1 kHz G722 → PCMU (16 → 8 kHz) and cut 5 kHz, which G.711 cannot carry', () => {
    for (const [freq, level] of [[1000, 8000], [5000, 0]] as const) {
      const t = createTranscoder('G722', 'PCMU', { timestampBase: 0 });
      const out = feed(t, g722Tone(freq, 100), 160);
      assert.equal(out.length, 100);
      assert.ok(cadence(out, 160) && out.every((f) => f.payload.length === 160));
      const pcm = concat(out.map((f) => pcmu.decode(f.payload))).subarray(1600);
      if (level > 0) {
        assert.ok(Math.abs(db(toneAmplitude(pcm, freq, 8000), level)) < 1, `level ${toneAmplitude(pcm, freq, 8000).toFixed(0)}`);
        assert.ok(Math.abs(zeroCrossingRate(pcm, 8000) / (2 * freq) - 1) < 0.02);
      } else {
        assert.ok(rms(pcm) < 200, `5 kHz through 8 kHz G.711: rms ${rms(pcm).toFixed(0)}`);
      }
      t.close();
    }
  });

  it('MUST carry 440 Hz PCMU → G722 (8 → 16 kHz), 160 octets and 160 ticks a frame', () => {
    const t = createTranscoder('PCMU', 'G722', { timestampBase: 5 });
    const payloads = Array.from({ length: 100 }, (_, i) => pcmu.encode(sine(440, 8000, 160, 8000, i * 160)));
    const out = feed(t, payloads, 160);
    assert.equal(out.length, 100);
    assert.equal(out[0].timestamp, 5);
    assert.ok(cadence(out, 160) && out.every((f) => f.payload.length === 160));
    const dec = new G722Codec();
    const pcm = concat(out.map((f) => dec.decode(f.payload))).subarray(3200);
    assert.ok(Math.abs(db(toneAmplitude(pcm, 440, 16000), 8000)) < 1, `level ${toneAmplitude(pcm, 440, 16000).toFixed(0)}`);
    assert.ok(Math.abs(zeroCrossingRate(pcm, 16000) / 880 - 1) < 0.02);
    assert.ok(toneAmplitude(pcm, 5000, 16000) < 50, 'no energy above the 8 kHz band');
  });

  it('MUST run Opus at 16 kHz next to G722 (no resampler) and carry 1 kHz and 5 kHz both ways', () => {
    for (const freq of [1000, 5000]) {
      const up = createTranscoder('G722', 'opus', { timestampBase: 0 });
      assert.equal(up.to.sampleRate, 16000);
      const opusFrames = feed(up, g722Tone(freq, 100), 160);
      assert.equal(opusFrames.length, 100);
      assert.ok(cadence(opusFrames, 960), 'Opus frames step 960 ticks (RFC 7587 §4.1)');
      const opusRx = new OpusCodec({ sampleRate: 16000 });
      const heard = concat(opusFrames.map((f) => opusRx.decode(f.payload))).subarray(3200);
      assert.ok(Math.abs(db(toneAmplitude(heard, freq, 16000), 8000)) < 3, `${freq} Hz via Opus: ${toneAmplitude(heard, freq, 16000).toFixed(0)}`);

      const down = createTranscoder('opus', 'G722', { timestampBase: 0 });
      assert.equal(down.from.sampleRate, 16000);
      const back = feed(down, opusFrames.map((f) => f.payload), 960);
      assert.equal(back.length, 100);
      assert.ok(cadence(back, 160));
      const dec = new G722Codec();
      const pcm = concat(back.map((f) => dec.decode(f.payload))).subarray(3200);
      assert.ok(Math.abs(db(toneAmplitude(pcm, freq, 16000), 8000)) < 3, `${freq} Hz back: ${toneAmplitude(pcm, freq, 16000).toFixed(0)}`);
      assert.ok(Math.abs(zeroCrossingRate(pcm, 16000) / (2 * freq) - 1) < 0.03, `zero crossings ${zeroCrossingRate(pcm, 16000)}`);
      up.close();
      down.close();
      opusRx.close();
    }
  });

  it('MUST conceal a lost G722 packet and keep the PCMU cadence', () => {
    const t = createTranscoder('G722', 'PCMU', { timestampBase: 0 });
    const out = feed(t, g722Tone(1000, 20), 160, (i) => i === 7);
    assert.equal(out.length, 20);
    assert.equal(t.stats.concealed, 1);
    assert.ok(cadence(out, 160));
  });
});

describe('media engine: G722 (payload type 9) transcoded', () => {
  let engine: EmbeddedMediaEngine;
  const { peers, codec } = transcodeFixture((e) => (engine = e));
  const G722_DTMF_CN = { payloads: '9 101 13', rtpmaps: ['a=rtpmap:9 G722/8000', 'a=rtpmap:101 telephone-event/8000', 'a=rtpmap:13 CN/8000'] };
  const PCMU_CN = { payloads: '0 101 13', rtpmaps: ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=rtpmap:13 CN/8000'] };

  it('MUST offer G722 as 9 G722/8000 with telephone-event/8000, and never CN next to it (RFC 3389)', async () => {
    const g = await Peer.open({ kind: 'rtp', ...G722_DTMF_CN });
    const u = await Peer.open({ kind: 'rtp', ...PCMU_CN });
    peers.push(g, u);
    const toPcmu = await engine.offer('g1', 'tag-a', g.sdp(), { transport: 'RTP/AVP', codecs: { allow: ['PCMU'], transcode: true } });
    assert.match(toPcmu, /m=audio \d+ RTP\/AVP 0 101\r\n/);
    assert.doesNotMatch(toPcmu, /CN|G722/);
    const toG722 = await engine.offer('g2', 'tag-a', u.sdp(), { transport: 'RTP/AVP', codecs: { allow: ['G722'], transcode: true } });
    assert.match(toG722, /m=audio \d+ RTP\/AVP 9 101\r\n/);
    assert.match(toG722, /a=rtpmap:9 G722\/8000/);
    assert.match(toG722, /a=rtpmap:101 telephone-event\/8000/);
    assert.doesNotMatch(toG722, /CN/);
  });

  it('MUST carry 1 kHz G722 → PCMU and 440 Hz PCMU → G722 through the engine', async function () {
    this.timeout(10_000);
    const a = await Peer.open({ kind: 'rtp', ...G722_DTMF_CN });
    const b = await Peer.open({ kind: 'rtp', ...PCMU_CN });
    peers.push(a, b);
    b.learn(await engine.offer('g3', 'tag-a', a.sdp(), { transport: 'RTP/AVP', codecs: { allow: ['PCMU'], transcode: true } }));
    const answer = await engine.answer('g3', 'tag-a', 'tag-b', b.sdp());
    assert.match(answer, /m=audio \d+ RTP\/AVP 9 101\r\n/, 'G722 and events to A, no CN');
    a.learn(answer);
    const g722Tx = codec('G722');
    const pcmuTx = codec('PCMU');
    const frames = 25;
    for (let f = 0; f < frames; f++) {
      a.sendRtp(rtpPacket({ seq: f, ts: f * 160, pt: 9, payload: g722Tx.encode(sine(1000, 16000, 320, 8000, f * 320)) }));
      b.sendRtp(rtpPacket({ seq: f, ts: f * 160, pt: 0, ssrc: 0x99, payload: pcmuTx.encode(sine(440, 8000, 160, 8000, f * 160)) }));
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor(() => b.rtp.length >= frames - 1 && a.rtp.length >= frames - 1, 5000, 'transcoded frames both ways');
    assert.ok(b.rtp.every((p) => (p[1]! & 0x7f) === 0 && p.length === 12 + 160), 'PCMU, 20 ms each');
    assert.ok(a.rtp.every((p) => (p[1]! & 0x7f) === 9 && p.length === 12 + 160), 'G722, 20 ms = 160 octets');
    const pcmuRx = codec('PCMU');
    const g722Rx = codec('G722');
    const atB = concat(b.rtp.map((p) => pcmuRx.decode(p.subarray(12)))).subarray(800);
    const atA = concat(a.rtp.map((p) => g722Rx.decode(p.subarray(12)))).subarray(1600);
    assert.ok(Math.abs(zeroCrossingRate(atB, 8000) - 2000) < 60, `B heard ${zeroCrossingRate(atB, 8000) / 2} Hz`);
    assert.ok(Math.abs(zeroCrossingRate(atA, 16000) - 880) < 40, `A heard ${zeroCrossingRate(atA, 16000) / 2} Hz`);
    assert.ok(toneAmplitude(atA, 440, 16000) > 4000, `A level ${toneAmplitude(atA, 440, 16000).toFixed(0)}`);
  });
});
