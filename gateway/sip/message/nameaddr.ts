/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1): From, To, Contact,
 * Route, Record-Route, Reply-To and similar headers.
 *
 * The rule that matters (RFC 3261 §20.10): without angle brackets, every parameter after the URI
 * belongs to the HEADER, not the URI, and a URI containing a comma, question mark or semicolon
 * MUST be enclosed in <>. So an addr-spec ends at the first ";" and may not hold a "?"
 * (RFC 4475 §3.1.2.13 regbadct).
 */
import { CLASS, TOKEN, WSP, skipWsp } from './chars';
import { SipParseError, malformed } from './errors';
import { type Cursor, cursor, parseParamsAt, quote, scanQuotedString, serializeParams, unquote } from './params';
import type { NameAddr, Params, Uri } from './types';
import { parseUri, serializeUri } from './uri';

/**
 * One name-addr or addr-spec and its parameters from c.i. In a list (`inList`), a comma ends the
 * value; c.i is left on it. The display name is returned unquoted and unescaped; a token-form
 * display name (`caller <sip:...>`, RFC 4475 §3.1.1.6) keeps its inner whitespace.
 */
export function parseNameAddrAt(c: Cursor, inList: boolean): NameAddr {
  const s = c.s;
  const end = c.end;
  let i = skipWsp(s, c.i, end);
  let displayName: string | undefined;
  let bracketed = false;
  const first = s.charCodeAt(i);
  if (first === 34 /* " */) {
    const q = scanQuotedString(s, i, end);
    displayName = unquote(s.slice(i, q));
    i = skipWsp(s, q, end);
    if (s.charCodeAt(i) !== 60) throw malformed('name-addr');
    bracketed = true;
  } else if (first === 60 /* < */) {
    bracketed = true;
  } else {
    // display-name = *(token LWS): only a "<" after a run of tokens makes it one.
    let j = i;
    while (j < end) {
      const ch = s.charCodeAt(j);
      if (!(ch < 128 && (CLASS[ch] & (TOKEN | WSP)) !== 0)) break;
      j++;
    }
    if (j > i && j < end && s.charCodeAt(j) === 60) {
      let e = j;
      while (e > i && (s.charCodeAt(e - 1) === 32 || s.charCodeAt(e - 1) === 9)) e--;
      displayName = s.slice(i, e);
      i = j;
      bracketed = true;
    }
  }
  let uri: Uri;
  if (bracketed) {
    // No LWS is allowed inside <> (RFC 4475 §3.1.2.14 badaspec): parseUri rejects it.
    const close = s.indexOf('>', i + 1);
    if (close < 0 || close >= end) throw malformed('name-addr');
    uri = parseUri(s.slice(i + 1, close));
    i = close + 1;
  } else {
    let j = i;
    while (j < end) {
      const ch = s.charCodeAt(j);
      if (ch === 59 || ch === 32 || ch === 9 || (ch === 44 && inList)) break;
      if (ch === 63 /* ? */) throw malformed('addr-spec');
      j++;
    }
    uri = parseUri(s.slice(i, j));
    i = j;
  }
  const params: Params = new Map();
  c.i = i;
  parseParamsAt(c, params);
  return displayName === undefined ? { uri, params } : { displayName, uri, params };
}

/** Parses a single name-addr or addr-spec with parameters (From, To, one Route value ...). */
export function parseNameAddr(text: string): NameAddr {
  const c = cursor(text);
  const addr = parseNameAddrAt(c, false);
  if (c.i !== c.end) throw malformed('name-addr');
  return addr;
}

/**
 * Parses a comma-separated list of name-addrs (Route, Record-Route, Contact, Path ...).
 * `max` bounds the number of values: a longer list throws before parsing the rest.
 */
export function parseNameAddrList(text: string, max = Number.MAX_SAFE_INTEGER): NameAddr[] {
  const c = cursor(text);
  const out: NameAddr[] = [];
  for (;;) {
    if (out.length >= max) throw new SipParseError(400, 'Bad Request - Too Many Values');
    out.push(parseNameAddrAt(c, true));
    if (c.i === c.end) return out;
    if (c.s.charCodeAt(c.i) !== 44 /* , */) throw malformed('name-addr');
    c.i++;
  }
}

/**
 * Writes a name-addr. Always the bracketed form, so URI parameters and header parameters can
 * never be confused; the display name is always quoted.
 */
export function serializeNameAddr(addr: NameAddr): string {
  const uri = '<' + serializeUri(addr.uri) + '>';
  const head = addr.displayName === undefined ? uri : quote(addr.displayName) + ' ' + uri;
  return addr.params.size === 0 ? head : head + serializeParams(addr.params);
}

/**
 * Best-effort reading of a From/To value that failed strict parsing, used only to address a 400
 * (RFC 3261 §8.2.6.2 copies From and To): the URI between the first "<" and the next ">", and a
 * `tag` parameter after it. Returns undefined when even that cannot be read.
 */
export function salvageNameAddr(text: string): NameAddr | undefined {
  const open = text.indexOf('<');
  const close = open < 0 ? -1 : text.indexOf('>', open);
  if (close < 0) return undefined;
  let uri: Uri;
  try {
    uri = parseUri(text.slice(open + 1, close).trim());
  } catch {
    return undefined;
  }
  const params: Params = new Map();
  const t = text.indexOf(';tag=', close);
  if (t >= 0) {
    let e = t + 5;
    while (e < text.length && e - t < 260) {
      const ch = text.charCodeAt(e);
      if (!(ch < 128 && (CLASS[ch] & TOKEN) !== 0)) break;
      e++;
    }
    if (e > t + 5) params.set('tag', text.slice(t + 5, e));
  }
  return { uri, params };
}
