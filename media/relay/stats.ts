/**
 * Per-leg counters of one relayed stream: what came in, what went out, what was dropped and why
 * (the "bad input ... counted per session"), and RTP loss estimated from sequence numbers
 * as RFC 3550 §A.3 does. Counters are plain numbers on a class so the packet path stays monomorphic.
 */
import { SequenceTracker, type SequenceVerdict } from './sequence';

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
  /** Of the received packets, those the in-kernel forwarder relayed (offload.ts). */
  rxKernelPackets = 0;
  /** Of the received RTP packets, those the native fast path relayed (fast.ts). */
  rxFastPackets = 0;
  readonly dropped = new Float64Array(DROP_REASONS.length);
  /** Drops not yet reported in a log line (see host.ts rate limiting). */
  unloggedDrops = 0;

  // RFC 3550 §A.3 loss estimate of the current source; earlier sources are summed in lostBefore.
  /** The current source's sequence numbers; a transcoded leg's reception reports read it too. */
  readonly sequence = new SequenceTracker();
  /** What the counts ended by restarts lost (the fast path adds its share: fast.ts). */
  lostBefore = 0;

  drop(reason: number, count = 1): void {
    this.dropped[reason]! += count;
    this.unloggedDrops += count;
  }

  /** Counts one accepted RTP packet of `ssrc` with sequence number `seq` for the loss estimate. */
  track(ssrcValue: number, seq: number): SequenceVerdict {
    const verdict = this.sequence.update(ssrcValue, seq);
    // A restart (new SSRC, or a confirmed jump, RFC 3550 §A.1) keeps what the old count lost.
    if (verdict === 'new-source' || verdict === 'restart') this.lostBefore += this.sequence.lostAtRestart;
    return verdict;
  }

  get lost(): number {
    return this.lostBefore + this.sequence.lost;
  }

  dropsByReason(): Record<DropReason, number> {
    const out = {} as Record<DropReason, number>;
    DROP_REASONS.forEach((r, i) => (out[r] = this.dropped[i]!));
    return out;
  }
}
