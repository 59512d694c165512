/**
 * A transcoded stream beyond the audio (issue "media plane" §4, §6): RFC 3389 comfort noise, RTCP
 * terminated per leg with reports of our own (RFC 3550 §6.4, §7; RFC 7667 §3.2.2), and loss,
 * reordering and junk on the transcoded leg.
 */
import assert from 'node:assert/strict';
import { createCodec, type AudioCodec } from '../../../media/codecs';
import type { EmbeddedMediaEngine } from '../../../media/engine';
import { Peer, rtcpCompound, rtpPacket, sleep, startEngine, waitFor, peerFixture } from './helpers';

const OPUS = { payloads: '111', rtpmaps: ['a=rtpmap:111 opus/48000/2'] };
const PCMU_CN = { payloads: '0 13', rtpmaps: ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:13 CN/8000'] };
const PCMA_CN = { payloads: '8 13', rtpmaps: ['a=rtpmap:8 PCMA/8000', 'a=rtpmap:13 CN/8000'] };
const pt = (p: Buffer): number => p[1]! & 0x7f;

/** RR without report blocks + SDES CNAME (RFC 3550 §6.4.2, §6.5). */
function rr(ssrc: number): Buffer {
  const r = Buffer.alloc(8);
  r[0] = 0x80;
  r[1] = 201;
  r.writeUInt16BE(1, 2);
  r.writeUInt32BE(ssrc, 4);
  return Buffer.concat([r, rtcpCompound(ssrc).subarray(28)]);
}

describe('transcoded streams: CN, RTCP, loss', () => {
  let engine: EmbeddedMediaEngine;
  const open = peerFixture(() => engine);
  let clock = 1_700_000_000_000;
  const codecs: AudioCodec[] = [];
  const codec = (name: string): AudioCodec => {
    const c = createCodec(name, name === 'opus' ? { sampleRate: 48000 } : {});
    codecs.push(c);
    return c;
  };
  async function call(id: string, a: Peer, b: Peer, allow: string): Promise<void> {
    b.learn(await engine.offer(id, 'tag-a', a.sdp(), { transport: 'RTP/AVP', codecs: { allow: [allow], transcode: true } }));
    a.learn(await engine.answer(id, 'tag-a', 'tag-b', b.sdp()));
  }

  beforeEach(() => {
    engine = startEngine({}, { now: () => clock });
  });
  afterEach(async () => {
    for (const c of codecs.splice(0)) c.close();
  });

  describe('RFC 3389 comfort noise', () => {
    it('MUST pass CN PCMU ↔ PCMA in the transcoded stream, its timestamp on the output clock', async () => {
      const a = await open({ kind: 'rtp', ...PCMU_CN });
      const b = await open({ kind: 'rtp', ...PCMA_CN });
      await call('c1', a, b, 'PCMA');
      const pcmu = codec('PCMU');
      for (let i = 0; i < 5; i++) a.sendRtp(rtpPacket({ seq: i, ts: 1000 + i * 160, pt: 0, payload: pcmu.encode(new Int16Array(160)) }));
      a.sendRtp(rtpPacket({ seq: 5, ts: 1800, pt: 13, payload: Buffer.from([0x3c, 0x11, 0x22]) }));
      a.sendRtp(rtpPacket({ seq: 6, ts: 1800 + 8000, pt: 0, marker: true, payload: pcmu.encode(new Int16Array(160)) }));
      await b.waitRtp(7);
      const cn = b.rtp[5]!;
      assert.equal(pt(cn), 13);
      assert.deepEqual(cn.subarray(12), Buffer.from([0x3c, 0x11, 0x22]), 'noise level and spectrum as sent');
      assert.equal(cn.readUInt32BE(8), b.rtp[0]!.readUInt32BE(8), 'in the transcoder\'s stream');
      assert.equal(cn.readUInt32BE(4), (b.rtp[0]!.readUInt32BE(4) + 800) >>> 0);
      assert.equal(b.rtp[6]!.readUInt32BE(4), (b.rtp[0]!.readUInt32BE(4) + 8800) >>> 0, 'the talkspurt after the silence');
    });

    it('MUST drop (and count) CN it cannot carry: not negotiated next to Opus', async () => {
      const a = await open({ kind: 'rtp', ...PCMU_CN });
      const b = await open({ kind: 'rtp', ...OPUS });
      await call('c2', a, b, 'opus');
      const pcmu = codec('PCMU');
      a.sendRtp(rtpPacket({ seq: 0, ts: 0, pt: 0, payload: pcmu.encode(new Int16Array(160)) }));
      a.sendRtp(rtpPacket({ seq: 1, ts: 160, pt: 13, payload: Buffer.from([0x40]) }));
      a.sendRtp(rtpPacket({ seq: 2, ts: 320, pt: 0, payload: pcmu.encode(new Int16Array(160)) }));
      await b.waitRtp(3);
      await sleep(30);
      assert.ok(b.rtp.every((p) => pt(p) === 111), 'Opus only on the Opus leg');
      // The dropped packet's slot is concealed like a lost one (G.711: silence): the cadence holds.
      assert.deepEqual(b.rtp.map((p) => (p.readUInt32BE(4) - b.rtp[0]!.readUInt32BE(4)) >>> 0), [0, 960, 1920]);
      const s = await engine.query('c2');
      assert.equal(s.legs[0]!.streams[0]!.dropped['payload-type'], 1);
    });
  });

  describe('RTCP (RFC 3550 §6.4, §7; RFC 7667 §3.2.2): terminated per leg, our own reports', () => {
    it('MUST NOT forward a leg\'s RTCP, and MUST report to each leg on the SSRCs it knows', async () => {
      const a = await open({ kind: 'srtp', ...OPUS });
      const b = await open({ kind: 'rtp', payloads: '0', rtpmaps: ['a=rtpmap:0 PCMU/8000'] });
      await call('r1', a, b, 'PCMU');
      const opus = codec('opus');
      const pcmu = codec('PCMU');
      for (let i = 0; i < 5; i++) {
        a.sendRtp(rtpPacket({ seq: 100 + i, ts: i * 960, ssrc: 0xa1, pt: 111, payload: Buffer.from(opus.encode(new Int16Array(960))) }));
        b.sendRtp(rtpPacket({ seq: 200 + i, ts: i * 160, ssrc: 0xb1, pt: 0, payload: pcmu.encode(new Int16Array(160)) }));
      }
      await waitFor(() => a.rtp.length >= 5 && b.rtp.length >= 5, 3000, 'transcoded frames');
      const srA = rtcpCompound(0xa1, 4800);
      srA.writeUInt32BE(0x8000_1234, 8);
      srA.writeUInt32BE(0x5678_0000, 12);
      a.sendRtcp(srA);
      a.sendRtcp(Buffer.from([0x80, 201, 0, 9, 0, 0, 0, 0xa1])); // length field past the end: malformed
      await sleep(50);
      let s = await engine.query('r1');
      assert.equal(s.legs[0]!.streams[0]!.rx.rtcpPackets, 1, 'received');
      assert.equal(s.legs[0]!.streams[0]!.dropped.malformed, 1, 'malformed RTCP dropped, nothing else happens');
      assert.equal(b.rtcp.length, 0, 'the Opus leg\'s SR is not forwarded');

      clock += 8000; // past the first report interval (≤ 3.75 s)
      b.sendRtcp(rr(0xb1));
      await waitFor(() => a.rtcp.length >= 1 && b.rtcp.length >= 1, 3000, 'our reports');
      await sleep(30);
      assert.equal(a.rtcp.length + b.rtcp.length, 2, 'one report each, not the RR forwarded');
      assert.equal(a.refused, 0, 'SRTCP to the SRTP leg');

      const toB = b.rtcp[0]!;
      const outB = b.rtp[0]!.readUInt32BE(8);
      assert.equal(toB[1], 200, 'an SR: we sent B media');
      assert.equal(toB.readUInt32BE(4), outB, 'sender: the SSRC of the transcoded stream B receives');
      assert.equal(toB.readUInt32BE(8), Math.floor(clock / 1000) + 2_208_988_800, 'NTP now');
      assert.equal(toB.readUInt32BE(16), (b.rtp.at(-1)!.readUInt32BE(4) + 8000 * 8) >>> 0, 'RTP timestamp of now, on the 8 kHz clock');
      assert.equal(toB.readUInt32BE(20), b.rtp.length, 'packets sent to B');
      assert.equal(toB.readUInt32BE(24), b.rtp.reduce((n, p) => n + p.length - 12, 0), 'payload octets sent to B');
      assert.equal(toB.readUInt32BE(28), 0xb1, 'a block about B\'s own stream');
      assert.equal(toB.readUInt32BE(28 + 8), 204, 'extended highest sequence number');
      assert.equal(toB.readUInt32BE(28 + 4) & 0xffffff, 0, 'nothing lost');
      assert.equal(toB.readUInt32BE(52 + 4), outB, 'SDES CNAME of the same SSRC');

      const toA = a.rtcp[0]!;
      assert.equal(toA.readUInt32BE(4), a.rtp[0]!.readUInt32BE(8), 'sender: the SSRC A receives');
      assert.equal(toA.readUInt32BE(28), 0xa1);
      assert.equal(toA.readUInt32BE(28 + 16), 0x1234_5678, 'LSR: the middle of A\'s SR NTP timestamp');
      assert.equal(toA.readUInt32BE(28 + 20), 8 * 65536, 'DLSR: 8 s');

      b.sendRtcp(rr(0xb1));
      await sleep(50);
      assert.equal(b.rtcp.length, 1, 'not again before the interval');
      s = await engine.query('r1');
      assert.equal(s.legs[1]!.streams[0]!.tx.rtcpPackets, 1);
    });
  });

  describe('RFC 3550 §A.1: loss, reordering and junk on the transcoded leg', () => {
    it('MUST go on transcoding through loss, reordering, duplicates, a stray jump and bad events', async function () {
      this.timeout(10_000);
      const a = await open({ kind: 'rtp', payloads: '111 110', rtpmaps: ['a=rtpmap:111 opus/48000/2', 'a=rtpmap:110 telephone-event/48000'] });
      const b = await open({ kind: 'rtp' });
      await call('l1', a, b, 'PCMU');
      const opus = codec('opus');
      const frame = (i: number): Buffer => rtpPacket({ seq: i, ts: i * 960, pt: 111, payload: Buffer.from(opus.encode(new Int16Array(960).fill(i * 50))) });
      // 5 lost, 8/9 and 16/17 swapped, 10 twice, a stray far jump, a truncated event, junk Opus.
      const order = [0, 1, 2, 3, 4, 6, 7, 9, 8, 10, 10, 11, 12, 30000, 13, 14, 15, 40000, 17, 16, 18, 19, 20];
      for (const i of order) {
        if (i === 30000) a.sendRtp(rtpPacket({ seq: 30000, ts: 1, pt: 111, payload: Buffer.from([0xff]) }));
        else if (i === 40000) a.sendRtp(rtpPacket({ seq: 40000, ts: 15 * 960, pt: 110, payload: Buffer.from([1, 2, 3]) }));
        else a.sendRtp(frame(i));
        await sleep(1);
      }
      await sleep(50);
      const before = b.rtp.length;
      assert.ok(before >= 15, `${before} frames through the disorder`);
      for (let i = 21; i < 26; i++) {
        a.sendRtp(frame(i));
        await sleep(1);
      }
      await waitFor(() => b.rtp.length >= before + 5, 3000, 'the frames after it: no stall');
      const ts = b.rtp.map((p) => (p.readUInt32BE(4) - b.rtp[0]!.readUInt32BE(4)) >>> 0);
      for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! > ts[i - 1]!, `output clock moves forward (${ts.join(',')})`);
      for (let i = 1; i < b.rtp.length; i++) assert.equal((b.rtp[i]!.readUInt16BE(2) - b.rtp[i - 1]!.readUInt16BE(2)) & 0xffff, 1);
      const s = await engine.query('l1');
      const dropped = s.legs[0]!.streams[0]!.dropped;
      assert.equal(dropped['internal-error'], 0);
      assert.equal(dropped.malformed, 1, 'the truncated event');
    });
  });
});
