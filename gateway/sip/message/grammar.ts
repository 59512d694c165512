/**
 * The header grammar of RFC 3261 §25.1 the parser and the layers above share: re-exports of the
 * structured parsers (URI, name-addr, Via, parameters) and the small scalar headers.
 */
import { CLASS, TOKEN, WORD, isToken, parseDecimal, skipWsp } from './chars';
import { malformed } from './errors';
import { cursor, parseParamsAt } from './params';
import type { CSeq, Params } from './types';

export { isToken } from './chars';
export { isHost, isHostname, isIPv4, isIPv6 } from './host';
export { parseNameAddr, parseNameAddrAt, parseNameAddrList, salvageNameAddr, serializeNameAddr } from './nameaddr';
export { type Cursor, cursor, parseParams, parseParamsAt, quote, scanQuotedString, serializeParams, unquote } from './params';
export { parseUri, serializeUri, unescapeUriPart } from './uri';
export { parseVia, parseViaAt, salvageVia, serializeVia } from './via';

/** RFC 3261 §8.1.1.5: a CSeq number is a 32-bit unsigned integer (we generate < 2**31). */
export const MAX_CSEQ = 0xffffffff;

/**
 * CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16). Leading zeros are allowed (RFC 4475 §3.1.1.1);
 * values beyond 2**32-1 are rejected (RFC 4475 §3.1.2.4).
 */
export function parseCSeq(text: string): CSeq {
  const end = text.length;
  let i = skipWsp(text, 0, end);
  const ds = i;
  while (i < end && i - ds < 11) {
    const d = text.charCodeAt(i);
    if (d < 48 || d > 57) break;
    i++;
  }
  const seq = parseDecimal(text, ds, i, MAX_CSEQ);
  const ms = skipWsp(text, i, end);
  if (seq < 0 || ms === i) throw malformed('CSeq');
  let me = ms;
  while (me < end) {
    const ch = text.charCodeAt(me);
    if (!(ch < 128 && (CLASS[ch] & TOKEN) !== 0)) break;
    me++;
  }
  if (me === ms || skipWsp(text, me, end) !== end) throw malformed('CSeq');
  return { seq, method: text.slice(ms, me) };
}

/**
 * Best-effort reading of a CSeq that failed parseCSeq only because its number is out of range:
 * `1*DIGIT LWS Method` with at most 32 digits, returned as "digits method" for echoing in a 400.
 */
export function salvageCSeq(text: string): { value: string; method: string } | undefined {
  const end = text.length;
  const ds = skipWsp(text, 0, end);
  let i = ds;
  while (i < end && i - ds <= 32 && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  const ms = skipWsp(text, i, end);
  if (i === ds || i - ds > 32 || ms === i) return undefined;
  let me = ms;
  while (me < end) {
    const ch = text.charCodeAt(me);
    if (!(ch < 128 && (CLASS[ch] & TOKEN) !== 0)) break;
    me++;
  }
  if (me === ms || skipWsp(text, me, end) !== end) return undefined;
  const method = text.slice(ms, me);
  return { value: `${text.slice(ds, i)} ${method}`, method };
}

export function serializeCSeq(cseq: CSeq): string {
  return `${cseq.seq} ${cseq.method}`;
}

/** callid = word [ "@" word ] (RFC 3261 §25.1). */
export function isCallId(text: string): boolean {
  let at = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 64 /* @ */) {
      if (at >= 0 || i === 0 || i === text.length - 1) return false;
      at = i;
    } else if (!(c < 128 && (CLASS[c] & WORD) !== 0)) {
      return false;
    }
  }
  return text.length > 0;
}

/**
 * Splits a list header value on top-level commas (RFC 3261 §7.3.1), ignoring commas inside
 * quoted-strings and <>. Elements are trimmed; empty elements are dropped. Throws when a quote or
 * angle bracket is left open, since the elements could then not be told apart. With `max`, returns
 * undefined as soon as a (max+1)th element is found, without scanning the rest.
 */
export function splitList(text: string): string[];
export function splitList(text: string, max: number): string[] | undefined;
export function splitList(text: string, max = Number.MAX_SAFE_INTEGER): string[] | undefined {
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  const end = text.length;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (inQuote) {
      if (c === 92) i++;
      else if (c === 34) inQuote = false;
    } else if (c === 34) {
      inQuote = true;
    } else if (c === 60) {
      inAngle = true;
    } else if (c === 62) {
      inAngle = false;
    } else if (c === 44 && !inAngle) {
      pushTrimmed(out, text, start, i);
      if (out.length > max) return undefined;
      start = i + 1;
    }
  }
  if (inQuote || inAngle) throw malformed('list');
  pushTrimmed(out, text, start, end);
  return out.length > max ? undefined : out;
}

function pushTrimmed(out: string[], s: string, i: number, e: number): void {
  i = skipWsp(s, i, e);
  while (e > i && (s.charCodeAt(e - 1) === 32 || s.charCodeAt(e - 1) === 9)) e--;
  if (e > i) out.push(s.slice(i, e));
}

/** media-type = m-type SLASH m-subtype *(SEMI m-parameter) (RFC 3261 §20.15, RFC 2045 §5.1). */
export interface MediaType {
  /** Lower-cased, e.g. "application". */
  type: string;
  /** Lower-cased, e.g. "sdp". */
  subtype: string;
  /** Names lower-cased; quoted values keep their quotes. */
  params: Params;
}

/** Parses a Content-Type (or one Accept element). */
export function parseMediaType(text: string): MediaType {
  const c = cursor(text);
  const s = text;
  let i = skipWsp(s, 0, s.length);
  const ts = i;
  while (i < s.length && s.charCodeAt(i) !== 47 && !isSpace(s.charCodeAt(i))) i++;
  const type = s.slice(ts, i);
  i = skipWsp(s, i, s.length);
  if (s.charCodeAt(i) !== 47 || !isToken(type)) throw malformed('media type');
  i = skipWsp(s, i + 1, s.length);
  const ss = i;
  while (i < s.length && s.charCodeAt(i) !== 59 && !isSpace(s.charCodeAt(i))) i++;
  const subtype = s.slice(ss, i);
  if (!isToken(subtype)) throw malformed('media type');
  const params: Params = new Map();
  c.i = i;
  parseParamsAt(c, params);
  if (c.i !== c.end) throw malformed('media type');
  return { type: type.toLowerCase(), subtype: subtype.toLowerCase(), params };
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}
