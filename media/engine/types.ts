/**
 * The MediaEngine interface: the only way the B2BUA touches media. Shaped like rtpengine's ng
 * control protocol (offer / answer / delete / query, keyed by Call-ID and the dialog's tags) so
 * that rtpengine can be a second backend behind it.
 *
 *   B2BUA                                  engine
 *   INVITE from A (from-tag a) ──offer(cid, a, sdpA, flags)──►  sdp for B (engine's address/keys)
 *   200 from B   (to-tag b)    ──answer(cid, a, b, sdpB)────►  sdp for A
 *   re-INVITE from B           ──offer(cid, b, sdpB2, flags)─►  sdp for A ... answer(cid, b, a, sdpA2)
 *   BYE / failure              ──delete(cid)
 *
 * An offer's flags say what the OTHER leg is given (transport, codecs, SDES suites, rtcp-mux) and
 * how the offering leg is held to account (requireSecure, latching). An answer's flags say the same
 * of the answering leg. SDP is RFC 4566 text in and out.
 */
import type { SrtpProfileName } from '../srtp/profiles';
import type { LegStatsWire, PlainLatchPolicy, QueueDelayHistogram } from '../relay/protocol';

export type { QueueDelayHistogram } from '../relay/protocol';
import type { DropReason } from '../relay/stats';

export type { PlainLatchPolicy, DropReason };

/**
 * What the engine gives the other leg:
 * - 'RTP/AVP': plain RTP (a PBX). The engine decrypts what comes from an SRTP leg.
 * - 'RTP/SAVP': SDES-keyed SRTP (RFC 4568) with a fresh key of ours; an SRTP offering leg is re-keyed.
 * - 'pass-through': end to end (DTLS-SRTP, ZRTP): packets relayed opaque; protocol, a=fingerprint,
 *   a=setup and a=zrtp-hash unchanged; the engine never derives or holds a key.
 */
export type TransportMode = 'RTP/AVP' | 'RTP/SAVP' | 'pass-through';

export interface CodecPolicy {
  /**
   * Encoding names the other leg may be offered (case-insensitive, e.g. ['PCMU', 'PCMA', 'opus']),
   * in the order to offer them; absent = everything, as offered. telephone-event (RFC 4733) and CN
   * (RFC 3389) are always kept when offered, after the codecs.
   */
  readonly allow?: readonly string[];
  /**
   * Whether the engine may transcode (media/codecs: PCMU, PCMA, G722, Opus) when no allowed codec is
   * offered: the other leg is then offered the allowed codecs it can produce. A common codec is
   * always preferred. Not for pass-through or direct media.
   */
  readonly transcode?: boolean;
  /**
   * Codecs the engine can transcode to ('PCMU', 'PCMA', 'G722', 'opus'; other names are ignored), offered
   * to the other leg in this order AFTER the offered ones, each only when the offer lacks it (and
   * `allow`, when given, allows it), so that an answerer following the offer's preference picks a
   * common codec (a B2BUA's user ↔ user calls). The answer decides: one of the offerer's codecs is
   * relayed as is; an appended one is transcoded to the offerer's first transcodable codec on the
   * same clock rate, else its first (media/engine/transcoding.ts, telephone-event and CN included).
   * Nothing is appended when the offerer has no transcodable codec, nor for pass-through or direct
   * media. When no allowed codec is offered at all, `transcode` decides as above.
   */
  readonly append?: readonly string[];
}

/**
 * RTCP multiplexing (RFC 5761, RFC 8858) toward the other leg:
 * 'offer' (default) = offer a=rtcp-mux and still announce the RTCP port; accept the offering leg's mux.
 * 'require' = also a=rtcp-mux-only; an answer without a=rtcp-mux is refused (488).
 * 'never' = neither offer nor accept it (separate RTCP ports on both sides of the engine).
 */
export type RtcpMuxPolicy = 'offer' | 'require' | 'never';

/** Flags of the leg whose SDP is handed over (offer or answer). */
export interface LegFlags {
  /** SDES suites allowed, in preference order; default media/sdp DEFAULT_SDES_PREFERENCE. */
  readonly sdesSuites?: readonly SrtpProfileName[];
  readonly rtcpMux?: RtcpMuxPolicy;
  /** ICE (RFC 8445) attributes are stripped when the engine anchors media: the only policy. */
  readonly ice?: 'strip';
  /** This leg must use SDES-SRTP (terminated) or DTLS-SRTP/ZRTP (pass-through); else 488. */
  readonly requireSecure?: boolean;
  /** Latching of this leg when it is not SRTP (default 'sdp-host'; see media/relay/leg.ts). */
  readonly plainLatch?: PlainLatchPolicy;
}

export interface OfferFlags extends LegFlags {
  /** What the other leg is offered. */
  readonly transport: TransportMode;
  readonly codecs?: CodecPolicy;
  /**
   * Pass-through only, and only when media.allowDirectMedia is set: the endpoints' own addresses
   * go through unchanged and media flows directly between them.
   */
  readonly directMedia?: boolean;
  /**
   * The tag of the leg this offer is written for, when several may answer the same offer (a
   * B2BUA's parallel forks, serial failover; rtpengine's via-branch). Each branch is offered keys
   * of its own (RFC 4568 §6.1: a key is never shared), and an answer from `toTag` settles against
   * the offer written for that branch. Without it the offer is for whoever answers next.
   */
  readonly branch?: string;
}

export type AnswerFlags = LegFlags;

export interface TimeoutEvent {
  readonly callId: string;
  /** Seconds without an accepted packet on any stream of the call. */
  readonly idleSec: number;
}

export interface SrtpAuthFailureEvent {
  readonly callId: string;
  /** The leg whose packets failed authentication. */
  readonly tag: string;
  /** m= line index. */
  readonly streamIndex: number;
  readonly kind: 'rtp' | 'rtcp';
  /** Failures on this leg and stream so far (events are rate-limited to one per second per leg). */
  readonly total: number;
}

/**
 * The engine can no longer carry the call's media: its relay thread stopped ('relay-lost'), or
 * refused the call's stream configuration ('configuration-refused'). The call's media are gone
 * (ports freed, keys wiped); only the signalling is left to end.
 */
export interface MediaFailedEvent {
  readonly callId: string;
  readonly reason: 'relay-lost' | 'configuration-refused';
}

export interface MediaEngineEvents {
  timeout: (event: TimeoutEvent) => void;
  failed: (event: MediaFailedEvent) => void;
  srtpAuthFailure: (event: SrtpAuthFailureEvent) => void;
}

/** How one stream is carried on one leg. */
export type StreamMode = 'rtp' | 'srtp' | 'pass-through' | 'direct' | 'pending' | 'disabled';

export interface StreamLegStats extends Omit<LegStatsWire, 'tag' | 'mode'> {
  /** m= line index. */
  readonly index: number;
  readonly mediaType: string;
  readonly mode: StreamMode;
  /** The SRTP suite in use on this leg, when 'srtp'. */
  readonly suite: SrtpProfileName | undefined;
  /** Milliseconds since the stream last accepted a packet (either leg). */
  readonly idleMs: number;
}

export interface LegStats {
  readonly tag: string;
  readonly streams: readonly StreamLegStats[];
}

export interface CallStats {
  readonly callId: string;
  /** Date.now() when the call's first offer was handled. */
  readonly createdAt: number;
  readonly legs: readonly LegStats[];
}

/** One relay thread's busy time since it started (seconds of its event loop not waiting for work). */
export interface RelayThreadBusy {
  /** The relay thread's index, 0 .. threads − 1 (a replaced thread keeps its predecessor's). */
  readonly thread: number;
  readonly busySec: number;
}

export interface MediaEngine {
  /** The offering leg `fromTag` sends `sdp`; returns the SDP for the other leg. */
  offer(callId: string, fromTag: string, sdp: string, flags: OfferFlags): Promise<string>;
  /**
   * The leg `toTag` answers the offer of `fromTag` with `sdp`; returns the SDP for the offering leg.
   * May be called again for the same offer (183 then 200); a new `toTag` replaces the previous
   * answerer (serial forking, failover).
   */
  answer(callId: string, fromTag: string, toTag: string, sdp: string, flags?: AnswerFlags): Promise<string>;
  /**
   * Ends the call and frees its ports. With the tag of the leg that answered: forgets only that
   * answerer (the pending offer can be answered by another). Unknown calls are ignored.
   */
  delete(callId: string, tag?: string): Promise<void>;
  /** Statistics of every leg and stream. Throws MediaEngineError 'unknown-call'. */
  query(callId: string): Promise<CallStats>;
  on<E extends keyof MediaEngineEvents>(event: E, listener: MediaEngineEvents[E]): this;
  off<E extends keyof MediaEngineEvents>(event: E, listener: MediaEngineEvents[E]): this;
  /**
   * The relay's queue-delay histogram; undefined when the engine does not measure it (the embedded
   * engine on Node's dgram sockets, an engine without the method).
   */
  queueDelay?(): Promise<QueueDelayHistogram | undefined>;
  /**
   * Each relay worker thread's busy time (empty in in-thread mode, where the relay shares the
   * signalling thread): rate() of it is the thread's load, the capacity signal that comes before
   * queue delay (docs/OPERATIONS.md).
   */
  relayBusy?(): Promise<readonly RelayThreadBusy[]>;
  /** Ends every call and stops the relay threads. */
  close(): Promise<void>;
}
