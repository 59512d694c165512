/**
 * One call's media, through the MediaEngine interface only (media/engine/types.ts). The engine is
 * keyed by an internal call id and per-leg tags that never appear on the wire, so nothing of one
 * leg's dialog identifiers reaches the other or the engine's peers.
 *
 * Which flags an offer carries follows from who is at each end (issue 5):
 * - toward a user's device: SDES-SRTP (RTP/SAVP) with a fresh key of the gateway's; but when the
 *   offer is DTLS-SRTP or ZRTP (end-to-end keys) it is relayed opaque ('pass-through'), so the
 *   gateway never holds the keys;
 * - toward a trunk: the trunk's profile (RTP/AVP by default) and codec list (PCMA/PCMU);
 * - a user's own offers and answers must be secure when calls.requireSrtp (488 otherwise).
 *
 * Codecs, when calls.transcode (media/engine/transcoding.ts): a trunk is offered its codecs, and the
 * engine transcodes when the offer has none of them (a user's Opus-only offer to a PCMA/PCMU
 * trunk); a user is offered the offer's own codecs followed by TRANSCODE_APPEND's that it lacks,
 * so a common codec is relayed and only a callee that shares none is transcoded. Without it, a
 * call whose two ends share no codec gets 488.
 */
import type { AnswerFlags, CodecPolicy, MediaEngine, OfferFlags } from '../../media/engine/types';
import { mediaType } from '../sip/core/inspection';
import type { SipRequest, SipResponse } from '../sip/message/message';
import type { MediaProfile } from './types';

/** The body of a message when it is SDP. */
export function sdpOf(m: SipRequest | SipResponse): string | undefined {
  return hasSdp(m) ? m.body.toString('utf8') : undefined;
}

/** Whether the message carries an SDP body (an offer or an answer), without decoding it. */
export function hasSdp(m: SipRequest | SipResponse): boolean {
  if (m.body.length === 0) return false;
  const ct = m.headers.get('Content-Type');
  return ct !== undefined && mediaType(ct) === 'application/sdp';
}

/** The SDP describes end-to-end keyed media: DTLS-SRTP (RFC 5763) or ZRTP (RFC 6189) without SDES. */
export function isEndToEnd(sdp: string): boolean {
  if (sdp.includes('UDP/TLS/RTP/SAVP')) return true;
  if (sdp.includes('a=crypto:')) return false;
  return sdp.includes('a=fingerprint:') || sdp.includes('a=zrtp-hash:');
}

/**
 * The origin's session id and version (RFC 4566 §5.2 `o=<user> <sess-id> <sess-version> ...`): a
 * re-offer with the same pair changes nothing (RFC 3264 §8), e.g. a session refresh.
 */
export function originVersion(sdp: string): string | undefined {
  const start = sdp.startsWith('o=') ? 0 : sdp.indexOf('\no=') + 1;
  if (start === 0 && !sdp.startsWith('o=')) return undefined;
  let end = sdp.indexOf('\n', start);
  if (end < 0) end = sdp.length;
  const fields = sdp.slice(start + 2, Math.min(end, start + 512)).trim().split(' ');
  return fields.length >= 3 ? `${fields[1]} ${fields[2]}` : undefined;
}

/**
 * What a user is offered beyond the caller's own codecs, in this order: G.711 first (PCMA ↔ PCMU is
 * a table lookup), then G.722 (ADPCM, wideband), Opus last (an Opus encode is ~60–70 µs of CPU per
 * 20 ms frame).
 */
export const TRANSCODE_APPEND: readonly string[] = Object.freeze(['PCMU', 'PCMA', 'G722', 'opus']);
const USER_CODECS: CodecPolicy = Object.freeze({ append: TRANSCODE_APPEND });

export class CallMedia {
  private closed = false;

  constructor(
    private readonly engine: MediaEngine,
    /** Internal id: the engine's call id. */
    readonly id: string,
    private readonly requireSrtp: boolean,
    /** calls.transcode: the engine may transcode when the two ends share no codec. */
    private readonly transcode: boolean,
  ) {}

  /** Flags for an offer from a `from` peer to a `to` peer. */
  offerFlags(from: MediaProfile, to: MediaProfile, sdp: string): OfferFlags {
    const requireSecure = from.kind === 'user' && this.requireSrtp;
    if (to.kind === 'trunk') {
      const codecs: CodecPolicy = this.transcode ? { allow: to.policy.codecs, transcode: true } : { allow: to.policy.codecs };
      return { transport: to.policy.profile, codecs, requireSecure };
    }
    // End to end (DTLS-SRTP, ZRTP): the engine never reads the media, so nothing to transcode.
    if (isEndToEnd(sdp)) return { transport: 'pass-through', requireSecure };
    return this.transcode ? { transport: 'RTP/SAVP', codecs: USER_CODECS, requireSecure } : { transport: 'RTP/SAVP', requireSecure };
  }

  answerFlags(answerer: MediaProfile): AnswerFlags {
    return { requireSecure: answerer.kind === 'user' && this.requireSrtp };
  }

  /**
   * The leg tagged `fromTag` offers `sdp`; resolves with the SDP for the other leg. MediaEngineError
   * on refusal. `branch`: the tag of the fork this copy is for (each fork gets keys of its own).
   */
  offer(fromTag: string, from: MediaProfile, to: MediaProfile, sdp: string, branch?: string): Promise<string> {
    const flags = this.offerFlags(from, to, sdp);
    return this.engine.offer(this.id, fromTag, sdp, branch === undefined ? flags : { ...flags, branch });
  }

  /** The leg `toTag` answers the pending offer of `fromTag`; resolves with the SDP for the offerer. */
  answer(fromTag: string, toTag: string, answerer: MediaProfile, sdp: string): Promise<string> {
    return this.engine.answer(this.id, fromTag, toTag, sdp, this.answerFlags(answerer));
  }

  /** Forgets one fork: its offer's keys, and its early media if it answered in a provisional. */
  async forget(tag: string): Promise<void> {
    if (this.closed) return;
    await this.engine.delete(this.id, tag);
  }

  /** Frees the call's ports. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.engine.delete(this.id);
  }
}
