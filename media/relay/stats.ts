/**
 * Per-leg counters of one relayed stream: what came in, what went out, what was dropped and why
 * (the "bad input ... counted per session"), and RTP loss estimated from sequence numbers
 * as RFC 3550 §A.3 does. Counters are plain numbers on a class so the packet path stays monomorphic.
 */
import { seqDelta } from './rtp';

/** Why a packet was dropped. Every drop is counted under exactly one of these. */
export const DROP_REASONS = [
  /** Not RTP/RTCP version 2, inconsistent lengths, or not a demultiplexable first octet (RFC 7983). */
  'malformed',
  /** SRTP/SRTCP authentication tag mismatch (RFC 3711 §3.3 step 5). */
  'srtp-auth',
  /** SRTP/SRTCP replayed or too old (RFC 3711 §3.3.2). */
  'srtp-replay',
  /** Other SRTP refusals: too many SSRCs, exhausted key. */
  'srtp-error',
  /** From an address other than the latched one, or before latching from an address not allowed to latch. */
  'unexpected-source',
  /** Over the per-leg packet rate limit (media.maxPacketsPerSec). */
  'flood',
  /** A payload type that was not negotiated on this leg. */
  'payload-type',
  /** The stream is not (or no longer) negotiated: before the answer, or a rejected stream. */
  'not-negotiated',
  /** The other leg has no address to send to yet. */
  'no-destination',
  /** A late packet of a source replaced by a newer one (see continuity.ts). */
  'stale-source',
  /** The operating system refused to send. */
  'send-error',
  /** An unexpected exception on the packet path (a bug): the packet is dropped, the relay goes on. */
  'internal-error',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** Numeric indices into {@link LegCounters.dropped}, for the packet path. */
export const DROP = Object.freeze(
  Object.fromEntries(DROP_REASONS.map((r, i) => [r, i])) as { readonly [K in DropReason]: number },
);

export class LegCounters {
  rxPackets = 0;
  rxBytes = 0;
  rxRtcpPackets = 0;
  rxRtcpBytes = 0;
  txPackets = 0;
  txBytes = 0;
  txRtcpPackets = 0;
  txRtcpBytes = 0;
  srtpAuthFailures = 0;
  readonly dropped = new Float64Array(DROP_REASONS.length);
  /** Drops not yet reported in a log line (see host.ts rate limiting). */
  unloggedDrops = 0;

  // RFC 3550 §A.3 loss estimate of the current source; earlier sources are summed in lostBefore.
  private lossSsrc = -1;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private received = 0;
  private lostBefore = 0;

  drop(reason: number): void {
    this.dropped[reason]!++;
    this.unloggedDrops++;
  }

  /** Counts one accepted RTP packet of `ssrc` with sequence number `seq` for the loss estimate. */
  track(ssrcValue: number, seq: number): void {
    if (ssrcValue !== this.lossSsrc) {
      this.restart(ssrcValue, seq);
      return;
    }
    const delta = seqDelta(seq, this.maxSeq);
    if (delta > 0) {
      // RFC 3550 §A.1 MAX_DROPOUT: a larger jump is a restart of the sender, not 3000 losses.
      if (delta > 3000) {
        this.restart(ssrcValue, seq);
        return;
      }
      if (seq < this.maxSeq) this.cycles += 0x10000;
      this.maxSeq = seq;
    }
    this.received++;
  }

  get lost(): number {
    return this.lostBefore + this.currentLost();
  }

  dropsByReason(): Record<DropReason, number> {
    const out = {} as Record<DropReason, number>;
    DROP_REASONS.forEach((r, i) => (out[r] = this.dropped[i]!));
    return out;
  }

  private currentLost(): number {
    if (this.lossSsrc < 0) return 0;
    const expected = this.cycles + this.maxSeq - this.baseSeq + 1;
    return Math.max(0, expected - this.received);
  }

  private restart(ssrcValue: number, seq: number): void {
    this.lostBefore += this.currentLost();
    this.lossSsrc = ssrcValue;
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.cycles = 0;
    this.received = 1;
  }
}
