/** Our own RTCP on a transcoded stream: reception statistics (RFC 3550 §A.3, §A.8) and SR/RR + SDES (§6.4, §6.5). */
import assert from 'node:assert/strict';
import { isValidRtcp } from '../../../media/relay';
import { senderReportOf } from '../../../media/relay/rtcp';
import { RTCP_REPORT_INTERVAL_MS, ReceptionStatistics, RtcpReporter } from '../../../media/relay/rtcp-report';
import { payloadOctets, rtpHeaderLength } from '../../../media/relay/rtp';
import { LegCounters } from '../../../media/relay/stats';

function rtp(seq: number, ts: number, ssrc: number, payload = 160): Buffer {
  const p = Buffer.alloc(12 + payload);
  p[0] = 0x80;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(ts >>> 0, 4);
  p.writeUInt32BE(ssrc, 8);
  return p;
}

function block(stats: ReceptionStatistics, now: number): { ssrc: number; fraction: number; lost: number; highest: number; jitter: number; lsr: number; dlsr: number } {
  const b = Buffer.alloc(24);
  stats.writeBlock(b, 0, now);
  const word = b.readUInt32BE(4);
  return { ssrc: b.readUInt32BE(0), fraction: word >>> 24, lost: (word << 8) >> 8, highest: b.readUInt32BE(8), jitter: b.readUInt32BE(12), lsr: b.readUInt32BE(16), dlsr: b.readUInt32BE(20) };
}

describe('RTCP reports of a transcoded stream', () => {
  describe('RFC 3550 §A.3: loss', () => {
    it('MUST report cumulative and interval loss across a sequence wrap', () => {
      const s = new ReceptionStatistics();
      for (const seq of [65533, 65534, 1, 2]) s.packet(7, seq, 0, 0, 0); // 65535 and 0 lost
      const first = block(s, 0);
      assert.equal(first.ssrc, 7);
      assert.equal(first.lost, 2);
      assert.equal(first.highest, 0x10000 + 2);
      assert.equal(first.fraction, Math.floor((2 * 256) / 6));
      for (let seq = 3; seq <= 10; seq++) s.packet(7, seq, 0, 0, 0);
      assert.equal(block(s, 0).fraction, 0, 'nothing lost in the second interval');
    });

    it('MUST believe a large jump only on the second packet in sequence (§A.1)', () => {
      const s = new ReceptionStatistics();
      s.packet(7, 100, 0, 0, 0);
      s.packet(7, 20000, 0, 0, 0);
      assert.equal(block(s, 0).highest, 100, 'a stray packet is not a restart');
      s.packet(7, 20001, 0, 0, 0);
      assert.equal(block(s, 0).highest, 20001);
    });
  });

  describe('a leg\'s own tracker (one sequence update per packet)', () => {
    it('MUST report from the tracker it shares with the leg\'s counters, the first interval from when it started', () => {
      const counters = new LegCounters();
      for (let seq = 0; seq < 10; seq += 2) counters.track(7, seq); // 1, 3, 5, 7 lost before reports began
      const s = new ReceptionStatistics(counters.sequence);
      for (const seq of [10, 12, 13]) s.counted(counters.track(7, seq), 0, 0, 0); // 9 and 11 lost
      const b = block(s, 0);
      assert.equal(b.ssrc, 7);
      assert.equal(b.lost, 6, 'cumulative, as the leg counted it');
      assert.equal(b.highest, 13);
      assert.equal(b.fraction, Math.floor((2 * 256) / 5), 'the interval: 9..13 expected, 9 and 11 lost');
      assert.equal(counters.lost, 6);
    });
  });

  describe('RFC 3550 §A.8: interarrival jitter', () => {
    it('MUST be 0 for packets on time, and grow when they are not', () => {
      const s = new ReceptionStatistics();
      for (let i = 0; i < 10; i++) s.packet(7, i, i * 160, 1000 + i * 20, 8000);
      assert.equal(block(s, 0).jitter, 0);
      s.packet(7, 10, 1600, 1000 + 200 + 30, 8000); // 30 ms late = 240 ticks
      assert.equal(block(s, 0).jitter, Math.floor(240 / 16));
    });

    it('MUST leave jitter alone for packets whose timestamp is not the audio clock (events)', () => {
      const s = new ReceptionStatistics();
      s.packet(7, 0, 0, 0, 8000);
      s.packet(7, 1, 0, 500, 0);
      assert.equal(block(s, 0).jitter, 0);
    });
  });

  describe('RFC 3550 §6.4.1: SR, RR and LSR/DLSR', () => {
    it('MUST count payload octets without the header, CSRCs or padding (§5.1, §6.4.1)', () => {
      const plain = Buffer.alloc(12 + 160);
      plain[0] = 0x80;
      assert.equal(payloadOctets(plain, rtpHeaderLength(plain)), 160);
      // P bit, one CSRC, 160 payload octets then 4 of padding (the last one counts them).
      const padded = Buffer.alloc(12 + 4 + 160 + 4);
      padded[0] = 0x80 | 0x20 | 1;
      padded[padded.length - 1] = 4;
      assert.equal(rtpHeaderLength(padded), 16);
      assert.equal(payloadOctets(padded, rtpHeaderLength(padded)), 160);
    });

    it('MUST send nothing before any packet went either way', () => {
      const r = new RtcpReporter(0);
      assert.equal(r.report(10_000, 8000, 0x1234), undefined);
    });

    it('MUST send an SR for what it sent, with one block about what it heard, then SDES CNAME', () => {
      const r = new RtcpReporter(0);
      r.sent(rtp(1, 1000, 0xabc), 160, 100);
      r.sent(rtp(2, 1160, 0xabc), 160, 120);
      r.reception.packet(0x77, 50, 0, 100, 8000);
      const sr = Buffer.alloc(28);
      sr.writeUInt32BE(0x77, 4);
      sr.writeUInt32BE(0x0001_2345, 8);
      sr.writeUInt32BE(0x6789_0000, 12);
      const info = senderReportOf(Buffer.concat([Buffer.from([0x80, 200, 0, 6]), sr.subarray(4)]));
      assert.deepEqual(info, { ssrc: 0x77, lsr: 0x2345_6789 });
      r.reception.senderReport(info!.ssrc, info!.lsr, 1000);
      const p = r.report(2000, 8000, undefined)!;
      assert.ok(isValidRtcp(p), 'a valid compound packet');
      assert.equal(p[1], 200);
      assert.equal(p[0]! & 0x1f, 1);
      assert.equal(p.readUInt32BE(4), 0xabc);
      assert.equal(p.readUInt32BE(8), 2 + 2_208_988_800, 'NTP seconds');
      assert.equal(p.readUInt32BE(12), 0, 'NTP fraction');
      assert.equal(p.readUInt32BE(16), 1160 + (2000 - 120) * 8, 'RTP timestamp of the same instant');
      assert.equal(p.readUInt32BE(20), 2, 'packets');
      assert.equal(p.readUInt32BE(24), 320, 'payload octets');
      assert.equal(p.readUInt32BE(28), 0x77, 'block about the leg');
      assert.equal(p.readUInt32BE(28 + 16), 0x2345_6789, 'LSR');
      assert.equal(p.readUInt32BE(28 + 20), 65536, 'DLSR: 1 s');
      assert.equal(p[52 + 1], 202);
      assert.equal(p.readUInt32BE(52 + 4), 0xabc, 'SDES chunk of the same SSRC');
      assert.equal(p[52 + 8], 1, 'CNAME');
      assert.equal(p[52 + 9], 16);
      assert.ok(r.nextAt >= 2000 + RTCP_REPORT_INTERVAL_MS / 2 && r.nextAt <= 2000 + (RTCP_REPORT_INTERVAL_MS * 3) / 2);
    });

    it('MUST fall back to an RR (our SSRC, no sender info) when it sent nothing lately', () => {
      const r = new RtcpReporter(0);
      r.reception.packet(0x77, 1, 0, 10, 8000);
      const p = r.report(5000, 8000, 0x1234)!;
      assert.ok(isValidRtcp(p));
      assert.equal(p[1], 201);
      assert.equal(p.readUInt32BE(4), 0x1234);
      assert.equal(p.readUInt32BE(8), 0x77);
      const quiet = r.report(10_000, 8000, 0x1234)!;
      assert.equal(quiet[0]! & 0x1f, 0, 'no block about a source not heard since the last report');
    });
  });
});
