/**
 * RTP sequence-number bookkeeping of one source (RFC 3550 §A.1), and the loss it implies (§A.3):
 * the one implementation behind the relay's per-leg loss counters (stats.ts), whose tracker the
 * reception reports of a transcoded leg read too (rtcp-report.ts): one update per packet.
 *
 * A jump of more than MAX_DROPOUT ahead, or MAX_MISORDER back, is believed only when the next packet
 * follows it in sequence (§A.1 "bad_seq"): a lone stray packet is not counted and does not reset the
 * counts, while a sender that really restarted its sequence is re-synchronised on its second packet.
 */
import { seqDelta } from './rtp';

/** RFC 3550 §A.1 defaults. */
export const MAX_DROPOUT = 3000;
export const MAX_MISORDER = 100;

export type SequenceVerdict = 'new-source' | 'restart' | 'counted' | 'probation';

export class SequenceTracker {
  /** SSRC of the source; -1 before its first packet. */
  ssrc = -1;
  baseSeq = 0;
  maxSeq = 0;
  /** Count of sequence-number wraps, shifted (§A.1 `cycles`). */
  cycles = 0;
  /** Packets counted since the last (re)start. */
  received = 0;
  /** What the count ended by the last restart had lost (0 before any): for callers that sum them. */
  lostAtRestart = 0;
  /** The sequence number that would confirm a jump (§A.1 bad_seq); -1: none. Public for the fast path (fast.ts). */
  badSeq = -1;

  /**
   * Takes one packet of `ssrc`. Returns 'new-source' or 'restart' when it began a new count (a new
   * SSRC; a jump of the same one confirmed by the packet after it), 'counted' for a packet of the
   * running count, and 'probation' for a jump not confirmed yet (not counted).
   */
  update(ssrc: number, seq: number): SequenceVerdict {
    if (ssrc !== this.ssrc) {
      this.restart(ssrc, seq);
      return 'new-source';
    }
    const delta = seqDelta(seq, this.maxSeq);
    if (delta > MAX_DROPOUT || delta < -MAX_MISORDER) {
      if (seq !== this.badSeq) {
        this.badSeq = (seq + 1) & 0xffff;
        return 'probation';
      }
      this.restart(ssrc, seq);
      return 'restart';
    }
    if (delta > 0) {
      if (seq < this.maxSeq) this.cycles += 0x10000;
      this.maxSeq = seq;
    }
    this.received++;
    return 'counted';
  }

  /** Highest sequence number seen, extended with the wrap count (§A.3 extended_max). */
  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  /** Packets expected since the (re)start (§A.3). */
  get expected(): number {
    return this.ssrc < 0 ? 0 : this.extendedMax - this.baseSeq + 1;
  }

  /** Cumulative packets lost since the (re)start, not below 0 (duplicates can outnumber losses). */
  get lost(): number {
    return Math.max(0, this.expected - this.received);
  }

  private restart(ssrc: number, seq: number): void {
    this.lostAtRestart = this.lost;
    this.ssrc = ssrc;
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.cycles = 0;
    this.badSeq = -1;
    this.received = 1;
  }
}
