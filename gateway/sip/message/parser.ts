/**
 * The SIP message parser (RFC 3261 §7, §18.3, §20; RFC 4475).
 *
 * One pass over the header section with native `indexOf` for line ends; structured headers are
 * scanned character by character with table lookups (chars.ts), never with backtracking regular
 * expressions. Every loop is bounded by the message size, and `ParserLimits` bound the work an
 * attacker can ask for (RFC 3261 §26.1.5 / RFC 4475 §3.1.1.7: long values must not hurt).
 *
 * A malformed request is not dropped silently: the parser keeps reading the header fields a 400
 * needs (Via, From, To, Call-ID, CSeq) and throws a SipParseError whose `partial` lets the core
 * answer (RFC 4475 §3.1.2). A malformed response is always dropped (`canRespond` false).
 */
import { SipParseError } from './errors';
import { HeaderFields } from './header-fields';
import { CLASS, TOKEN } from './chars';
import { KNOWN_NAMES, canonicalNameAt } from './headers';
import { SipRequest, SipResponse, type SipMessage } from './message';
import { isStatusLine, parseRequestLine, parseStatusLine } from './start-line';

/** Bounds on the work one message may cause. */
export interface ParserLimits {
  /** Whole message in bytes; beyond it the message is refused unread (513). */
  maxMessageSize: number;
  /** Header fields (after unfolding) in one message. */
  maxHeaders: number;
  /** Characters in one header field, folded lines included. */
  maxHeaderLineLength: number;
  /** Values of one list header across all its fields: Via, Contact, Route, Accept ... */
  maxListValues: number;
}

/** Limits already complete (built by parserLimits): used as they are, not merged again per message. */
const RESOLVED = new WeakSet<object>();

function completeLimits(base: Readonly<ParserLimits>, partial: Partial<ParserLimits>): Readonly<ParserLimits> {
  // One literal, one key order: every limits object the parser sees has the same hidden class.
  const limits: Readonly<ParserLimits> = Object.freeze({
    maxMessageSize: partial.maxMessageSize ?? base.maxMessageSize,
    maxHeaders: partial.maxHeaders ?? base.maxHeaders,
    maxHeaderLineLength: partial.maxHeaderLineLength ?? base.maxHeaderLineLength,
    maxListValues: partial.maxListValues ?? base.maxListValues,
  });
  RESOLVED.add(limits);
  return limits;
}

export const DEFAULT_PARSER_LIMITS: Readonly<ParserLimits> = completeLimits(
  { maxMessageSize: 65535, maxHeaders: 256, maxHeaderLineLength: 8192, maxListValues: 128 },
  {},
);

/**
 * The defaults overridden by `partial`, once: a caller that parses many messages with the same
 * limits (the stack) resolves them here rather than having every parse merge them again.
 */
export function parserLimits(partial: Partial<ParserLimits> = {}): Readonly<ParserLimits> {
  return completeLimits(DEFAULT_PARSER_LIMITS, partial);
}

export interface ParseOptions {
  /**
   * True for TCP/TLS (the transport framed the message by Content-Length, which is then REQUIRED,
   * RFC 3261 §18.3); false for UDP, where a missing Content-Length means "the rest of the datagram"
   * and octets after the body are ignored (RFC 4475 §3.1.1.8 dblreq).
   */
  stream: boolean;
  limits?: Partial<ParserLimits>;
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

/**
 * Index of the CR ending the line that starts at `pos`, or -1 when the line holds a bare CR or LF
 * or has no CRLF at all. Bare line ends are refused: parsers that disagree on them can be made to
 * see different headers in the same bytes.
 */
function lineEnd(s: string, pos: number): number {
  const lf = s.indexOf('\n', pos);
  if (lf <= pos || s.charCodeAt(lf - 1) !== 13) return -1;
  return s.indexOf('\r', pos) === lf - 1 ? lf - 1 : -1;
}

function trimEnd(s: string, start: number, end: number): number {
  while (end > start) {
    const c = s.charCodeAt(end - 1);
    if (c !== 32 && c !== 9) break;
    end--;
  }
  return end;
}

/**
 * The value of a folded field: each CRLF and the whitespace around it become one SP
 * (RFC 3261 §7.3.1); empty physical lines of the value vanish.
 */
function unfold(s: string, from: number, to: number): string {
  let out = '';
  let i = from;
  while (i < to) {
    let e = s.indexOf('\r\n', i);
    if (e < 0 || e > to) e = to;
    let a = i;
    while (a < e && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
    const b = trimEnd(s, a, e);
    if (b > a) out = out.length === 0 ? s.slice(a, b) : out + ' ' + s.slice(a, b);
    i = e + 2;
  }
  return out;
}

function isTokenRange(s: string, i: number, end: number): boolean {
  if (i >= end) return false;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!(c < 128 && (CLASS[c] & TOKEN) !== 0)) return false;
  }
  return true;
}

/** Parses one SIP message. Throws SipParseError when it must be answered with an error or dropped. */
export function parseMessage(data: Buffer, opts: ParseOptions): SipMessage {
  const given = opts.limits;
  const limits = given === undefined ? DEFAULT_PARSER_LIMITS : RESOLVED.has(given) ? (given as Readonly<ParserLimits>) : parserLimits(given);
  if (data.length > limits.maxMessageSize) throw new SipParseError(513, 'Message Too Large');
  // RFC 3261 §7.5: CRLFs before the start-line are ignored.
  let start = 0;
  while (start + 1 < data.length && data[start] === 13 && data[start + 1] === 10) start += 2;
  if (start >= data.length - 1) throw new SipParseError(400, 'Bad Request - Empty Message');

  const blank = data.indexOf(CRLFCRLF, start);
  let head: string;
  let bodyStart: number;
  let missingBlankLine = false;
  if (blank >= 0) {
    head = data.toString('utf8', start, blank + 2);
    bodyStart = blank + 4;
  } else {
    // No empty line. A datagram that ends after a complete header line is read as having an
    // empty body (RFC 4475 §3.1.2.15 baddn arrives so); anything else is truncated.
    head = data.toString('utf8', start);
    bodyStart = data.length;
    const complete = data[data.length - 2] === 13 && data[data.length - 1] === 10;
    if (!complete) head += '\r\n';
    missingBlankLine = opts.stream || !complete;
  }

  const firstEnd = lineEnd(head, 0);
  if (firstEnd < 0) throw new SipParseError(400, 'Bad Request - Malformed Line Ending');
  const line = head.slice(0, firstEnd);
  const isRequest = !isStatusLine(line);
  const startLine = isRequest ? parseRequestLine(line) : parseStatusLine(line);
  const fields = new HeaderFields(isRequest, limits);
  if (startLine.kind === 'request' && startLine.fault !== undefined) fields.fault(startLine.fault.status, startLine.fault.reason);
  if (missingBlankLine) fields.fault(400, 'Bad Request - Missing Empty Line');

  // Header fields: name HCOLON value, continuation lines start with SP/HTAB (RFC 3261 §7.3.1).
  const end = head.length;
  let pos = firstEnd + 2;
  let count = 0;
  while (pos < end) {
    const physEnd = lineEnd(head, pos);
    if (physEnd < 0) throw fields.error(400, 'Bad Request - Malformed Line Ending');
    let valueEnd = physEnd;
    let next = physEnd + 2;
    let folded = false;
    while (next < end) {
      const c = head.charCodeAt(next);
      if (c !== 32 && c !== 9) break;
      valueEnd = lineEnd(head, next);
      if (valueEnd < 0) throw fields.error(400, 'Bad Request - Malformed Line Ending');
      next = valueEnd + 2;
      folded = true;
    }
    if (++count > limits.maxHeaders) throw fields.error(400, 'Bad Request - Too Many Headers');
    const colon = head.indexOf(':', pos);
    const nameEnd = colon < 0 || colon > physEnd ? -1 : trimEnd(head, pos, colon);
    // A name matching a known one is a token already; only unknown names need the check.
    const name = nameEnd < 0 ? '' : canonicalNameAt(head, pos, nameEnd);
    if (valueEnd - pos > limits.maxHeaderLineLength) {
      fields.fault(400, 'Bad Request - Header Too Long');
    } else if (nameEnd < 0 || (!KNOWN_NAMES.has(name) && !isTokenRange(head, pos, nameEnd))) {
      fields.fault(400, 'Bad Request - Malformed Header Line');
    } else {
      let value: string;
      if (folded) {
        value = unfold(head, colon + 1, valueEnd);
      } else {
        let vs = colon + 1;
        while (vs < valueEnd && (head.charCodeAt(vs) === 32 || head.charCodeAt(vs) === 9)) vs++;
        value = head.slice(vs, trimEnd(head, vs, valueEnd));
      }
      fields.add(name, value);
    }
    pos = next;
  }

  fields.finish(startLine.kind === 'request' && startLine.fault === undefined ? startLine.method : undefined);

  // Body (RFC 3261 §18.3, §20.14).
  const available = data.length - bodyStart;
  let bodyLength: number;
  if (fields.contentLength < 0) {
    if (opts.stream) fields.fault(400, 'Bad Request - Missing Content-Length');
    bodyLength = available;
  } else {
    bodyLength = fields.contentLength;
    if (bodyLength > available) fields.fault(400, 'Bad Request - Content-Length Exceeds Message');
  }
  const failure = fields.failure();
  if (failure !== undefined) throw failure;

  let body = EMPTY;
  if (bodyLength > 0) {
    body = Buffer.allocUnsafe(bodyLength);
    data.copy(body, 0, bodyStart, bodyStart + bodyLength);
  }
  const m = fields.complete();
  if (startLine.kind === 'request') {
    return new SipRequest({ method: startLine.method, uri: startLine.uri!, ...m, body });
  }
  return new SipResponse({ status: startLine.status, reason: startLine.reason, ...m, body });
}
