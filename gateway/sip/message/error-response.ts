/**
 * Stateless error responses to requests the parser refused (RFC 3261 §8.2.6, §21.4.1; RFC 4475
 * §3.1.2). The request never became a SipRequest, so the response is built from the fields the
 * parser recovered (`SipParseError.partial`) and returned as bytes, ready for the transport to
 * send to the top Via (RFC 3261 §18.2.2).
 */
import { randomBytes } from 'node:crypto';
import { type SipParseError, SipSerializeError } from './errors';
import { isToken, serializeNameAddr, serializeVia } from './grammar';

export interface ErrorResponseOptions {
  /** To tag to add when the request's To has none (RFC 3261 §8.2.6.2); random when omitted. */
  toTag?: string;
  /** Extra fields, e.g. [['Server', 'Ciphergate']]. Values must not contain CR or LF. */
  headers?: Array<[string, string]>;
}

/**
 * The wire bytes of the error response (status and reason of the error) when `err.canRespond`,
 * else undefined. Via and CSeq are always copied; From, To and Call-ID when they could be read
 * (a request missing them, RFC 4475 §3.3.1 insuf, still gets its 400).
 */
export function makeErrorResponse(err: SipParseError, opts: ErrorResponseOptions = {}): Buffer | undefined {
  const p = err.partial;
  if (!err.canRespond || p === undefined) return undefined;
  if (opts.toTag !== undefined && !isToken(opts.toTag)) throw new SipSerializeError('To tag is not a token');
  let head = `SIP/2.0 ${err.status} ${err.reason}\r\n`;
  for (const via of p.via) head += `Via: ${serializeVia(via)}\r\n`;
  if (p.from !== undefined) head += `From: ${serializeNameAddr(p.from)}\r\n`;
  if (p.to !== undefined) {
    const to = p.to;
    if (!to.params.has('tag')) {
      const params = new Map(to.params);
      params.set('tag', opts.toTag ?? randomBytes(8).toString('hex'));
      head += `To: ${serializeNameAddr({ ...to, params })}\r\n`;
    } else {
      head += `To: ${serializeNameAddr(to)}\r\n`;
    }
  }
  if (p.callId !== undefined) head += `Call-ID: ${p.callId}\r\n`;
  head += `CSeq: ${p.cseq}\r\n`;
  for (const [name, value] of opts.headers ?? []) {
    if (!isToken(name) || /[\r\n]/.test(value)) throw new SipSerializeError('unwritable extra header');
    head += `${name}: ${value}\r\n`;
  }
  head += 'Content-Length: 0\r\n\r\n';
  return Buffer.from(head, 'utf8');
}
