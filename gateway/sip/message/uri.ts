/**
 * URIs in SIP: sip:/sips: (RFC 3261 §19.1, §25.1; IPv6 per RFC 5118), tel: (RFC 3966) and any
 * other absoluteURI kept opaque (RFC 3261 §19.1, RFC 4475 §3.3.2).
 *
 * Components are kept %-escaped as received (RFC 3261 §19.1.4 compares them unescaped; that is the
 * comparer's job). Parameter names are lower-cased because they compare case-insensitively.
 */
import { ALPHA, CLASS, DIGIT, HEX, HNV, PARAM, PASSWORD, SCHEME, UNRESERVED, URIC, USER, hexValue, scanClass } from './chars';
import { malformed } from './errors';
import { isHostname, isIPv6 } from './host';
import { serializeParams } from './params';
import type { OtherUri, Params, SipUri, TelUri, Uri } from './types';

/** Parses a URI. Throws a SipParseError (400, "Malformed URI") when it is not one. */
export function parseUri(text: string): Uri {
  const colon = schemeEnd(text);
  // Fast path: the scheme is nearly always exactly "sip".
  if (colon === 3 && text.charCodeAt(0) === 115 && text.charCodeAt(1) === 105 && text.charCodeAt(2) === 112) {
    return parseSipUri(text, 4, 'sip');
  }
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(text, colon + 1, scheme);
  if (scheme === 'tel') return parseTelUri(text, colon + 1);
  return parseOtherUri(text, colon + 1, scheme);
}

/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), followed by ":". Returns the colon index. */
function schemeEnd(s: string): number {
  const first = s.charCodeAt(0);
  if (!(first < 128 && (CLASS[first] & ALPHA) !== 0)) throw malformed('URI');
  let i = 1;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 58) return i;
    if (!(c < 128 && (CLASS[c] & SCHEME) !== 0)) break;
    i++;
  }
  throw malformed('URI');
}

/** Lower-cases only when needed: most parameter names arrive in lower case already. */
function lower(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) return name.toLowerCase();
  }
  return name;
}

function parseSipUri(s: string, i: number, scheme: 'sip' | 'sips'): SipUri {
  const end = s.length;
  let user: string | undefined;
  let password: string | undefined;
  // userinfo ends at the first "@": neither host, uri-parameters nor headers may contain one.
  const at = s.indexOf('@', i);
  if (at >= 0) {
    const u = scanClass(s, i, at, USER, true);
    if (u <= i) throw malformed('URI');
    user = s.slice(i, u);
    if (u < at) {
      if (s.charCodeAt(u) !== 58 /* : */) throw malformed('URI');
      const p = scanClass(s, u + 1, at, PASSWORD, true);
      if (p !== at) throw malformed('URI');
      password = s.slice(u + 1, at);
    }
    i = at + 1;
  }
  // hostport
  let h: number;
  if (s.charCodeAt(i) === 91 /* [ */) {
    const close = s.indexOf(']', i);
    if (close < 0 || !isIPv6(s, i + 1, close)) throw malformed('URI');
    h = close + 1;
  } else {
    h = i;
    while (h < end) {
      const c = s.charCodeAt(h);
      if (c === 59 || c === 63 || c === 58) break;
      h++;
    }
    if (!isHostname(s, i, h)) throw malformed('URI');
  }
  const host = s.slice(i, h);
  i = h;
  let port: number | undefined;
  if (i < end && s.charCodeAt(i) === 58) {
    const ps = i + 1;
    let v = 0;
    i = ps;
    while (i < end && i - ps < 6) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
    }
    if (i === ps || i - ps > 5 || v > 65535) throw malformed('URI');
    port = v;
  }
  const params: Params = new Map();
  while (i < end && s.charCodeAt(i) === 59 /* ; */) {
    const ns = i + 1;
    i = scanClass(s, ns, end, PARAM, true);
    if (i <= ns) throw malformed('URI');
    const name = lower(s.slice(ns, i));
    let value: string | null = null;
    if (i < end && s.charCodeAt(i) === 61 /* = */) {
      const vs = i + 1;
      i = scanClass(s, vs, end, PARAM, true);
      if (i <= vs) throw malformed('URI');
      value = s.slice(vs, i);
    }
    if (params.has(name)) throw malformed('URI');
    params.set(name, value);
  }
  const headers: Params = new Map();
  if (i < end && s.charCodeAt(i) === 63 /* ? */) {
    do {
      const ns = i + 1;
      i = scanClass(s, ns, end, HNV, true);
      if (i <= ns || i >= end || s.charCodeAt(i) !== 61) throw malformed('URI');
      const name = s.slice(ns, i);
      const vs = i + 1;
      i = scanClass(s, vs, end, HNV, true);
      if (i < 0 || headers.has(name)) throw malformed('URI');
      headers.set(name, s.slice(vs, i));
    } while (i < end && s.charCodeAt(i) === 38 /* & */);
  }
  if (i !== end) throw malformed('URI');
  const uri: SipUri = { scheme, host, params, headers };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (port !== undefined) uri.port = port;
  return uri;
}

/**
 * tel: URI (RFC 3966 §3): global-number ("+" digits and visual separators) or local-number (hex
 * digits, "*", "#", separators) which MUST carry a phone-context parameter.
 */
function parseTelUri(s: string, i: number): TelUri {
  const end = s.length;
  const ns = i;
  const global = s.charCodeAt(i) === 43; /* + */
  if (global) i++;
  let digits = 0;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 45 || c === 46 || c === 40 || c === 41) {
      i++;
      continue;
    }
    const ok = global ? c < 128 && (CLASS[c] & DIGIT) !== 0 : (c < 128 && (CLASS[c] & HEX) !== 0) || c === 42 || c === 35;
    if (!ok) break;
    digits++;
    i++;
  }
  if (digits === 0) throw malformed('URI');
  const number = s.slice(ns, i);
  const params: Params = new Map();
  while (i < end && s.charCodeAt(i) === 59) {
    const ps = ++i;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (!((c < 128 && (CLASS[c] & (ALPHA | DIGIT)) !== 0) || c === 45)) break;
      i++;
    }
    if (i === ps) throw malformed('URI');
    const name = s.slice(ps, i).toLowerCase();
    let value: string | null = null;
    if (i < end && s.charCodeAt(i) === 61) {
      const vs = i + 1;
      i = scanClass(s, vs, end, PARAM, true);
      if (i <= vs) throw malformed('URI');
      value = s.slice(vs, i);
    }
    if (params.has(name)) throw malformed('URI');
    params.set(name, value);
  }
  if (i !== end || (!global && !params.has('phone-context'))) throw malformed('URI');
  return { scheme: 'tel', number, params };
}

/** Any other absoluteURI: opaque, but still only uric characters and valid escapes (RFC 2396 §3). */
function parseOtherUri(s: string, i: number, scheme: string): OtherUri {
  const e = scanClass(s, i, s.length, URIC | UNRESERVED, true);
  if (e !== s.length || e === i) throw malformed('URI');
  return { scheme, opaque: s.slice(i) };
}

/** Writes a URI back in RFC 3261 §19.1.1 form. Inverse of parseUri for every value it returns. */
export function serializeUri(uri: Uri): string {
  if (uri.scheme === 'sip' || uri.scheme === 'sips') {
    const u = uri as SipUri;
    let out = u.scheme + ':';
    if (u.user !== undefined) out += u.password !== undefined ? `${u.user}:${u.password}@` : `${u.user}@`;
    out += u.host;
    if (u.port !== undefined) out += ':' + u.port;
    if (u.params.size > 0) out += serializeParams(u.params);
    if (u.headers.size > 0) {
      let sep = '?';
      for (const [name, value] of u.headers) {
        out += `${sep}${name}=${value ?? ''}`;
        sep = '&';
      }
    }
    return out;
  }
  if (uri.scheme === 'tel') {
    const t = uri as TelUri;
    return 'tel:' + t.number + serializeParams(t.params);
  }
  return `${uri.scheme}:${(uri as OtherUri).opaque}`;
}

/**
 * Resolves %HH escapes (RFC 3261 §19.1.4: URI components compare unescaped). The octets are read
 * as UTF-8; a "%" that does not start a valid escape is kept as it is.
 */
export function unescapeUriPart(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (b === 37 && i + 2 < src.length) {
      const hi = hexValue(src[i + 1]);
      const lo = hexValue(src[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    out[n++] = b;
  }
  return out.toString('utf8', 0, n);
}
