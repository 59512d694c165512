/**
 * Transcoding when the legs share no allowed codec (issue "media plane" §6), through the engine
 * with media/codecs: the SDP each leg sees, and a tone carried Opus → PCMU and PCMU → Opus.
 */
import assert from 'node:assert/strict';
import { createCodec, type AudioCodec } from '../../../media/codecs';
import type { EmbeddedMediaEngine } from '../../../media/engine';
import { Peer, rtpPacket, startEngine, waitFor } from './helpers';

const OPUS = { payloads: '111 110', rtpmaps: ['a=rtpmap:111 opus/48000/2', 'a=fmtp:111 useinbandfec=1', 'a=rtpmap:110 telephone-event/48000'] };
const PCMA_ONLY = { payloads: '8', rtpmaps: ['a=rtpmap:8 PCMA/8000'] };

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
  const peers: Peer[] = [];
  const codecs: AudioCodec[] = [];
  const codec = (name: string, sampleRate?: 48000): AudioCodec => {
    const c = createCodec(name, sampleRate ? { sampleRate } : {});
    codecs.push(c);
    return c;
  };

  beforeEach(() => {
    engine = startEngine();
  });
  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    for (const c of codecs.splice(0)) c.close();
    await engine.close();
  });

  it('MUST offer the allowed codecs it can transcode to, and answer the offerer with its own codec', async () => {
    const a = await Peer.open({ kind: 'srtp', ...OPUS });
    const b = await Peer.open({ kind: 'rtp', ...PCMA_ONLY });
    peers.push(a, b);
    const offer = await engine.offer('x1', 'tag-a', a.sdp(), { transport: 'RTP/AVP', codecs: { allow: ['PCMA', 'PCMU'], transcode: true } });
    assert.match(offer, /m=audio \d+ RTP\/AVP 8 0\r\n/);
    assert.match(offer, /a=rtpmap:8 PCMA\/8000/);
    assert.doesNotMatch(offer, /opus|telephone-event/);
    b.learn(offer);
    const answer = await engine.answer('x1', 'tag-a', 'tag-b', b.sdp());
    assert.match(answer, /m=audio \d+ RTP\/SAVP 111\r\n/);
    assert.match(answer, /a=rtpmap:111 opus\/48000\/2/);
    assert.match(answer, /a=fmtp:111 useinbandfec=1/);
    assert.doesNotMatch(answer, /PCMA|telephone-event/);
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
    const opusTx = codec('opus', 48000);
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
    const opusRx = codec('opus', 48000);
    const atB = concat(b.rtp.slice(5).map((p) => pcmaRx.decode(p.subarray(12))));
    const atA = concat(a.rtp.map((p) => opusRx.decode(p.subarray(12))).slice(5));
    assert.ok(Math.abs(frequency(atB, 8000) - 1000) < 30, `B heard ${frequency(atB, 8000).toFixed(0)} Hz`);
    assert.ok(Math.abs(frequency(atA, 48000) - 440) < 20, `A heard ${frequency(atA, 48000).toFixed(0)} Hz`);
  });
});
