/**
 * One continuous outgoing RTP stream across source changes (RFC 3550 §8.2, §7.2; RFC 7667 §3.2.1.3).
 *
 * When the sending leg's stream changes, on a re-INVITE or a new device behind it, the receiver
 * must not see a new SSRC with a jump in sequence number and timestamp: many endpoints then drop
 * audio until their jitter buffer gives up, and an SRTP receiver would treat it as a new stream.
 * The rewriter keeps the first SSRC it forwarded as the outgoing one and, from the first source
 * change on, maps every packet onto it: sequence numbers go on from the last one sent, the
 * timestamp from the last one sent plus the wall time elapsed (in RTP clock ticks), and the marker
 * bit is set on the first packet of the new source (RFC 3551 §4.1: start of a talkspurt) so that
 * jitter buffers resynchronise. Before any change, packets go out untouched.
 *
 * A late packet of the source just replaced would move the stream back and forth: it is dropped.
 */
import { seqDelta, sequenceNumber, setMarker, setSequenceNumber, setSsrc, setTimestamp, ssrc, timestamp } from './rtp';
import type { SsrcTranslation } from './rtcp';

export type RewriteVerdict = 'forward' | 'stale-source';

export class ContinuityRewriter {
  /** The SSRC the receiver sees; undefined until the first packet. */
  private outSsrc: number | undefined;
  private inSsrc = 0;
  private previousInSsrc: number | undefined;
  private seqOffset = 0;
  private tsOffset = 0;
  private lastOutSeq = 0;
  private lastOutTs = 0;
  private lastOutAt = 0;
  private rewriting = false;

  constructor(
    /** RTP clock of the stream's codec, ticks per second (RFC 3551 §4.5). */
    private clockRate: number,
    private readonly now: () => number,
  ) {}

  setClockRate(rate: number): void {
    if (rate > 0) this.clockRate = rate;
  }

  /** True once a source change made this rewriter change packets. */
  get active(): boolean {
    return this.rewriting;
  }

  /** Rewrites an RTP packet (header already validated) in place. */
  apply(packet: Uint8Array): RewriteVerdict {
    const s = ssrc(packet);
    let first = false;
    if (this.outSsrc === undefined) {
      this.outSsrc = s;
      this.inSsrc = s;
      first = true;
    } else if (s !== this.inSsrc) {
      if (s === this.previousInSsrc) return 'stale-source';
      this.switchTo(s, packet);
    }
    if (this.rewriting) {
      setSsrc(packet, this.outSsrc);
      setSequenceNumber(packet, (sequenceNumber(packet) + this.seqOffset) & 0xffff);
      setTimestamp(packet, (timestamp(packet) + this.tsOffset) >>> 0);
    }
    const seq = sequenceNumber(packet);
    if (first || seqDelta(seq, this.lastOutSeq) > 0) {
      this.lastOutSeq = seq;
      this.lastOutTs = timestamp(packet);
      this.lastOutAt = this.now();
    }
    return 'forward';
  }

  private switchTo(s: number, packet: Uint8Array): void {
    const elapsedMs = Math.max(0, this.now() - this.lastOutAt);
    // At least one tick, so that the new source's first packet is strictly later.
    const ticks = Math.max(1, Math.round((elapsedMs * this.clockRate) / 1000));
    this.seqOffset = (this.lastOutSeq + 1 - sequenceNumber(packet)) & 0xffff;
    this.tsOffset = (this.lastOutTs + ticks - timestamp(packet)) >>> 0;
    this.previousInSsrc = this.inSsrc;
    this.inSsrc = s;
    this.rewriting = true;
    setMarker(packet);
  }

  /** The source SSRC whose packets go out now; undefined before the first packet. */
  get currentSource(): number | undefined {
    return this.outSsrc === undefined ? undefined : this.inSsrc;
  }

  /** The SSRC the receiver sees for the current source (its own until a change made this rewrite). */
  get sentSsrc(): number | undefined {
    return this.rewriting ? this.outSsrc : this.currentSource;
  }

  /**
   * What the relay's fast path (fast.ts) carries of this rewriter while it relays the current
   * source's packets in C (after the first packet). Only the last-sent fields change there.
   */
  get fastState(): { outSsrc: number; rewriting: boolean; seqOffset: number; tsOffset: number; lastOutSeq: number; lastOutTs: number } {
    const { rewriting, seqOffset, tsOffset, lastOutSeq, lastOutTs } = this;
    return { outSsrc: this.outSsrc ?? 0, rewriting, seqOffset, tsOffset, lastOutSeq, lastOutTs };
  }

  /** The last packet sent as the fast path reports it (`at`: on this rewriter's clock; undefined: it sent none newer). */
  resumeAfterFast(lastOutSeq: number, lastOutTs: number, at: number | undefined): void {
    this.lastOutSeq = lastOutSeq;
    this.lastOutTs = lastOutTs;
    if (at !== undefined) this.lastOutAt = at;
  }

  /** The SSRC a receiver knows for a sender SSRC of the current source (RTCP SR/SDES/BYE). */
  forwardSsrc(s: number): number {
    return this.rewriting && s === this.inSsrc && this.outSsrc !== undefined ? this.outSsrc : s;
  }

  forwardTimestamp(s: number, ts: number): number {
    return this.rewriting && s === this.inSsrc ? (ts + this.tsOffset) >>> 0 : ts;
  }

  /** The source SSRC behind the outgoing one (RTCP report blocks and feedback about it). */
  reverseSsrc(s: number): number {
    return this.rewriting && s === this.outSsrc ? this.inSsrc : s;
  }
}

/**
 * The RTCP view of two rewriters: RTCP going to leg X comes from leg Y; its own SSRCs follow the
 * rewriter of the packets sent to X, its reports about what Y received follow the one sent to Y.
 */
export class RtcpTranslation implements SsrcTranslation {
  constructor(
    /** Rewriter of RTP sent to the leg this RTCP goes to. */
    private readonly toward: ContinuityRewriter,
    /** Rewriter of RTP sent to the leg this RTCP comes from. */
    private readonly from: ContinuityRewriter,
  ) {}

  get identity(): boolean {
    return !this.toward.active && !this.from.active;
  }

  forward(s: number): number {
    return this.toward.forwardSsrc(s);
  }

  forwardTimestamp(s: number, ts: number): number {
    return this.toward.forwardTimestamp(s, ts);
  }

  reverse(s: number): number {
    return this.from.reverseSsrc(s);
  }
}
