/**
 * Codecs appended for transcoding (CodecPolicy.append, media/engine/transcoding.ts): the other leg
 * is offered the offerer's codecs, then the transcodable ones it lacks; the answer decides whether
 * the stream is relayed as is or transcoded (RFC 3264 §6.1, RFC 4733, RFC 3389).
 */
import assert from 'node:assert/strict';
import { createCodec, type AudioCodec } from '../../../media/codecs';
import type { EmbeddedMediaEngine, OfferFlags } from '../../../media/engine';
import { rtpPacket, sleep, startEngine, waitFor, peerFixture } from './helpers';

const APPEND: OfferFlags = { transport: 'RTP/AVP', codecs: { append: ['PCMU', 'PCMA', 'opus'] } };
const OPUS_ONLY = { payloads: '111 110', rtpmaps: ['a=rtpmap:111 opus/48000/2', 'a=fmtp:111 useinbandfec=1', 'a=rtpmap:110 telephone-event/48000', 'a=fmtp:110 0-16'] };
const PCMU_DTMF = { payloads: '0 101', rtpmaps: ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15'] };
const pt = (p: Buffer): number => p[1]! & 0x7f;
const ssrcOf = (p: Buffer): number => p.readUInt32BE(8);

function sine(freq: number, rate: number, n: number, start: number): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * freq * (start + i)) / rate));
  return out;
}

/** Zero-crossing estimate of the dominant frequency. */
function frequency(parts: Int16Array[], rate: number): number {
  let crossings = 0;
  let n = 0;
  let last: number | undefined;
  for (const pcm of parts) {
    for (const s of pcm) {
      if (last !== undefined && (last < 0) !== (s < 0)) crossings++;
      last = s;
      n++;
    }
  }
  return (crossings / 2) * (rate / n);
}

/** One RFC 4733 §2.3 event report: event 5, volume 10. */
const event = (end: boolean, duration: number): Buffer => Buffer.from([5, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]);

describe('media engine: codecs appended for transcoding (CodecPolicy.append)', () => {
  let engine: EmbeddedMediaEngine;
  const open = peerFixture(() => engine);
  const codecs: AudioCodec[] = [];
  const codec = (name: string): AudioCodec => {
    const c = createCodec(name, name === 'opus' ? { sampleRate: 48000 } : {});
    codecs.push(c);
    return c;
  };

  beforeEach(() => {
    engine = startEngine();
  });
  afterEach(async () => {
    for (const c of codecs.splice(0)) c.close();
  });

  describe('the offer (RFC 3264 §5.1: the offerer\'s preference first)', () => {
    it('MUST append the transcodable codecs the offer lacks, in the configured order, after its own', async () => {
      const a = await open({ kind: 'srtp', ...OPUS_ONLY });
      const offer = await engine.offer('o1', 'tag-a', a.sdp(), APPEND);
      assert.match(offer, /m=audio \d+ RTP\/AVP 111 0 8 110 101\r\n/);
      assert.match(offer, /a=rtpmap:111 opus\/48000\/2\r\n/);
      assert.match(offer, /a=fmtp:111 useinbandfec=1\r\n/, 'the offerer\'s codec unchanged');
      assert.match(offer, /a=rtpmap:0 PCMU\/8000/);
      assert.match(offer, /a=rtpmap:8 PCMA\/8000/);
      assert.match(offer, /a=rtpmap:101 telephone-event\/8000\r\n[^]*a=fmtp:101 0-16/, 'RFC 4733 on the appended codecs\' clock, the events the offerer takes');
      assert.equal(offer.match(/opus/g)?.length, 1, 'Opus is not appended twice');
    });

    it('MUST append only what is missing, reuse the offerer\'s telephone-event on a clock it has, and add one on a new clock', async () => {
      const a = await open({ kind: 'rtp', payloads: '8 101 13', rtpmaps: ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=rtpmap:13 CN/8000'] });
      const offer = await engine.offer('o2', 'tag-a', a.sdp(), APPEND);
      assert.match(offer, /m=audio \d+ RTP\/AVP 8 0 96 101 13 97\r\n/);
      assert.match(offer, /a=rtpmap:96 opus\/48000\/2/);
      assert.match(offer, /a=rtpmap:97 telephone-event\/48000/);
      assert.equal(offer.match(/telephone-event\/8000/g)?.length, 1);
    });

    it('MUST leave the offer as it is when it has no transcodable codec, when allow forbids, and for pass-through', async () => {
      const g729 = await open({ kind: 'rtp', payloads: '18 101', rtpmaps: ['a=rtpmap:18 G729/8000', 'a=rtpmap:101 telephone-event/8000'] });
      assert.match(await engine.offer('o3', 'tag-a', g729.sdp(), APPEND), /m=audio \d+ RTP\/AVP 18 101\r\n/);
      const pcmu = await open({ kind: 'rtp', ...PCMU_DTMF });
      const allowed = await engine.offer('o4', 'tag-a', pcmu.sdp(), { transport: 'RTP/AVP', codecs: { allow: ['PCMU', 'PCMA'], append: ['opus', 'PCMA'] } });
      assert.match(allowed, /m=audio \d+ RTP\/AVP 0 8 101\r\n/, 'Opus is not allowed');
      const dtls = await open({ kind: 'dtls', payloads: '111', rtpmaps: ['a=rtpmap:111 opus/48000/2'] });
      const through = await engine.offer('o5', 'tag-a', dtls.sdp(), { transport: 'pass-through', codecs: { append: ['PCMU'] } });
      assert.match(through, /m=audio \d+ UDP\/TLS\/RTP\/SAVPF 111\r\n/, 'end to end: the engine cannot transcode');
    });
  });

  describe('the answer', () => {
    it('MUST relay as is, no transcoder, when the answer picks one of the offerer\'s codecs', async () => {
      const a = await open({ kind: 'srtp', payloads: '111 0 110', rtpmaps: ['a=rtpmap:111 opus/48000/2', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:110 telephone-event/48000'] });
      const b = await open({ kind: 'rtp', payloads: '0 8', rtpmaps: ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000'] });
      b.learn(await engine.offer('r1', 'tag-a', a.sdp(), APPEND));
      const answer = await engine.answer('r1', 'tag-a', 'tag-b', b.sdp());
      a.learn(answer);
      assert.match(answer, /m=audio \d+ RTP\/SAVP 0\r\n/, 'only what the offerer offered; the appended PCMA is not answered');
      assert.doesNotMatch(answer, /PCMA|opus/);
      const payload = Buffer.alloc(160, 0x55);
      for (let i = 0; i < 3; i++) {
        a.sendRtp(rtpPacket({ seq: i, ts: i * 160, pt: 0, ssrc: 0xa0, payload }));
        b.sendRtp(rtpPacket({ seq: i, ts: i * 160, pt: 0, ssrc: 0xb0, payload }));
      }
      await waitFor(() => a.rtp.length >= 3 && b.rtp.length >= 3, 3000, 'relayed frames');
      assert.ok(b.rtp.every((p) => pt(p) === 0 && ssrcOf(p) === 0xa0 && p.subarray(12).equals(payload)), 'A\'s packets, as sent');
      assert.ok(a.rtp.every((p) => pt(p) === 0 && ssrcOf(p) === 0xb0 && p.subarray(12).equals(payload)), 'B\'s packets, as sent');
      b.sendRtp(rtpPacket({ seq: 3, ts: 480, pt: 8, ssrc: 0xb0, payload }));
      await sleep(50);
      assert.equal(a.rtp.length, 3, 'the appended codec, not answered, is not relayed');
    });

    it('MUST transcode both ways when the answer picks an appended codec: tones and a key press', async function () {
      this.timeout(10_000);
      const a = await open({ kind: 'srtp', ...OPUS_ONLY });
      const b = await open({ kind: 'rtp', ...PCMU_DTMF });
      b.learn(await engine.offer('t1', 'tag-a', a.sdp(), APPEND));
      const answer = await engine.answer('t1', 'tag-a', 'tag-b', b.sdp());
      a.learn(answer);
      assert.match(answer, /m=audio \d+ RTP\/SAVP 111 110\r\n/, 'the offerer\'s own codec and events');
      assert.match(answer, /a=fmtp:111 useinbandfec=1/);
      assert.match(answer, /a=fmtp:110 0-15/, 'the events B takes, under A\'s number');
      assert.doesNotMatch(answer, /PCMU|PCMA|telephone-event\/8000/);

      const opusTx = codec('opus');
      const pcmuTx = codec('PCMU');
      const frames = 25; // 500 ms
      for (let f = 0; f < frames; f++) {
        a.sendRtp(rtpPacket({ seq: f, ts: f * 960, pt: 111, ssrc: 0xa1, payload: Buffer.from(opusTx.encode(sine(1000, 48000, 960, f * 960))) }));
        b.sendRtp(rtpPacket({ seq: f, ts: f * 160, pt: 0, ssrc: 0xb1, payload: Buffer.from(pcmuTx.encode(sine(440, 8000, 160, f * 160))) }));
        await sleep(2);
      }
      // A key press each way under the tone (RFC 4733 §2.5.1.4: the end sent three times).
      for (const [i, d] of [1, 2, 3, 3, 3].entries()) {
        a.sendRtp(rtpPacket({ seq: frames + i, ts: frames * 960, pt: 110, ssrc: 0xa1, marker: i === 0, payload: event(i >= 2, d * 960) }));
        b.sendRtp(rtpPacket({ seq: frames + i, ts: frames * 160, pt: 101, ssrc: 0xb1, marker: i === 0, payload: event(i >= 2, d * 160) }));
      }
      await waitFor(() => b.rtp.length >= frames + 4 && a.rtp.length >= frames + 4, 5000, 'transcoded frames and events both ways');
      await sleep(30);
      assert.equal(a.refused, 0, 'valid SRTP to the Opus leg');

      const atB = b.rtp.filter((p) => pt(p) === 0);
      const atA = a.rtp.filter((p) => pt(p) === 111);
      assert.ok(atB.length >= frames - 1 && atB.every((p) => p.length === 12 + 160), 'PCMU, 20 ms each');
      assert.ok(atA.length >= frames - 1, 'Opus frames');
      assert.notEqual(ssrcOf(atB[0]!), 0xa1, 'a transcoder is a source of its own (RFC 3550 §7.1)');
      const pcmuRx = codec('PCMU');
      const opusRx = codec('opus');
      const heardB = frequency(atB.slice(5).map((p) => pcmuRx.decode(p.subarray(12))), 8000);
      const heardA = frequency(atA.map((p) => opusRx.decode(p.subarray(12))).slice(5), 48000);
      assert.ok(Math.abs(heardB - 1000) < 30, `B heard ${heardB.toFixed(0)} Hz`);
      assert.ok(Math.abs(heardA - 440) < 20, `A heard ${heardA.toFixed(0)} Hz`);

      const eventsAtB = b.rtp.filter((p) => pt(p) === 101);
      const eventsAtA = a.rtp.filter((p) => pt(p) === 110);
      assert.equal(eventsAtB.length, 5, 'every event packet to B, the three end packets included');
      assert.equal(eventsAtA.length, 5, 'every event packet to A');
      const durations = (ps: Buffer[]): number[] => ps.map((p) => p.readUInt16BE(14));
      assert.deepEqual(durations(eventsAtB), [160, 320, 480, 480, 480], 'durations on B\'s 8 kHz clock');
      assert.deepEqual(durations(eventsAtA), [960, 1920, 2880, 2880, 2880], 'durations on A\'s 48 kHz clock');
      assert.ok(eventsAtB.every((p) => p[12] === 5 && ssrcOf(p) === ssrcOf(atB[0]!)), 'the key, in the transcoder\'s stream');
      assert.ok(eventsAtA.every((p) => p[12] === 5 && ssrcOf(p) === ssrcOf(atA[0]!)));
    });

    it('MUST speak to the offerer its codec on the answered clock: PCMA ↔ PCMU, with CN (RFC 3389)', async function () {
      this.timeout(10_000);
      const a = await open({ kind: 'rtp', payloads: '111 8 101 13', rtpmaps: ['a=rtpmap:111 opus/48000/2', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=rtpmap:13 CN/8000'] });
      const b = await open({ kind: 'rtp', payloads: '0 13', rtpmaps: ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:13 CN/8000'] });
      const offer = await engine.offer('t2', 'tag-a', a.sdp(), APPEND);
      assert.match(offer, /m=audio \d+ RTP\/AVP 111 8 0 101 13\r\n/);
      b.learn(offer);
      const answer = await engine.answer('t2', 'tag-a', 'tag-b', b.sdp());
      a.learn(answer);
      assert.match(answer, /m=audio \d+ RTP\/AVP 8 13\r\n/, 'PCMA (not Opus) and CN to A; B took no telephone-event');
      const pcma = codec('PCMA');
      for (let f = 0; f < 10; f++) a.sendRtp(rtpPacket({ seq: f, ts: f * 160, pt: 8, payload: Buffer.from(pcma.encode(sine(1000, 8000, 160, f * 160))) }));
      a.sendRtp(rtpPacket({ seq: 10, ts: 1600, pt: 13, payload: Buffer.from([0x3c]) }));
      await b.waitRtp(11, 3000);
      const audio = b.rtp.filter((p) => pt(p) === 0);
      const pcmu = codec('PCMU');
      const heard = frequency(audio.slice(2).map((p) => pcmu.decode(p.subarray(12))), 8000);
      assert.ok(Math.abs(heard - 1000) < 30, `B heard ${heard.toFixed(0)} Hz`);
      assert.deepEqual(b.rtp.filter((p) => pt(p) === 13).map((p) => p.subarray(12)), [Buffer.from([0x3c])], 'CN passes as is');
    });

    it('MUST refuse an answer with no offered codec at all (answer-mismatch)', async () => {
      const a = await open({ kind: 'rtp', ...PCMU_DTMF });
      const b = await open({ kind: 'rtp', payloads: '9', rtpmaps: ['a=rtpmap:9 G722/8000'] });
      b.learn(await engine.offer('m1', 'tag-a', a.sdp(), APPEND));
      await assert.rejects(engine.answer('m1', 'tag-a', 'tag-b', b.sdp()), (e: Error & { code?: string }) => e.code === 'answer-mismatch');
    });
  });

  describe('transcoding when no allowed codec is offered (CodecPolicy.transcode)', () => {
    it('MUST speak to the offerer its codec on the answered codec\'s clock when it has one', async () => {
      const a = await open({ kind: 'rtp', payloads: '111 8', rtpmaps: ['a=rtpmap:111 opus/48000/2', 'a=rtpmap:8 PCMA/8000'] });
      const b = await open({ kind: 'rtp', payloads: '0', rtpmaps: ['a=rtpmap:0 PCMU/8000'] });
      b.learn(await engine.offer('q1', 'tag-a', a.sdp(), { transport: 'RTP/AVP', codecs: { allow: ['PCMU'], transcode: true } }));
      const answer = await engine.answer('q1', 'tag-a', 'tag-b', b.sdp());
      assert.match(answer, /m=audio \d+ RTP\/AVP 8\r\n/, 'PCMA ↔ PCMU, not Opus ↔ PCMU');
    });
  });
});
