/**
 * What the relay does to a stream between the legs: SSRC/sequence/timestamp continuity across a
 * source change (RFC 3550 §8.2, §7.2), RTCP following that rewrite, RFC 4733 telephone-event
 * payload types mapped between legs, RFC 3389 CN passed through, and the inactivity timeout.
 */
import assert from 'node:assert/strict';
import type { EmbeddedMediaEngine, TimeoutEvent } from '../../../media/engine';
import { bridge, rtcpCompound, rtpPacket, sleep, startEngine, peerFixture } from './helpers';

describe('media engine streams', () => {
  let engine: EmbeddedMediaEngine;
  const open = peerFixture(() => engine);
  let clock = 5_000_000;

  beforeEach(() => {
    engine = startEngine({ inactivitySec: 2 }, { now: () => clock });
  });

  describe('SSRC, sequence and timestamp continuity (RFC 3550 §8.2)', () => {
    it('MUST present one continuous stream when the sending source changes, even across a sequence wrap', async () => {
      const a = await open({ kind: 'rtp' });
      const b = await open({ kind: 'srtp' }); // SRTP out: a repeated index would be refused by B
      await bridge(engine, 's1', a, b, 'RTP/SAVP');
      // One packet at a time: the relay reads the (fake) clock when the packet arrives.
      for (let i = 0; i < 5; i++) {
        a.sendRtp(rtpPacket({ seq: 65533 + i, ts: 1000 + 160 * i, ssrc: 0x1111 }));
        await b.waitRtp(i + 1);
        clock += 20;
      }
      clock += 40; // the new source starts 60 ms after the last packet: 480 ticks at 8 kHz
      for (let i = 0; i < 5; i++) {
        a.sendRtp(rtpPacket({ seq: 7000 + i, ts: 0xfffff000 + 160 * i, ssrc: 0x2222 }));
        await b.waitRtp(6 + i);
        clock += 20;
      }
      const got = b.rtp;
      assert.equal(b.refused, 0);
      assert.deepEqual(got.map((p) => p.readUInt32BE(8)), new Array(10).fill(0x1111), 'one SSRC');
      assert.deepEqual(got.map((p) => p.readUInt16BE(2)), [65533, 65534, 65535, 0, 1, 2, 3, 4, 5, 6], 'sequence goes on');
      const ts = got.map((p) => p.readUInt32BE(4));
      assert.equal(ts[5], (ts[4]! + 480) >>> 0, 'timestamp advances by the elapsed time');
      assert.equal(ts[9], (ts[5]! + 640) >>> 0);
      assert.equal(got[5]![1]! & 0x80, 0x80, 'marker bit on the first packet of the new source');
      assert.equal(got[4]![1]! & 0x80, 0);
    });

    it('MUST drop a late packet of the replaced source, and translate RTCP SSRCs to match', async () => {
      const a = await open({ kind: 'rtp' });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 's2', a, b, 'RTP/AVP');
      a.sendRtp(rtpPacket({ seq: 10, ssrc: 0xaaaa }));
      await b.waitRtp(1);
      a.sendRtp(rtpPacket({ seq: 500, ssrc: 0xbbbb, ts: 90000 }));
      await b.waitRtp(2);
      a.sendRtp(rtpPacket({ seq: 11, ssrc: 0xaaaa }));
      a.sendRtcp(rtcpCompound(0xbbbb, 90000));
      await b.waitRtcp(1);
      await sleep(30);
      assert.equal(b.rtp.length, 2);
      const s = await engine.query('s2');
      assert.equal(s.legs[0]!.streams[0]!.dropped['stale-source'], 1);
      const sr = b.rtcp[0]!;
      assert.equal(sr.readUInt32BE(4), 0xaaaa, 'SR sender SSRC rewritten like the RTP');
      assert.equal(sr.readUInt32BE(28 + 4), 0xaaaa, 'SDES chunk SSRC too');
      assert.equal(sr.readUInt32BE(16), b.rtp[1]!.readUInt32BE(4), 'SR RTP timestamp on the outgoing timeline');
    });
  });

  describe('RFC 4733 telephone-event and RFC 3389 CN', () => {
    it('MUST map telephone-event between different payload type numbers on each leg', async () => {
      const a = await open({ kind: 'srtp', payloads: '0 13 101', rtpmaps: ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:13 CN/8000', 'a=rtpmap:101 telephone-event/8000'] });
      const b = await open({ kind: 'rtp', payloads: '0 13 96', rtpmaps: ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:13 CN/8000', 'a=rtpmap:96 telephone-event/8000'] });
      const { answer } = await bridge(engine, 'd1', a, b, 'RTP/AVP');
      assert.match(answer, /m=audio \d+ RTP\/SAVP 0 13 101\r\n/, 'the offerer gets its own numbering back');
      assert.match(answer, /a=rtpmap:101 telephone-event\/8000/);
      const event = Buffer.from([5, 0x0a, 0x00, 0xa0]); // RFC 4733 §2.3: event 5, volume 10, duration 160
      a.sendRtp(rtpPacket({ seq: 1, pt: 101, marker: true, payload: event }));
      a.sendRtp(rtpPacket({ seq: 2, pt: 13, payload: Buffer.from([0x40]) }));
      const atB = await b.waitRtp(2);
      assert.equal(atB[0]![1], 0x80 | 96, 'PT 101 → 96, marker kept');
      assert.deepEqual(atB[0]!.subarray(12), event);
      assert.equal(atB[1]![1], 13, 'CN passed through');
      b.sendRtp(rtpPacket({ seq: 9, pt: 96, ssrc: 0x77, payload: event }));
      const atA = await a.waitRtp(1);
      assert.equal(atA[0]![1]! & 0x7f, 101, 'PT 96 → 101');
    });
  });

  describe('media inactivity (media.inactivitySec)', () => {
    it('MUST raise one timeout event per silent period, and again after media resumed and stopped', async () => {
      const a = await open({ kind: 'rtp' });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 't1', a, b, 'RTP/AVP');
      const events: TimeoutEvent[] = [];
      engine.on('timeout', (e) => events.push(e));
      clock += 1999;
      engine.sweep();
      assert.equal(events.length, 0);
      clock += 1;
      engine.sweep();
      engine.sweep();
      assert.deepEqual(events, [{ callId: 't1', idleSec: 2 }]);
      a.sendRtp(rtpPacket({ seq: 1 }));
      await b.waitRtp(1);
      engine.sweep();
      clock += 2500;
      engine.sweep();
      assert.equal(events.length, 2);
    });

    it('MUST survive a listener that throws', async () => {
      const a = await open({ kind: 'rtp' });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 't3', a, b, 'RTP/AVP');
      let called = 0;
      engine.on('timeout', () => {
        called++;
        throw new Error('a B2BUA bug');
      });
      clock += 3000;
      assert.doesNotThrow(() => engine.sweep());
      assert.equal(called, 1);
      a.sendRtp(rtpPacket({ seq: 1 }));
      await b.waitRtp(1);
    });

    it('MUST NOT time out a call whose streams are all inactive (held both ways)', async () => {
      const a = await open({ kind: 'rtp' });
      const b = await open({ kind: 'rtp' });
      const events: TimeoutEvent[] = [];
      engine.on('timeout', (e) => events.push(e));
      const offer = await engine.offer('t2', 'tag-a', a.sdp().replace('a=sendrecv', 'a=inactive'), { transport: 'RTP/AVP' });
      await engine.answer('t2', 'tag-a', 'tag-b', offer.replace(/m=audio \d+/, `m=audio ${b.rtpPort}`));
      clock += 10_000;
      engine.sweep();
      assert.equal(events.length, 0);
    });
  });
});
