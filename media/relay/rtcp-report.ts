/**
 * RTCP of a transcoded stream (issue "media plane" §6): terminated on each leg, with reports of our
 * own. Non-transcoded streams keep forwarding RTCP with their SSRCs translated (rtcp.ts).
 *
 * Why terminate (RFC 7667 §3.2.2, "back-to-back RTP sessions"), rather than translate it
 * (§3.2.1.2, a media translator)? The transcoder is a new source with an SSRC of its own
 * (RFC 3550 §7.1): each leg sees a stream the other leg never sent nor received. A leg's SR
 * describes its stream as sent (RTP timestamp on its codec's clock, its packet and octet counts),
 * its report blocks are about the transcoder's output to it (our SSRC, our sequence numbers, our
 * losses); forwarded, none of it is true of anything on the other side, and rewriting every
 * field (RFC 3550 §7.2: counts, timestamps, loss and jitter of a stream re-timed and re-framed)
 * would be inventing it anyway. So, as RFC 3550 §7.3 asks of a mixer, each leg gets reports from
 * us about what passes between it and us: an SR for the transcoded output it receives (the
 * transcoder's SSRC, NTP and RTP timestamps of one instant on the output clock, the packet and
 * payload octet counts actually sent) with one report block about the stream it sends us
 * (RFC 3550 §6.4.1: loss, extended highest sequence number, interarrival jitter, LSR/DLSR from its
 * own last SR), or an RR when we sent nothing lately, and an SDES CNAME (RFC 3550 §6.1: every
 * compound packet has one; RFC 7022 random). What a leg sends is read (its SR's timestamp, for
 * our DLSR) and stops here: its SDES and BYE name an SSRC the other leg never sees (that leg's
 * source is ours, and lives on across the leg's own SSRC changes), feedback (RFC 4585) and XR
 * are about our output to it, which only we could act on. Nothing is sent at the end: the SIP
 * BYE ends the session.
 *
 * Reports are clocked by the packets the stream receives (RTP or RTCP, from either leg), at
 * RFC 3550 §6.2's minimum interval of 5 s randomised by ×[0.5, 1.5] (§6.3.1), the first after
 * half of it: a stream on which nothing at all arrives has nothing to report on.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { RTCP_RR, RTCP_SDES, RTCP_SR } from './rtcp';
import { ssrc as ssrcOf, timestamp, writeUint32 } from './rtp';
import { SequenceTracker, type SequenceVerdict } from './sequence';

/** RFC 3550 §6.2 Tmin. */
export const RTCP_REPORT_INTERVAL_MS = 5000;
/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
const NTP_UNIX_OFFSET = 2_208_988_800;
/** RFC 3550 §A.1. */
const REPORT_BLOCK = 24;

/** RFC 3550 §A.1, §A.3, §A.8: what one leg's source looked like to us, for a report block. */
export class ReceptionStatistics {
  lastReceivedAt = -Infinity;
  /** SSRC of the source, undefined before its first packet. */
  get ssrc(): number | undefined {
    return this.sequence.ssrc < 0 ? undefined : this.sequence.ssrc;
  }
  private expectedPrior: number;
  private receivedPrior: number;
  /** Interarrival jitter, in ticks of the source's clock (§A.8), and its last arrival/timestamp. */
  private jitter = 0;
  private lastArrival = 0;
  private lastTs = 0;
  private primed = false;
  /** LSR of the source's last SR and when it arrived (§6.4.1). */
  private lsr = 0;
  private lsrAt = 0;

  /**
   * `sequence`: the source's sequence numbers and loss (RFC 3550 §A.1, §A.3). A relay leg passes
   * its own counters' tracker, which it updates once per packet, and calls counted(); on its own the
   * statistics keep one and packet() updates it. Reporting starts from what it already counted.
   */
  constructor(private readonly sequence: SequenceTracker = new SequenceTracker()) {
    this.expectedPrior = sequence.expected;
    this.receivedPrior = sequence.received;
  }

  /** One accepted RTP packet; `clockRate` 0 for packets whose timestamp is not the audio's (events). */
  packet(ssrc: number, seq: number, ts: number, now: number, clockRate: number): void {
    this.counted(this.sequence.update(ssrc, seq), ts, now, clockRate);
  }

  /** The same, for a packet the shared tracker has just taken with `verdict`. */
  counted(verdict: SequenceVerdict, ts: number, now: number, clockRate: number): void {
    this.lastReceivedAt = now;
    // §A.1: a very large jump is believed on the second packet in sequence only.
    if (verdict === 'probation') return;
    if (verdict === 'new-source' || verdict === 'restart') {
      this.restart();
      if (verdict === 'new-source') this.lsr = 0;
    }
    if (clockRate <= 0) return;
    const arrival = (now * clockRate) / 1000;
    if (this.primed) {
      const d = arrival - this.lastArrival - ((ts - this.lastTs) | 0);
      this.jitter += (Math.abs(d) - this.jitter) / 16;
    }
    this.lastArrival = arrival;
    this.lastTs = ts >>> 0;
    this.primed = true;
  }

  /** An SR from `ssrc` with its LSR; kept only from the source reported on. */
  senderReport(ssrc: number, lsr: number, now: number): void {
    if (ssrc !== this.ssrc) return;
    this.lsr = lsr;
    this.lsrAt = now;
  }

  /** Writes the §6.4.1 report block at `offset` and starts a new reporting interval. */
  writeBlock(b: Buffer, offset: number, now: number): void {
    const { extendedMax, expected, received } = this.sequence;
    const lost = Math.max(-0x800000, Math.min(0x7fffff, expected - received));
    const expectedInterval = expected - this.expectedPrior;
    const lostInterval = expectedInterval - (received - this.receivedPrior);
    this.expectedPrior = expected;
    this.receivedPrior = received;
    const fraction = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    writeUint32(b, offset, this.sequence.ssrc);
    writeUint32(b, offset + 4, ((fraction << 24) | (lost & 0xffffff)) >>> 0);
    writeUint32(b, offset + 8, extendedMax >>> 0);
    writeUint32(b, offset + 12, Math.floor(this.jitter) >>> 0);
    writeUint32(b, offset + 16, this.lsr);
    const dlsr = this.lsr === 0 ? 0 : Math.min(0xffffffff, Math.floor(((now - this.lsrAt) * 65536) / 1000));
    writeUint32(b, offset + 20, Math.max(0, dlsr));
  }

  /** A new count began (new source, or a confirmed jump): the interval and jitter start again. */
  private restart(): void {
    this.expectedPrior = 0;
    this.receivedPrior = 0;
    this.jitter = 0;
    this.primed = false;
  }
}

/** The RTCP we send to one leg of a transcoded stream, and what it is made of. */
export class RtcpReporter {
  readonly reception: ReceptionStatistics;
  /** When the next report is due. */
  nextAt: number;
  /** RFC 7022 §4.2: a random CNAME per stream and leg, 96 bits. */
  private readonly cname = Buffer.from(randomBytes(12).toString('base64'), 'latin1');
  /** The stream we send this leg: its SSRC as it left (after continuity), counts, last timestamp. */
  private ssrc: number | undefined;
  private packets = 0;
  private octets = 0;
  private lastTs = 0;
  private lastTsAt = 0;
  private lastSentAt = -Infinity;
  private lastReportAt = -Infinity;
  private previousReportAt = -Infinity;

  /** `sequence`: the leg's tracker of the source it reports on (ReceptionStatistics). */
  constructor(now: number, sequence?: SequenceTracker) {
    this.reception = new ReceptionStatistics(sequence);
    this.nextAt = now + jittered(RTCP_REPORT_INTERVAL_MS / 2);
  }

  /** One RTP packet sent to the leg (clear, as it left), with `payloadOctets` of payload (§6.4.1). */
  sent(packet: Uint8Array, payloadOctets: number, now: number): void {
    const s = ssrcOf(packet);
    const ts = timestamp(packet);
    if (s !== this.ssrc) {
      // §6.4.1: the counts are of this SSRC; a new one starts again.
      this.ssrc = s;
      this.packets = this.octets = 0;
      this.lastTs = ts;
      this.lastTsAt = now;
    } else if (((ts - this.lastTs) | 0) > 0) {
      // Events keep their start timestamp; only a timestamp that moved on says where the clock is.
      this.lastTs = ts;
      this.lastTsAt = now;
    }
    this.packets = (this.packets + 1) >>> 0;
    this.octets = (this.octets + payloadOctets) >>> 0;
    this.lastSentAt = now;
  }

  /**
   * The compound packet due now (SR or RR, then SDES), or undefined when there is nothing to say
   * yet. `clockRate` is the RTP clock of what is sent to the leg; `ownSsrc` the SSRC to speak as
   * before anything was sent.
   */
  report(now: number, clockRate: number, ownSsrc: number | undefined): Buffer | undefined {
    this.nextAt = now + jittered(RTCP_REPORT_INTERVAL_MS);
    const r = this.reception;
    // §6.4: an SR when we sent since the report before last; a block about a source heard since the last.
    const sender = this.packets > 0 && this.lastSentAt > this.previousReportAt;
    const blocks = r.ssrc !== undefined && r.lastReceivedAt > this.lastReportAt ? 1 : 0;
    const ssrc = this.ssrc ?? ownSsrc;
    if (ssrc === undefined || (this.packets === 0 && r.ssrc === undefined)) return undefined;
    this.previousReportAt = this.lastReportAt;
    this.lastReportAt = now;
    const head = (sender ? 28 : 8) + REPORT_BLOCK * blocks;
    const chunk = (4 + 2 + this.cname.length + 4) & ~3; // SSRC, CNAME item, null octet(s) to 32 bits
    const b = Buffer.alloc(head + 4 + chunk);
    b[0] = 0x80 | blocks;
    b[1] = sender ? RTCP_SR : RTCP_RR;
    b.writeUInt16BE(head / 4 - 1, 2);
    writeUint32(b, 4, ssrc);
    if (sender) {
      const secs = Math.floor(now / 1000);
      writeUint32(b, 8, (secs + NTP_UNIX_OFFSET) >>> 0);
      writeUint32(b, 12, Math.floor(((now - secs * 1000) / 1000) * 2 ** 32) >>> 0);
      writeUint32(b, 16, (this.lastTs + Math.round(((now - this.lastTsAt) * clockRate) / 1000)) >>> 0);
      writeUint32(b, 20, this.packets);
      writeUint32(b, 24, this.octets);
    }
    if (blocks) r.writeBlock(b, head - REPORT_BLOCK, now);
    // RFC 3550 §6.5: SDES with one chunk, our CNAME.
    b[head] = 0x81;
    b[head + 1] = RTCP_SDES;
    b.writeUInt16BE(chunk / 4, head + 2);
    writeUint32(b, head + 4, ssrc);
    b[head + 8] = 1; // CNAME
    b[head + 9] = this.cname.length;
    this.cname.copy(b, head + 10);
    return b;
  }
}

/** `ms` × a uniform factor in [0.5, 1.5] (RFC 3550 §6.3.1), so that reports do not synchronise. */
function jittered(ms: number): number {
  return (ms * randomInt(500, 1501)) / 1000;
}
