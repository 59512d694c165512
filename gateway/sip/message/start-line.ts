/**
 * Request-Line and Status-Line (RFC 3261 §7.1, §7.2, §25.1).
 *
 *   Request-Line = Method SP Request-URI SP SIP-Version CRLF
 *   Status-Line  = SIP-Version SP Status-Code SP Reason-Phrase CRLF
 *
 * Exactly one SP between elements: extra, leading or trailing SP (RFC 4475 §3.1.2.9, §3.1.2.10),
 * LWS inside the Request-URI (§3.1.2.8) and <> around it (§3.1.2.7) are all malformed.
 */
import { isToken } from './chars';
import { SipParseError } from './errors';
import type { Uri } from './types';
import { parseUri } from './uri';

export type StartLine =
  | { kind: 'request'; method: string; uri?: Uri; fault?: SipParseError }
  | { kind: 'response'; status: number; reason: string };

/** True when the line starts with "SIP/" (case-insensitively): a Status-Line, since "/" is not a token character. */
export function isStatusLine(line: string): boolean {
  return (
    line.length > 4 &&
    (line.charCodeAt(0) | 32) === 115 &&
    (line.charCodeAt(1) | 32) === 105 &&
    (line.charCodeAt(2) | 32) === 112 &&
    line.charCodeAt(3) === 47
  );
}

/**
 * Classifies SIP-Version ("SIP" "/" 1*DIGIT "." 1*DIGIT, case-insensitive): 'ok' for SIP/2.0,
 * 'other' for a well-formed other version (answered with 505, RFC 3261 §21.5.7, RFC 4475
 * §3.1.2.16), 'bad' otherwise.
 */
function version(v: string): 'ok' | 'other' | 'bad' {
  if (v.length === 7 && isStatusLine(v) && v.charCodeAt(4) === 50 && v.charCodeAt(5) === 46 && v.charCodeAt(6) === 48) {
    return 'ok';
  }
  if (!isStatusLine(v)) return 'bad';
  const dot = v.indexOf('.', 4);
  if (dot <= 4 || dot === v.length - 1 || dot - 4 > 5 || v.length - dot > 6) return 'bad';
  for (let i = 4; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (i !== dot && (c < 48 || c > 57)) return 'bad';
  }
  return 'other';
}

const BAD_REQUEST_LINE = 'Bad Request - Malformed Request-Line';

/**
 * Parses a Request-Line. A malformed one is returned with `fault` set rather than thrown, so the
 * parser can still read the headers a 400 needs (RFC 4475 §3.1.2: the answer is 400, not silence).
 */
export function parseRequestLine(line: string): StartLine & { kind: 'request' } {
  const sp1 = line.indexOf(' ');
  const method = sp1 > 0 ? line.slice(0, sp1) : line;
  if (!isToken(method)) return { kind: 'request', method: '', fault: new SipParseError(400, BAD_REQUEST_LINE) };
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp2 <= sp1 + 1) return { kind: 'request', method, fault: new SipParseError(400, BAD_REQUEST_LINE) };
  const v = version(line.slice(sp2 + 1));
  if (v === 'bad') return { kind: 'request', method, fault: new SipParseError(400, BAD_REQUEST_LINE) };
  let uri: Uri;
  try {
    uri = parseUri(line.slice(sp1 + 1, sp2));
  } catch {
    return { kind: 'request', method, fault: new SipParseError(400, 'Bad Request - Malformed Request-URI') };
  }
  // RFC 3261 §19.1.1 (table): headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
  if ((uri.scheme === 'sip' || uri.scheme === 'sips') && 'headers' in uri && uri.headers.size > 0) {
    return { kind: 'request', method, uri, fault: new SipParseError(400, 'Bad Request - Headers in Request-URI') };
  }
  if (v === 'other') return { kind: 'request', method, uri, fault: new SipParseError(505, 'Version Not Supported') };
  return { kind: 'request', method, uri };
}

/**
 * Parses a Status-Line. Any fault throws: a response is never answered, only dropped
 * (RFC 4475 §3.1.2.19 bigcode: Status-Code is exactly 3 digits, 100..699).
 */
export function parseStatusLine(line: string): StartLine & { kind: 'response' } {
  const sp = line.indexOf(' ');
  if (sp < 0 || version(line.slice(0, sp)) !== 'ok') throw new SipParseError(400, 'Bad Response - Malformed Status-Line');
  const d0 = line.charCodeAt(sp + 1) - 48;
  const d1 = line.charCodeAt(sp + 2) - 48;
  const d2 = line.charCodeAt(sp + 3) - 48;
  const after = line.length === sp + 4 ? 32 : line.charCodeAt(sp + 4);
  if (!(d0 >= 1 && d0 <= 6 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) || after !== 32) {
    throw new SipParseError(400, 'Bad Response - Malformed Status-Line');
  }
  const reason = line.length > sp + 5 ? line.slice(sp + 5) : '';
  for (let i = 0; i < reason.length; i++) {
    const c = reason.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) throw new SipParseError(400, 'Bad Response - Malformed Status-Line');
  }
  return { kind: 'response', status: d0 * 100 + d1 * 10 + d2, reason };
}
