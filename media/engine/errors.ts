/**
 * Errors of the MediaEngine interface. Each carries the SIP status the B2BUA answers the INVITE
 * (or re-INVITE) with and a wire-safe reason phrase built from constants only (RFC 3261 §21.4.26
 * 488 Not Acceptable Here for a description we will not accept, §21.5.4 503 Service Unavailable
 * when the engine is out of resources, §21.5.1 500 for an engine fault). Never any key material.
 */
import { RelayError } from '../relay/pool';
import { SdesError, SdpError } from '../sdp';

export type MediaEngineErrorCode =
  /** The SDP does not parse (400) or is not acceptable (488): see `cause`. */
  | 'bad-sdp'
  /** SDES negotiation failed (488): see `cause` (an SdesError). */
  | 'sdes'
  /** No codec both legs allow (488). */
  | 'no-common-codec'
  /** No allowed codec offered, transcoding allowed, but no codec on one side media/codecs can transcode (488). */
  | 'transcoding-unavailable'
  /** A transport this engine cannot terminate, e.g. DTLS-SRTP outside pass-through (488). */
  | 'unsupported-transport'
  /** requireSecure, and the leg offers neither SDES-SRTP nor DTLS-SRTP/ZRTP (488). */
  | 'insecure-leg'
  /** SDES a=crypto on a pass-through stream: the key would transit the gateway (488). */
  | 'sdes-in-pass-through'
  /** rtcpMux 'require' and the answer did not accept a=rtcp-mux (488). */
  | 'rtcp-mux-required'
  /** A media address of the other IP family than the engine's (488). */
  | 'address-family'
  /** The media port range is used up (503). */
  | 'ports-exhausted'
  /** An answer without an offer, or from a tag that did not offer (500: a B2BUA bug). */
  | 'no-pending-offer'
  /** A tag that is not a leg of the call (500: a B2BUA bug). */
  | 'unknown-leg'
  /** query() on a call the engine does not know (500). */
  | 'unknown-call'
  /** The answer does not match the offer (m= lines added or removed: RFC 3264 §6) (488). */
  | 'answer-mismatch'
  /** The relay failed (a worker died) or the engine is closed (500/503). */
  | 'relay-failed'
  | 'engine-closed';

const STATUS: Readonly<Record<MediaEngineErrorCode, 400 | 488 | 500 | 503>> = {
  'bad-sdp': 488,
  sdes: 488,
  'no-common-codec': 488,
  'transcoding-unavailable': 488,
  'unsupported-transport': 488,
  'insecure-leg': 488,
  'sdes-in-pass-through': 488,
  'rtcp-mux-required': 488,
  'address-family': 488,
  'ports-exhausted': 503,
  'no-pending-offer': 500,
  'unknown-leg': 500,
  'unknown-call': 500,
  'answer-mismatch': 488,
  'relay-failed': 500,
  'engine-closed': 503,
};

const PHRASE: Readonly<Record<MediaEngineErrorCode, string>> = {
  'bad-sdp': 'Not Acceptable Here - Bad session description',
  sdes: 'Not Acceptable Here - SRTP negotiation failed',
  'no-common-codec': 'Not Acceptable Here - No common codec',
  'transcoding-unavailable': 'Not Acceptable Here - No common codec',
  'unsupported-transport': 'Not Acceptable Here - Unsupported media transport',
  'insecure-leg': 'Not Acceptable Here - Encrypted media required',
  'sdes-in-pass-through': 'Not Acceptable Here - SDES keys not allowed end to end',
  'rtcp-mux-required': 'Not Acceptable Here - RTCP multiplexing required',
  'address-family': 'Not Acceptable Here - Unsupported media address family',
  'ports-exhausted': 'Service Unavailable - No media ports',
  'no-pending-offer': 'Server Internal Error',
  'unknown-leg': 'Server Internal Error',
  'unknown-call': 'Server Internal Error',
  'answer-mismatch': 'Not Acceptable Here - Answer does not match offer',
  'relay-failed': 'Server Internal Error',
  'engine-closed': 'Service Unavailable',
};

export class MediaEngineError extends Error {
  readonly code: MediaEngineErrorCode;
  /** SIP status for the B2BUA's response. */
  readonly status: 400 | 488 | 500 | 503;
  /** Reason phrase for that response ("Not Acceptable Here - ..."). Wire-safe. */
  readonly reason: string;

  constructor(code: MediaEngineErrorCode, detail?: string, options?: { cause?: unknown; status?: 400 | 488; reason?: string }) {
    const reason = options?.reason ?? PHRASE[code];
    super(detail === undefined ? reason : `${reason} (${detail})`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MediaEngineError';
    this.code = code;
    this.status = options?.status ?? STATUS[code];
    this.reason = reason;
  }

  /** Wraps the SDP, SDES and relay layers' errors (keeping their status and reason); rethrows anything else. */
  static from(e: unknown): MediaEngineError {
    if (e instanceof MediaEngineError) return e;
    if (e instanceof RelayError) return new MediaEngineError('relay-failed', undefined, { cause: e });
    if (e instanceof SdpError) {
      const code = e.code === 'no-common-codec' ? 'no-common-codec' : 'bad-sdp';
      return new MediaEngineError(code, e.code, { cause: e, status: e.status, reason: e.reason });
    }
    if (e instanceof SdesError) return new MediaEngineError('sdes', e.code, { cause: e, reason: e.reason });
    throw e;
  }
}

/** The port range is used up: the B2BUA answers 503 (or 488 on a re-INVITE). */
export class MediaPortsExhaustedError extends MediaEngineError {
  constructor(detail?: string) {
    super('ports-exhausted', detail);
    this.name = 'MediaPortsExhaustedError';
  }
}
