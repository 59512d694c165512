/**
 * The codecs media/codecs can create, as SDP names them. A module of its own, loading nothing, so
 * that the signalling thread (the engine's SDP work) can read it without loading the codecs.
 */
import type { CodecName } from './codec';

export interface SupportedCodec {
  readonly name: CodecName;
  /** RTP clock rate of its a=rtpmap line (RFC 3550 §5.1). */
  readonly clockRate: number;
  /** The a=rtpmap encoding parameter. */
  readonly channels: number;
  /** Rate of the audio it carries: the clock rate but for G722 (and Opus, which may code less). */
  readonly audioRate: 8000 | 16000 | 48000;
  /** Its static payload type (RFC 3551 §6), if it has one. */
  readonly staticPt?: number;
}

/** Codecs this module can create, by a=rtpmap encoding name and clock rate. */
export const SUPPORTED_CODECS: ReadonlyArray<SupportedCodec> = Object.freeze([
  { name: 'PCMU', clockRate: 8000, channels: 1, audioRate: 8000, staticPt: 0 },
  { name: 'PCMA', clockRate: 8000, channels: 1, audioRate: 8000, staticPt: 8 },
  // RFC 3551 §4.5.2: the RTP clock of G722 is 8000 although it samples at 16 kHz.
  { name: 'G722', clockRate: 8000, channels: 1, audioRate: 16000, staticPt: 9 },
  // RFC 7587 §4.1: 48000 whatever Opus codes inside.
  { name: 'opus', clockRate: 48000, channels: 2, audioRate: 48000 },
]);

/** Rate of the audio `name` carries (see SupportedCodec.audioRate). */
export const audioRateOf = (name: CodecName): SupportedCodec['audioRate'] => SUPPORTED_CODECS.find((c) => c.name === name)!.audioRate;
