/**
 * Transcoding when the legs share no allowed codec (issue "media plane" §6), through the engine
 * with media/codecs: the SDP each leg sees, and a tone carried Opus → PCMU and PCMU → Opus.
 */
import assert from 'node:assert/strict';
import type { EmbeddedMediaEngine } from '../../../media/engine';
import { Peer, rtpPacket, transcodeFixture, waitFor } from './helpers';

const OPUS = { payloads: '111 110', rtpmaps: ['a=rtpmap:111 opus/48000/2', 'a=fmtp:111 useinbandfec=1', 'a=rtpmap:110 telephone-event/48000'] };
const PCMA_ONLY = { payloads: '8', rtpmaps: ['a=rtpmap:8 PCMA/8000'] };
const PCMA_DTMF = { payloads: '8 101', rtpmaps: ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15'] };

function sine(freq: number, rate: number, n: number, start: number): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * freq * (start + i)) / rate));
  return out;
}

/** Zero-crossing estimate of the dominant frequency. */
function frequency(pcm: Int16Array, rate: number): number {
  let crossings = 0;
  for (let i = 1; i < pcm.length; i++) if ((pcm[i - 1]! < 0) !== (pcm[i]! < 0)) crossings++;
  return (crossings / 2) * (rate / pcm.length);
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('media engine transcoding (media/codecs)', () => {
  let engine: EmbeddedMediaEngine;
  const { peers, codec } = transcodeFixture((e) => (engine = e));

  it('MUST offer the allowed codecs it can transcode to, and answer the offerer with its own codec', async () => {
    const a = await Peer.open({ kind: 'srtp', ...OPUS });
    const b = await Peer.open({ kind: 'rtp', ...PCMA_DTMF });
    peers.push(a, b);
    const offer = await engine.offer('x1', 'tag-a', a.sdp(), { transport: 'RTP/AVP', codecs: { allow: ['PCMA', 'PCMU'], transcode: true } });
    assert.match(offer, /m=audio \d+ RTP\/AVP 8 0 101\r\n/);
    assert.match(offer, /a=rtpmap:8 PCMA\/8000/);
    assert.match(offer, /a=rtpmap:101 telephone-event\/8000/, 'RFC 4733 on the other leg\'s clock');
    assert.doesNotMatch(offer, /opus|telephone-event\/48000|CN/);
    b.learn(offer);
    const answer = await engine.answer('x1', 'tag-a', 'tag-b', b.sdp());
    assert.match(answer, /m=audio \d+ RTP\/SAVP 111 110\r\n/);
    assert.match(answer, /a=rtpmap:111 opus\/48000\/2/);
    assert.match(answer, /a=fmtp:111 useinbandfec=1/);
    assert.match(answer, /a=rtpmap:110 telephone-event\/48000/);
    assert.match(answer, /a=fmtp:110 0-15/, 'the events the answerer takes, under the offerer\'s number');
    assert.doesNotMatch(answer, /PCMA|telephone-event\/8000/);
  });

  it('MUST offer telephone-event only when the offerer did, and CN only next to 8000 Hz audio (RFC 3389)', async () => {
    const plain = await Peer.open({ kind: 'rtp', payloads: '8', rtpmaps: ['a=rtpmap:8 PCMA/8000'] });
    const withCn = await Peer.open({ kind: 'rtp', payloads: '8 101 13', rtpmaps: ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=rtpmap:13 CN/8000'] });
    peers.push(plain, withCn);
    const none = await engine.offer('x4', 'tag-a', plain.sdp(), { transport: 'RTP/AVP', codecs: { allow: ['opus'], transcode: true } });
    assert.match(none, /m=audio \d+ RTP\/AVP 96\r\n/);
    assert.doesNotMatch(none, /telephone-event|CN/);
    const opus = await engine.offer('x5', 'tag-a', withCn.sdp(), { transport: 'RTP/AVP', codecs: { allow: ['opus'], transcode: true } });
    assert.match(opus, /m=audio \d+ RTP\/AVP 96 97\r\n/);
    assert.match(opus, /a=rtpmap:97 telephone-event\/48000/);
    assert.doesNotMatch(opus, /CN/, 'no CN/8000 next to Opus');
    const g711 = await engine.offer('x6', 'tag-a', withCn.sdp(), { transport: 'RTP/AVP', codecs: { allow: ['PCMU'], transcode: true } });
    assert.match(g711, /m=audio \d+ RTP\/AVP 0 101 13\r\n/);
    assert.match(g711, /a=rtpmap:13 CN\/8000/);
  });

  it('MUST NOT transcode when an allowed codec is offered', async () => {
    const a = await Peer.open({ kind: 'rtp', payloads: '111 8', rtpmaps: ['a=rtpmap:111 opus/48000/2', 'a=rtpmap:8 PCMA/8000'] });
    peers.push(a);
    const offer = await engine.offer('x2', 'tag-a', a.sdp(), { transport: 'RTP/AVP', codecs: { allow: ['PCMA'], transcode: true } });
    assert.match(offer, /m=audio \d+ RTP\/AVP 8\r\n/);
  });

  it('MUST carry a 1 kHz tone Opus → PCMA and a 440 Hz tone PCMA → Opus', async function () {
    this.timeout(10_000);
    const a = await Peer.open({ kind: 'srtp', ...OPUS });
    const b = await Peer.open({ kind: 'rtp', ...PCMA_ONLY });
    peers.push(a, b);
    b.learn(await engine.offer('x3', 'tag-a', a.sdp(), { transport: 'RTP/AVP', codecs: { allow: ['PCMA'], transcode: true } }));
    a.learn(await engine.answer('x3', 'tag-a', 'tag-b', b.sdp()));
    const opusTx = codec('opus', { sampleRate: 48000 });
    const pcmaTx = codec('PCMA');
    const frames = 25; // 500 ms
    for (let f = 0; f < frames; f++) {
      a.sendRtp(rtpPacket({ seq: f, ts: f * 960, pt: 111, payload: Buffer.from(opusTx.encode(sine(1000, 48000, 960, f * 960))) }));
      b.sendRtp(rtpPacket({ seq: f, ts: f * 160, pt: 8, ssrc: 0x88, payload: Buffer.from(pcmaTx.encode(sine(440, 8000, 160, f * 160))) }));
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor(() => b.rtp.length >= frames - 1 && a.rtp.length >= frames - 1, 5000, 'transcoded frames both ways');
    assert.equal(a.refused, 0, 'the Opus leg got valid SRTP');
    assert.ok(b.rtp.every((p) => (p[1]! & 0x7f) === 8 && p.length === 12 + 160), 'PCMA, 20 ms each');
    assert.ok(a.rtp.every((p) => (p[1]! & 0x7f) === 111), 'Opus payload type');
    const pcmaRx = codec('PCMA');
    const opusRx = codec('opus', { sampleRate: 48000 });
    const atB = concat(b.rtp.slice(5).map((p) => pcmaRx.decode(p.subarray(12))));
    const atA = concat(a.rtp.map((p) => opusRx.decode(p.subarray(12))).slice(5));
    assert.ok(Math.abs(frequency(atB, 8000) - 1000) < 30, `B heard ${frequency(atB, 8000).toFixed(0)} Hz`);
    assert.ok(Math.abs(frequency(atA, 48000) - 440) < 20, `A heard ${frequency(atA, 48000).toFixed(0)} Hz`);
  });
  describe('RFC 4733 telephone-event through the transcoder', () => {
    /** One event report: event code, E bit, volume 10, duration (RFC 4733 §2.3). */
    const ev = (code: number, end: boolean, duration: number): Buffer => Buffer.from([code, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]);
    const pt = (p: Buffer): number => p[1]! & 0x7f;
    const fields = (p: Buffer): [number, boolean, boolean, number] => [p[12]!, (p[13]! & 0x80) !== 0, (p[1]! & 0x80) !== 0, p.readUInt16BE(14)];

    /** 10 audio frames, a key press of 5 packets (the last three the end, §2.5.1.4) with no audio under it, 5 frames. */
    async function press(send: (p: Buffer) => void, audioPt: number, eventPt: number, ticks: number, frame: (i: number) => Buffer, ssrc: number): Promise<void> {
      let seq = 0;
      for (let i = 0; i < 10; i++) send(rtpPacket({ seq: seq++, ts: i * ticks, pt: audioPt, ssrc, payload: frame(i) }));
      const durations = [1, 2, 3, 3, 3];
      durations.forEach((d, i) => send(rtpPacket({ seq: seq++, ts: 10 * ticks, pt: eventPt, ssrc, marker: i === 0, payload: ev(5, i >= 2, d * ticks) })));
      for (let i = 0; i < 5; i++) send(rtpPacket({ seq: seq++, ts: (13 + i) * ticks, pt: audioPt, ssrc, payload: frame(13 + i) }));
      await new Promise((r) => setTimeout(r, 1));
    }

    function check(rx: Buffer[], audioPt: number, eventPt: number, ticks: number, what: string): void {
      const audio = rx.filter((p) => pt(p) === audioPt);
      const events = rx.filter((p) => pt(p) === eventPt);
      assert.equal(audio.length, 15, `${what}: every frame, and no loss concealed for the events' sequence numbers`);
      assert.equal(events.length, 5, `${what}: every event packet, the three end packets included`);
      assert.ok(rx.every((p) => p.readUInt32BE(8) === audio[0]!.readUInt32BE(8)), `${what}: one output stream`);
      for (let i = 1; i < rx.length; i++) assert.equal((rx[i]!.readUInt16BE(2) - rx[i - 1]!.readUInt16BE(2)) & 0xffff, 1, `${what}: sequence`);
      assert.deepEqual(events.map(fields), [
        [5, false, true, ticks],
        [5, false, false, 2 * ticks],
        [5, true, false, 3 * ticks],
        [5, true, false, 3 * ticks],
        [5, true, false, 3 * ticks],
      ]);
      const start = (audio[0]!.readUInt32BE(4) + 10 * ticks) >>> 0;
      assert.ok(events.every((p) => p.readUInt32BE(4) === start), `${what}: the event starts where the 11th frame would`);
      assert.equal(audio[10]!.readUInt32BE(4), (audio[0]!.readUInt32BE(4) + 13 * ticks) >>> 0, `${what}: audio after the event on the same clock`);
    }

    it('MUST carry a key press Opus (telephone-event/48000) → PCMU (/8000) and back, rescaled, end packets intact', async function () {
      this.timeout(10_000);
      const a = await Peer.open({ kind: 'srtp', ...OPUS });
      const b = await Peer.open({ kind: 'rtp' }); // PCMU 0, telephone-event/8000 101
      peers.push(a, b);
      b.learn(await engine.offer('x7', 'tag-a', a.sdp(), { transport: 'RTP/AVP', codecs: { allow: ['PCMU'], transcode: true } }));
      a.learn(await engine.answer('x7', 'tag-a', 'tag-b', b.sdp()));
      const opusTx = codec('opus', { sampleRate: 48000 });
      const pcmuTx = codec('PCMU');
      await press((p) => a.sendRtp(p), 111, 110, 960, (i) => Buffer.from(opusTx.encode(sine(1000, 48000, 960, i * 960))), 0x0a);
      await press((p) => b.sendRtp(p), 0, 101, 160, (i) => Buffer.from(pcmuTx.encode(sine(440, 8000, 160, i * 160))), 0x0b);
      await waitFor(() => b.rtp.length >= 20 && a.rtp.length >= 20, 5000, 'both key presses');
      check(b.rtp, 0, 101, 160, 'Opus → PCMU');
      check(a.rtp, 111, 110, 960, 'PCMU → Opus');
      const s = await engine.query('x7');
      assert.equal(s.legs[0]!.streams[0]!.dropped['payload-type'] + s.legs[1]!.streams[0]!.dropped['payload-type'], 0);
    });
  });
});
