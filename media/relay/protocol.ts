/**
 * What the media engine (signalling thread) and a relay host (a worker thread, or the same thread in
 * in-thread mode) say to each other. Everything here survives structured cloning (postMessage):
 * plain objects, arrays, numbers, strings and Uint8Arrays only.
 *
 * Keys cross the thread boundary only when a leg's key changes (a new `generation`); the host builds
 * its SRTP context from them and overwrites the copies it received.
 */
import type { SrtpProfileName } from '../srtp/profiles';
import type { KernelForwarderWire } from './kernel/rules';
import type { DropReason } from './stats';

/**
 * How the relay treats one leg's packets:
 * - 'pending': not negotiated yet (before the answer) or rejected: everything is dropped;
 * - 'rtp': plain RTP/RTCP, validated and rewritten;
 * - 'srtp': SDES-keyed SRTP/SRTCP, authenticated and decrypted on receive, encrypted on send;
 * - 'opaque': end-to-end pass-through: relayed byte for byte, never parsed beyond RFC 7983's first octet.
 */
export type LegMode = 'pending' | 'rtp' | 'srtp' | 'opaque';

/**
 * Who may be latched on a leg that has no SRTP authentication to prove itself with:
 * 'sdp-host' = only a packet from the host (IP) of the leg's SDP c= line; 'any-source' = the first
 * well-formed packet from anywhere (for peers behind NAT; weaker, opt-in).
 */
export type PlainLatchPolicy = 'sdp-host' | 'any-source';

export interface TransportAddress {
  readonly address: string;
  readonly port: number;
}

export interface SrtpKeyWire {
  /** Changes whenever the key does; the host rebuilds its context only then (keeping ROC and replay state otherwise). */
  readonly generation: number;
  readonly profile: SrtpProfileName;
  /** Present when `generation` is new to the host. */
  readonly masterKey?: Uint8Array;
  readonly masterSalt?: Uint8Array;
  /** The MKI the key's packets carry (RFC 3711 §3.1, RFC 4568 §6.1), when its a=crypto line gave one. */
  readonly mki?: Uint8Array;
}

/** Transcoding of what a leg sends (media/codecs createTranscoder): payload type `fromPt` in, `toPt` out. */
export interface TranscodeWire {
  readonly fromPt: number;
  readonly toPt: number;
  /** media/codecs CodecName of each side: 'PCMU' | 'PCMA' | 'G722' | 'opus'. */
  readonly from: string;
  readonly to: string;
  readonly ptimeMs: number;
  /**
   * RFC 4733 telephone-event, when both legs negotiated it: sent to the other leg as `toPt`, its
   * durations rescaled from `fromClock` to `toClock` and its timestamp put on the output clock.
   */
  readonly events?: { readonly toPt: number; readonly fromClock: number; readonly toClock: number };
  /** RFC 3389 CN, when both legs negotiated it at 8000 Hz next to 8000 Hz audio: sent to the other leg as this. */
  readonly cnPt?: number;
}

export interface LegWire {
  readonly tag: string;
  readonly mode: LegMode;
  readonly rtcpMux: boolean;
  /** The leg's own media address from its SDP: where to send until a packet latches it. */
  readonly remote: { readonly address: string; readonly rtpPort: number; readonly rtcpPort: number } | undefined;
  readonly latch: PlainLatchPolicy;
  /** Forget the latched addresses (the leg's SDP address changed). */
  readonly relatch: boolean;
  /** Decrypts what this leg sends (its key). */
  readonly srtpIn: SrtpKeyWire | undefined;
  /** Encrypts what is sent to this leg (our key for it). */
  readonly srtpOut: SrtpKeyWire | undefined;
  /** Payload types accepted from this leg, each with the number the other leg knows it by. */
  readonly payloadMap: readonly (readonly [number, number])[];
  /** Set when what this leg sends must be transcoded for the other leg. */
  readonly transcode: TranscodeWire | undefined;
  /** RTP clock rate of the media sent to this leg (timestamp continuity). */
  readonly clockRate: number;
  /** Whether this leg is expected to send media (its direction is sendrecv or sendonly). */
  readonly sends: boolean;
}

export interface StreamWire {
  readonly streamId: number;
  readonly callId: string;
  /** The m= line index. */
  readonly index: number;
  readonly legs: readonly [LegWire, LegWire];
}

export type RelayCommand =
  | {
      readonly op: 'open';
      readonly streamId: number;
      /** '' opens a stream for the engine's reserve: bound, relaying nothing, until 'adopt'. */
      readonly callId: string;
      readonly index: number;
      readonly address: string;
      /** RTP port of each leg's local socket pair (RTCP = RTP + 1). */
      readonly ports: readonly [number, number];
    }
  /** A reserved stream (opened with callId '') becomes stream `index` of call `callId`. */
  | { readonly op: 'adopt'; readonly streamId: number; readonly callId: string; readonly index: number }
  | { readonly op: 'configure'; readonly stream: StreamWire }
  | { readonly op: 'close'; readonly streamIds: readonly number[] }
  | { readonly op: 'stats'; readonly streamIds: readonly number[] }
  /** The thread's queue-delay histogram (QueueDelayHistogram), or null when its sockets keep none (dgram). */
  | { readonly op: 'queueDelay' }
  /** How long the thread has been busy (BusyWire). */
  | { readonly op: 'busy' };

export type OpenReply = { readonly ok: true } | { readonly ok: false; readonly leg: 0 | 1; readonly code: string };

export interface LegStatsWire {
  readonly tag: string;
  readonly mode: LegMode;
  readonly local: { readonly address: string; readonly rtpPort: number; readonly rtcpPort: number };
  readonly rtcpMux: boolean;
  readonly latched: { readonly rtp: TransportAddress | undefined; readonly rtcp: TransportAddress | undefined };
  readonly rx: {
    readonly packets: number;
    readonly bytes: number;
    readonly lost: number;
    readonly rtcpPackets: number;
    readonly rtcpBytes: number;
    /** Of the packets counted above (RTP and RTCP), those relayed by the in-kernel forwarder. */
    readonly kernelPackets: number;
    /** Of the RTP packets counted above, those relayed by the native fast path (fast.ts). */
    readonly fastPackets: number;
  };
  readonly tx: { readonly packets: number; readonly bytes: number; readonly rtcpPackets: number; readonly rtcpBytes: number };
  readonly srtpAuthFailures: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
}

export interface StreamStatsWire {
  readonly streamId: number;
  readonly index: number;
  /** Milliseconds since the last packet accepted from either leg. */
  readonly idleMs: number;
  readonly legs: readonly [LegStatsWire, LegStatsWire];
}

/**
 * How long relayed packets waited in relay socket receive queues before a relay thread read them,
 * cumulative: one thread's (media/relay/io/native/src/udpio.c), or all threads' summed by the
 * engine (media/engine/queue-delay.ts, MediaEngine.queueDelay). The latency the relay adds by
 * being busy or descheduled (its processing after the read is a few microseconds more).
 */
export interface QueueDelayHistogram {
  /** Upper bounds of the buckets, seconds, ascending; a last bucket counts everything above. */
  readonly boundsSec: readonly number[];
  /** Packets per bucket (not cumulative): boundsSec.length + 1 entries. */
  readonly counts: readonly number[];
  readonly sumSec: number;
}

/**
 * A relay thread's busy time since it started: its event loop's active time (not waiting for
 * sockets or timers; node:perf_hooks eventLoopUtilization), milliseconds.
 */
export interface BusyWire {
  readonly busyMs: number;
}

export type RelayReply = OpenReply | readonly StreamStatsWire[] | QueueDelayHistogram | BusyWire | null;

export type RelayEvent =
  | { readonly type: 'timeout'; readonly callId: string; readonly idleMs: number }
  | {
      readonly type: 'srtpAuthFailure';
      readonly callId: string;
      readonly index: number;
      readonly tag: string;
      readonly kind: 'rtp' | 'rtcp';
      /** Authentication failures on this leg and stream so far. */
      readonly total: number;
    }
  | {
      readonly type: 'log';
      readonly level: 'warn' | 'info' | 'debug';
      readonly message: string;
      readonly fields: Readonly<Record<string, string | number | boolean>>;
    };

export interface RelaySettings {
  /** A call with no accepted packet for this long raises 'timeout' (media.inactivitySec). */
  readonly inactivityMs: number;
  /** Packets per second accepted from one leg of one stream before 'flood' drops (media.maxPacketsPerSec). */
  readonly maxPacketsPerSec: number;
  /** How often idle calls are looked for; 0 = never by timer (tests call sweep()). */
  readonly sweepIntervalMs: number;
  /** The engine's in-kernel forwarder (media.kernelForwarding), when it has one. */
  readonly kernel?: KernelForwarderWire;
  /** Media sockets read in batches by the native I/O addon when it is built (media.batchedIo); else dgram. */
  readonly batchedIo?: boolean;
  /** With batched I/O: settled RTP/SRTP streams relayed by its native fast path (media.fastPath; fast.ts). */
  readonly fastPath?: boolean;
  /** Nice value each worker thread gives itself at start (media.nice); absent = unchanged. */
  readonly nice?: number;
  /** Real-time policy each worker thread gives itself at start (media.scheduling, media.rtPriority); absent = none. */
  readonly realtime?: { readonly policy: 'fifo' | 'rr'; readonly priority: number };
}
