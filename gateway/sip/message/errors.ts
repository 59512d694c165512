/**
 * Errors of the SIP message layer.
 *
 * A `SipParseError` says what a receiver does with a message it cannot accept (RFC 3261 §8.2,
 * RFC 4475): answer it (`canRespond`, with the fields a response copies in `partial`) or drop it.
 * Its `reason` is a reason phrase built only from constants and canonical header names, never from
 * received bytes, so it is safe to put on the wire and in logs.
 */
import type { NameAddr, Via } from './types';

/**
 * What was recovered from a malformed request to address a response (RFC 3261 §8.2.6.2).
 * `via` and the CSeq are always present: they are what the sender's client transaction matches a
 * response on (RFC 3261 §17.1.3). From, To and Call-ID are copied when they could be read; for a
 * malformed From/To or Via, a best-effort reading (URI between <> and tag; sent-by) is kept.
 */
export interface ResponsePartial {
  via: Via[];
  /**
   * The CSeq value to echo, e.g. "8 INVITE". Text, not a CSeq, because an out-of-range number
   * (RFC 4475 §3.1.2.4 scalar02) is echoed as received: it is what the client matches on.
   */
  cseq: string;
  /** The CSeq method (tells the core whether an ACK will follow the error response). */
  method: string;
  from?: NameAddr;
  to?: NameAddr;
  callId?: string;
}

export class SipParseError extends Error {
  /** Status to answer with (400, 505, 513); meaningful only when `canRespond`. */
  readonly status: number;
  /** Reason phrase naming the fault, e.g. "Bad Request - Duplicate CSeq". Wire-safe. */
  readonly reason: string;
  /** True when the message is a request whose top Via and CSeq could be read, so it can be answered. */
  readonly canRespond: boolean;
  readonly partial?: ResponsePartial;

  constructor(status: number, reason: string, partial?: ResponsePartial) {
    super(reason);
    this.name = 'SipParseError';
    this.status = status;
    this.reason = reason;
    this.canRespond = partial !== undefined;
    if (partial !== undefined) this.partial = partial;
  }
}

/** A message the serializer refuses to write (it would not be one well-formed SIP message). */
export class SipSerializeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SipSerializeError';
  }
}

/** A 400 naming the construct that failed, e.g. `malformed('URI')` → "Bad Request - Malformed URI". */
export function malformed(what: string): SipParseError {
  return new SipParseError(400, `Bad Request - Malformed ${what}`);
}
