/**
 * Errors of the SRTP layer (RFC 3711, RFC 7714).
 *
 * Every error carries a stable `code`. Messages name what went wrong and, where useful, the SSRC
 * and packet index (both travel in clear in every packet); they never carry key, salt, tag or
 * payload bytes.
 *
 * A replayed packet and a forged one are rejected on the same path: {@link SrtpReplayError} is a
 * subclass of {@link SrtpAuthError} with the same code, so a caller that drops on
 * `instanceof SrtpAuthError` (or `code === 'ERR_SRTP_AUTH'`) drops both, and can still tell them
 * apart for statistics through `reason`.
 */

export type SrtpErrorCode =
  | 'ERR_SRTP_FORMAT'
  | 'ERR_SRTP_AUTH'
  | 'ERR_SRTP_CONFIG'
  | 'ERR_SRTP_STREAM_LIMIT'
  | 'ERR_SRTP_KEY_USAGE';

/** Base class: every error thrown by media/srtp is an instance of it. */
export abstract class SrtpError extends Error {
  abstract readonly code: SrtpErrorCode;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Why a packet was rejected before any cryptographic work. */
export type SrtpFormatReason =
  | 'too-short'
  | 'too-long'
  | 'bad-version'
  | 'csrc-past-end'
  | 'extension-past-end';

/** The packet cannot be an (S)RTP/(S)RTCP packet: rejected before any crypto (RFC 3550 §5.1, §6.4). */
export class SrtpFormatError extends SrtpError {
  readonly code = 'ERR_SRTP_FORMAT';
  constructor(
    readonly reason: SrtpFormatReason,
    /** 'rtp' or 'rtcp': which parser rejected it. */
    readonly kind: 'rtp' | 'rtcp',
  ) {
    super(`malformed ${kind === 'rtp' ? 'RTP' : 'RTCP'} packet: ${reason}`);
  }
}

/**
 * 'tag-mismatch': the tag does not verify; 'replayed' / 'too-old': see SrtpReplayError;
 * 'unknown-mki': the packet's MKI is not the context's (RFC 3711 §3.3 step 1), refused before any crypto.
 */
export type SrtpAuthReason = 'tag-mismatch' | 'replayed' | 'too-old' | 'unknown-mki';

/** The packet failed authentication (RFC 3711 §3.3 step 5, RFC 7714 §8.2): drop it. */
export class SrtpAuthError extends SrtpError {
  readonly code = 'ERR_SRTP_AUTH';
  constructor(
    readonly reason: SrtpAuthReason,
    readonly ssrc: number,
    /** RTP: the estimated 48-bit packet index; RTCP: the SRTCP index. */
    readonly index: number,
    kind: 'rtp' | 'rtcp',
  ) {
    super(`${kind === 'rtp' ? 'SRTP' : 'SRTCP'} packet rejected (${reason}) ssrc=0x${hex32(ssrc)} index=${index}`);
  }
}

/**
 * The packet index was already accepted, or lies behind the replay window (RFC 3711 §3.3.2).
 * Detected before authentication, so no crypto is spent on it.
 */
export class SrtpReplayError extends SrtpAuthError {
  constructor(reason: 'replayed' | 'too-old', ssrc: number, index: number, kind: 'rtp' | 'rtcp') {
    super(reason, ssrc, index, kind);
  }
}

/** A context option is unusable (unknown profile, wrong key or salt length, bad window size, ...). */
export class SrtpConfigError extends SrtpError {
  readonly code = 'ERR_SRTP_CONFIG';
}

/** A new SSRC would exceed the context's `maxStreams` bound. */
export class SrtpStreamLimitError extends SrtpError {
  readonly code = 'ERR_SRTP_STREAM_LIMIT';
  constructor(
    readonly ssrc: number,
    readonly maxStreams: number,
  ) {
    super(`SSRC 0x${hex32(ssrc)} refused: the context already tracks ${maxStreams} streams`);
  }
}

export type SrtpKeyUsageReason = 'index-reused' | 'index-too-old' | 'index-exhausted';

/**
 * The sender refuses to protect a packet: its index was already used with this key (a keystream
 * or GCM nonce would repeat: RFC 3711 §9.1, RFC 7714 §8.1), is too old to tell, or the key's
 * index space is used up (RFC 3711 §9.2: 2^48 SRTP / 2^31 SRTCP packets): re-key.
 */
export class SrtpKeyUsageError extends SrtpError {
  readonly code = 'ERR_SRTP_KEY_USAGE';
  constructor(
    readonly reason: SrtpKeyUsageReason,
    readonly ssrc: number,
    readonly index: number,
  ) {
    super(`refusing to protect ssrc=0x${hex32(ssrc)} index=${index}: ${reason}`);
  }
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
