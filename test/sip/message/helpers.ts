/** Builders for SIP test messages. */
import { SipParseError } from '../../../gateway/sip/message/errors';
import type { SipRequest, SipResponse } from '../../../gateway/sip/message/message';
import { type ParseOptions, parseMessage } from '../../../gateway/sip/message/parser';

/** Joins header lines with CRLF, adds the empty line and the body. */
export function wire(lines: string[], body = ''): Buffer {
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body);
}

/** The header lines of a minimal valid request (RFC 3261 §8.1.1), start line first. */
export function requestLines(method = 'OPTIONS', extra: string[] = []): string[] {
  return [
    `${method} sip:bob@biloxi.example.com SIP/2.0`,
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
    'Max-Forwards: 70',
    'To: Bob <sip:bob@biloxi.example.com>',
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    `CSeq: 314159 ${method}`,
    ...extra,
  ];
}

export function responseLines(status = '200 OK', extra: string[] = []): string[] {
  return [
    `SIP/2.0 ${status}`,
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1',
    'To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf',
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    'CSeq: 314159 INVITE',
    ...extra,
  ];
}

export function parseRequest(data: Buffer, opts: ParseOptions = { stream: false }): SipRequest {
  const m = parseMessage(data, opts);
  if (m.kind !== 'request') throw new Error('expected a request');
  return m;
}

export function parseResponse(data: Buffer, opts: ParseOptions = { stream: false }): SipResponse {
  const m = parseMessage(data, opts);
  if (m.kind !== 'response') throw new Error('expected a response');
  return m;
}

/** Parses and returns the SipParseError it must throw. */
export function parseError(data: Buffer, opts: ParseOptions = { stream: false }): SipParseError {
  try {
    parseMessage(data, opts);
  } catch (e) {
    if (e instanceof SipParseError) return e;
    throw e;
  }
  throw new Error('expected a SipParseError');
}
