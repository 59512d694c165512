/**
 * Character classes of the SIP grammar (RFC 3261 §25.1), as one lookup table.
 *
 * Every scanner in this folder classifies a character with one array read and a bit test, never a
 * regular expression: parsing stays linear in the input and costs a few nanoseconds per character.
 * Only 7-bit characters have classes; UTF8-NONASCII is allowed solely inside quoted strings,
 * display names, reason phrases and untyped header values, which do not use this table.
 */

export const ALPHA = 1 << 0;
export const DIGIT = 1 << 1;
export const HEX = 1 << 2;
/** token (RFC 3261 §25.1): alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" */
export const TOKEN = 1 << 3;
/** unreserved: alphanum / mark. */
export const UNRESERVED = 1 << 4;
/** user: unreserved / user-unreserved (& = + $ , ; ? /). Escapes are handled by the scanner. */
export const USER = 1 << 5;
/** password: unreserved / & = + $ , */
export const PASSWORD = 1 << 6;
/** paramchar: param-unreserved ([ ] / : & + $) / unreserved. */
export const PARAM = 1 << 7;
/** hname / hvalue: hnv-unreserved ([ ] / ? : + $) / unreserved. */
export const HNV = 1 << 8;
/** word (Call-ID, RFC 3261 §25.1). */
export const WORD = 1 << 9;
/** Characters of hostname and IPv4address: alphanum / "-" / ".". */
export const HOST = 1 << 10;
/** uric (RFC 2396): reserved / unreserved, plus "[" "]" (RFC 2732) and "#" for opaque URIs. */
export const URIC = 1 << 11;
/** SP / HTAB. */
export const WSP = 1 << 12;
/** ALPHA / DIGIT / "+" / "-" / "." : the characters after the first of a URI scheme. */
export const SCHEME = 1 << 13;
/**
 * Unquoted gen-value (RFC 3261 §25.1: token / host): token characters plus ":" because Via
 * `received` carries an unbracketed IPv6address (RFC 3261 §20.42, RFC 5118 §4.5).
 */
export const GENVALUE = 1 << 14;

export const CLASS = new Uint16Array(128);

function mark(chars: string, flags: number): void {
  for (let i = 0; i < chars.length; i++) CLASS[chars.charCodeAt(i)] |= flags;
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
const ALNUM_FLAGS = TOKEN | UNRESERVED | USER | PASSWORD | PARAM | HNV | WORD | HOST | URIC | SCHEME;
mark(LOWER + UPPER, ALPHA | ALNUM_FLAGS);
mark(DIGITS, DIGIT | HEX | ALNUM_FLAGS);
mark('abcdefABCDEF', HEX);
mark("-_.!~*'()", UNRESERVED | USER | PASSWORD | PARAM | HNV | URIC);
mark("-.!%*_+`'~", TOKEN);
mark("-.!%*_+`'~()<>:\\\"/[]?{}", WORD);
mark('&=+$,;?/', USER);
mark('&=+$,', PASSWORD);
mark('[]/:&+$', PARAM);
mark('[]/?:+$', HNV);
mark('-.', HOST);
mark(';/?:@&=+$,[]#', URIC);
mark('+-.', SCHEME);
mark(' \t', WSP);
for (let c = 0; c < 128; c++) if (CLASS[c] & TOKEN) CLASS[c] |= GENVALUE;
mark(':', GENVALUE);

/** True when the character code has one of the flags. Non-ASCII characters have none. */
export function is(code: number, flags: number): boolean {
  return code < 128 && (CLASS[code] & flags) !== 0;
}

export function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * Scans characters of a class, accepting %HH escapes when `escapes` is set.
 * Returns the index of the first character that is not part of the run, or -1 when a `%` is not
 * followed by two hex digits (an invalid escape, RFC 3261 §25.1 `escaped`).
 */
export function scanClass(s: string, i: number, end: number, flags: number, escapes: boolean): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c < 128 && (CLASS[c] & flags) !== 0) {
      i++;
    } else if (c === 37 /* % */ && escapes) {
      if (i + 2 >= end || hexValue(s.charCodeAt(i + 1)) < 0 || hexValue(s.charCodeAt(i + 2)) < 0) return -1;
      i += 3;
    } else {
      break;
    }
  }
  return i;
}

/** Index of the first character at or after i that is not SP or HTAB. */
export function skipWsp(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

/** True when every character of s is a token character and s is not empty (RFC 3261 §25.1). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CLASS[c] & TOKEN) === 0) return false;
  }
  return true;
}

/**
 * Parses 1*DIGIT in s[i, end) as a non-negative integer. Returns -1 when the range is empty, holds a
 * non-digit, or the value exceeds `max` (checked digit by digit, so overlarge scalars such as
 * `36893488147419103232` are rejected without ever building a float, RFC 4475 §3.1.2.4).
 */
export function parseDecimal(s: string, i: number, end: number, max: number): number {
  if (i >= end) return -1;
  let v = 0;
  for (; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
    if (v > max) return -1;
  }
  return v;
}
