/**
 * Errors of the SDP layer (RFC 4566, RFC 3264) and of SDES key exchange (RFC 4568).
 *
 * Both carry a `status` and a `reason` phrase the SIP core can answer with directly
 * (RFC 3261 §21.4.1 400 Bad Request for a body it cannot parse, §21.4.26 488 Not Acceptable Here
 * for a session description it understands but will not accept). The phrase and the message are
 * built only from constants, line numbers and tag numbers: never from received text, so they are
 * safe on the wire and in logs, and never contain key material.
 */

export type SdpErrorCode =
  | 'too-large'
  | 'too-many-lines'
  | 'too-many-media'
  | 'encoding'
  | 'malformed-line'
  | 'unknown-line-type'
  | 'line-out-of-place'
  | 'duplicate-line'
  | 'missing-version'
  | 'bad-version'
  | 'missing-origin'
  | 'malformed-origin'
  | 'missing-session-name'
  | 'missing-timing'
  | 'malformed-timing'
  | 'malformed-connection'
  | 'unsupported-connection'
  | 'missing-connection'
  | 'malformed-media'
  | 'unsupported-media'
  | 'port-out-of-range'
  | 'malformed-attribute'
  | 'conflicting-direction'
  | 'no-common-codec';

/** Codes answered with 488: well-formed SDP this gateway does not support or accept. */
const NOT_ACCEPTABLE: ReadonlySet<SdpErrorCode> = new Set<SdpErrorCode>([
  'too-many-media',
  'unsupported-connection',
  'unsupported-media',
  'no-common-codec',
]);

const PHRASE: Readonly<Record<SdpErrorCode, string>> = {
  'too-large': 'SDP body too large',
  'too-many-lines': 'SDP has too many lines',
  'too-many-media': 'SDP has too many media streams',
  encoding: 'SDP is not valid UTF-8',
  'malformed-line': 'Malformed SDP line',
  'unknown-line-type': 'Unknown SDP line type',
  'line-out-of-place': 'SDP line out of place',
  'duplicate-line': 'Duplicate SDP line',
  'missing-version': 'SDP missing v= line',
  'bad-version': 'Unsupported SDP version',
  'missing-origin': 'SDP missing o= line',
  'malformed-origin': 'Malformed SDP o= line',
  'missing-session-name': 'SDP missing s= line',
  'missing-timing': 'SDP missing t= line',
  'malformed-timing': 'Malformed SDP t= line',
  'malformed-connection': 'Malformed SDP c= line',
  'unsupported-connection': 'Unsupported SDP connection address',
  'missing-connection': 'SDP media without c= line',
  'malformed-media': 'Malformed SDP m= line',
  'unsupported-media': 'Unsupported SDP m= line',
  'port-out-of-range': 'SDP media port out of range',
  'malformed-attribute': 'Malformed SDP attribute',
  'conflicting-direction': 'Conflicting SDP direction attributes',
  'no-common-codec': 'No common codec',
};

/** A session description that cannot be parsed (400) or will not be accepted (488). */
export class SdpError extends Error {
  readonly code: SdpErrorCode;
  /** SIP status to answer an offer with. */
  readonly status: 400 | 488;
  /** Reason phrase for the SIP response, e.g. "Bad Request - SDP missing o= line". Wire-safe. */
  readonly reason: string;
  /** 1-based line number of the offending line, when one line is at fault. */
  readonly line: number | undefined;

  constructor(code: SdpErrorCode, line?: number) {
    const status = NOT_ACCEPTABLE.has(code) ? 488 : 400;
    const reason = `${status === 488 ? 'Not Acceptable Here' : 'Bad Request'} - ${PHRASE[code]}`;
    super(line === undefined ? reason : `${reason} (line ${line})`);
    this.name = 'SdpError';
    this.code = code;
    this.status = status;
    this.reason = reason;
    this.line = line;
  }
}

export type SdesErrorCode =
  /** The crypto attribute does not follow the RFC 4568 §9.1 grammar (or the suite's key length). */
  | 'malformed-crypto'
  /** Well-formed, but with a crypto-suite or key method this gateway does not implement. */
  | 'unsupported-crypto'
  /** An offer or answer without any a=crypto line for the stream. */
  | 'no-crypto'
  /** No a=crypto line of the offer is usable under our policy (RFC 4568 §7.1.2). */
  | 'no-usable-crypto'
  /** Every usable-looking line asked for UNENCRYPTED_* / UNAUTHENTICATED_SRTP (RFC 4568 §6.3.2, §6.3.3). */
  | 'weaker-security-refused'
  /** The answer carries more than one a=crypto line (RFC 4568 §7.1.2: exactly one). */
  | 'answer-not-single'
  /** The answer's tag was not offered (RFC 4568 §7.1.3). */
  | 'answer-tag-not-offered'
  /** The answer's suite differs from the offered line with that tag (RFC 4568 §7.1.3). */
  | 'answer-suite-mismatch'
  /** The answer's line is present but unusable (bad key, several keys, KDR, unknown parameter, ...). */
  | 'answer-unusable'
  /** The peer sent back our own key: both directions would share one key (two-time pad). */
  | 'key-reflected'
  /**
   * The peer kept its master key but changed its MKI (RFC 4568 §6.1). The MKI is not authenticated
   * (RFC 3711 §3.1): a fresh context for the old key would accept its old packets again.
   */
  | 'mki-changed'
  /** The CSPRNG produced a key this process already used or saw: refuse rather than reuse. */
  | 'key-reuse'
  /** A local configuration error: empty or unknown suite list. */
  | 'bad-configuration';

const SDES_PHRASE: Readonly<Record<SdesErrorCode, string>> = {
  'malformed-crypto': 'Malformed a=crypto attribute',
  'unsupported-crypto': 'Unsupported SRTP crypto suite or key method',
  'no-crypto': 'No a=crypto attribute',
  'no-usable-crypto': 'No acceptable SRTP crypto suite',
  'weaker-security-refused': 'Unencrypted or unauthenticated SRTP refused',
  'answer-not-single': 'Answer must carry exactly one a=crypto attribute',
  'answer-tag-not-offered': 'Answered a=crypto tag was not offered',
  'answer-suite-mismatch': 'Answered crypto suite does not match the offer',
  'answer-unusable': 'Answered a=crypto attribute not acceptable',
  'key-reflected': 'SRTP key reflected',
  'mki-changed': 'SRTP key kept with a new MKI',
  'key-reuse': 'SRTP key generation failed',
  'bad-configuration': 'SDES configuration error',
};

/** Why one a=crypto line of an offer was not chosen. */
export type SdesSkipReason =
  | 'malformed'
  | 'unsupported-suite'
  | 'suite-not-allowed'
  | 'weaker-security'
  | 'kdr-unsupported'
  /** Several master keys told apart by MKI (RFC 4568 §6.1): one key per direction only. */
  | 'multiple-keys-unsupported'
  | 'unknown-session-parameter'
  | 'duplicate-tag';

/** One skipped a=crypto line: its position in the offer and its tag when readable. No key bytes. */
export interface SkippedCrypto {
  readonly index: number;
  readonly tag: number | undefined;
  readonly reason: SdesSkipReason;
}

/** SDES key exchange failed: answer 488 (RFC 4568 §7.1.2, RFC 3261 §21.4.26). Never carries key bytes. */
export class SdesError extends Error {
  readonly code: SdesErrorCode;
  readonly status = 488;
  /** Reason phrase for the SIP response, e.g. "Not Acceptable Here - No acceptable SRTP crypto suite". */
  readonly reason: string;
  /** The a=crypto tag concerned, when known. */
  readonly tag: number | undefined;
  /** For an offer: why each line was unusable (diagnostics and statistics). */
  readonly skipped: readonly SkippedCrypto[];

  constructor(code: SdesErrorCode, tag?: number, skipped: readonly SkippedCrypto[] = []) {
    const reason = `Not Acceptable Here - ${SDES_PHRASE[code]}`;
    super(tag === undefined ? reason : `${reason} (tag ${tag})`);
    this.name = 'SdesError';
    this.code = code;
    this.reason = reason;
    this.tag = tag;
    this.skipped = skipped;
  }
}
