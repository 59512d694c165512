/**
 * quoted-string and generic-param (RFC 3261 §25.1), the two constructs every structured header
 * shares.
 *
 * Header values reach these scanners already unfolded (RFC 3261 §7.3.1), so the only whitespace
 * left is SP and HTAB. Parameter values keep their received form: a quoted-string value keeps its
 * quotes, so `;x="a;b"` round-trips and is never confused with a token.
 */
import { CLASS, GENVALUE, TOKEN, skipWsp } from './chars';
import { malformed } from './errors';
import { isIPv6 } from './host';
import type { Params } from './types';

/** A position in a header value. Scanners read `s` between `i` and `end` and advance `i`. */
export interface Cursor {
  s: string;
  i: number;
  end: number;
}

export function cursor(s: string): Cursor {
  return { s, i: 0, end: s.length };
}

/**
 * quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE, with s[i] the opening quote.
 * qdtext excludes control characters; quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F), so an
 * escaped NUL is legal (RFC 4475 §3.1.1.2) but an escaped CR or LF is not.
 * Returns the index after the closing quote.
 */
export function scanQuotedString(s: string, i: number, end: number): number {
  for (i++; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) return i + 1;
    if (c === 92) {
      const n = s.charCodeAt(++i);
      if (i >= end || n === 10 || n === 13 || n > 127) break;
    } else if ((c < 32 && c !== 9) || c === 127) {
      break;
    }
  }
  throw malformed('quoted-string');
}

/** The text of a quoted-string (quotes removed, quoted-pairs resolved). */
export function unquote(raw: string): string {
  const inner = raw.slice(1, -1);
  if (inner.indexOf('\\') < 0) return inner;
  let out = '';
  let last = 0;
  for (let i = inner.indexOf('\\'); i >= 0; i = inner.indexOf('\\', i + 2)) {
    out += inner.slice(last, i);
    last = i + 1;
  }
  return out + inner.slice(last);
}

/**
 * Text as a quoted-string: `"` and `\` and control characters become quoted-pairs. CR and LF
 * cannot be represented (RFC 3261 §25.1), so they throw: a value carrying them would split the
 * header line.
 */
export function quote(text: string): string {
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 || c === 92 || (c < 32 && c !== 9) || c === 127) {
      plain = false;
      break;
    }
  }
  if (plain) return `"${text}"`;
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) throw malformed('quoted-string');
    if (c === 34 || c === 92 || (c < 32 && c !== 9) || c === 127) out += '\\';
    out += text[i];
  }
  return out + '"';
}

/**
 * *( SEMI generic-param ) from c.i, with SEMI and EQUAL allowing SWS around them (RFC 3261 §25.1).
 * gen-value = token / host / quoted-string. Names are lower-cased; a repeated name is an error
 * (two `tag` or `branch` values would be ambiguous). Leaves c.i on the first character that is not
 * part of a parameter, after skipping whitespace.
 */
export function parseParamsAt(c: Cursor, params: Params): void {
  const s = c.s;
  const end = c.end;
  let i = skipWsp(s, c.i, end);
  while (i < end && s.charCodeAt(i) === 59 /* ; */) {
    i = skipWsp(s, i + 1, end);
    const ns = i;
    let upper = false;
    while (i < end) {
      const ch = s.charCodeAt(i);
      if (!(ch < 128 && (CLASS[ch] & TOKEN) !== 0)) break;
      if (ch <= 90 && ch >= 65) upper = true;
      i++;
    }
    if (i === ns) throw malformed('parameter');
    const name = upper ? s.slice(ns, i).toLowerCase() : s.slice(ns, i);
    let value: string | null = null;
    i = skipWsp(s, i, end);
    if (i < end && s.charCodeAt(i) === 61 /* = */) {
      i = skipWsp(s, i + 1, end);
      const vs = i;
      const first = s.charCodeAt(i);
      if (first === 34) {
        i = scanQuotedString(s, i, end);
      } else if (first === 91 /* [ */) {
        const close = s.indexOf(']', i);
        if (close < 0 || close >= end || !isIPv6(s, i + 1, close)) throw malformed('parameter');
        i = close + 1;
      } else {
        while (i < end) {
          const ch = s.charCodeAt(i);
          if (!(ch < 128 && (CLASS[ch] & GENVALUE) !== 0)) break;
          i++;
        }
      }
      if (i === vs) throw malformed('parameter');
      value = s.slice(vs, i);
      i = skipWsp(s, i, end);
    }
    if (params.has(name)) throw malformed('parameter');
    params.set(name, value);
  }
  c.i = i;
}

/** Parses a string of `;name[=value]` parameters (leading whitespace allowed) into a Params map. */
export function parseParams(text: string): Params {
  const c = cursor(text);
  const params: Params = new Map();
  parseParamsAt(c, params);
  if (c.i !== c.end) throw malformed('parameter');
  return params;
}

/** `;name=value;flag` — the inverse of parseParams. */
export function serializeParams(params: Params): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${value}`;
  return out;
}
