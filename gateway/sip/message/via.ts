/**
 * Via (RFC 3261 §20.42, §25.1; rport RFC 3581; IPv6 RFC 5118).
 *
 *   via-parm     = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport   (SLASH = SWS "/" SWS)
 *   sent-by      = host [ COLON port ]                                     (COLON = SWS ":" SWS)
 *
 * The parameters routing depends on are checked here (branch, received, rport, maddr, ttl), so a
 * Via that reaches the transaction and transport layers is one they can use.
 */
import { CLASS, HOST, TOKEN, parseDecimal, skipWsp } from './chars';
import { malformed } from './errors';
import { isHost, isIPv4, isIPv6 } from './host';
import { type Cursor, cursor, parseParamsAt, serializeParams } from './params';
import type { Params, Via } from './types';

function token(c: Cursor): string {
  const s = c.s;
  const start = c.i;
  let i = start;
  while (i < c.end) {
    const ch = s.charCodeAt(i);
    if (!(ch < 128 && (CLASS[ch] & TOKEN) !== 0)) break;
    i++;
  }
  if (i === start) throw malformed('Via');
  c.i = i;
  return s.slice(start, i);
}

function slash(c: Cursor): void {
  const i = skipWsp(c.s, c.i, c.end);
  if (c.s.charCodeAt(i) !== 47 /* / */) throw malformed('Via');
  c.i = skipWsp(c.s, i + 1, c.end);
}

/**
 * Reads sent-protocol and sent-by from c.i: the part of a Via a response is routed on
 * (RFC 3261 §18.2.2). Leaves c.i after sent-by.
 */
/** The common transports, so the usual Via allocates no string for them. */
const TRANSPORTS = ['UDP', 'TCP', 'TLS'];

function sentProtocolAndBy(c: Cursor): Via {
  const s = c.s;
  c.i = skipWsp(s, c.i, c.end);
  let protocol: string | undefined;
  let transport: string | undefined;
  // Fast path: "SIP/2.0/UDP " etc. without LWS, the form nearly every element sends.
  if (s.startsWith('SIP/2.0/', c.i)) {
    protocol = 'SIP/2.0';
    for (const t of TRANSPORTS) {
      const ch = s.charCodeAt(c.i + 11);
      if (s.startsWith(t, c.i + 8) && (ch === 32 || ch === 9)) {
        transport = t;
        c.i += 11;
        break;
      }
    }
  }
  if (transport === undefined) {
    const name = token(c);
    slash(c);
    const version = token(c);
    slash(c);
    const t = token(c);
    protocol = name === 'SIP' && version === '2.0' ? 'SIP/2.0' : `${name.toUpperCase()}/${version}`;
    transport = t === 'UDP' || t === 'TCP' || t === 'TLS' ? t : t.toUpperCase();
  }
  const hs = skipWsp(s, c.i, c.end);
  if (hs === c.i) throw malformed('Via');
  let he = hs;
  if (s.charCodeAt(hs) === 91 /* [ */) {
    he = s.indexOf(']', hs);
    if (he < 0 || he >= c.end) throw malformed('Via');
    he++;
  } else {
    while (he < c.end) {
      const ch = s.charCodeAt(he);
      if (!(ch < 128 && (CLASS[ch] & HOST) !== 0)) break;
      he++;
    }
  }
  if (!isHost(s, hs, he)) throw malformed('Via');
  const via: Via = {
    protocol: protocol!,
    transport,
    host: s.slice(hs, he),
    params: new Map(),
  };
  let i = skipWsp(s, he, c.end);
  if (s.charCodeAt(i) === 58 /* : */) {
    const ps = skipWsp(s, i + 1, c.end);
    let pe = ps;
    while (pe < c.end && pe - ps < 6 && s.charCodeAt(pe) >= 48 && s.charCodeAt(pe) <= 57) pe++;
    const port = parseDecimal(s, ps, pe, 65535);
    if (port < 0) throw malformed('Via');
    via.port = port;
    i = pe;
  } else {
    i = he;
  }
  c.i = i;
  return via;
}

/** Checks the via-params RFC 3261 §20.42 and RFC 3581 §3 give a syntax to (one pass over them). */
function checkViaParams(params: Params): void {
  for (const [name, value] of params) {
    switch (name) {
      case 'branch': // via-branch = "branch" EQUAL token
        if (value === null) throw malformed('Via');
        break;
      case 'ttl': // 1*3DIGIT, 0..255
        if (value === null || value.length > 3 || parseDecimal(value, 0, value.length, 255) < 0) throw malformed('Via');
        break;
      case 'rport': // RFC 3581: valueless in requests, the port in responses
        if (value !== null && (value.length > 5 || parseDecimal(value, 0, value.length, 65535) < 0)) throw malformed('Via');
        break;
      case 'received': {
        // via-received = "received" EQUAL (IPv4address / IPv6address); a bracketed form is tolerated.
        if (value === null) throw malformed('Via');
        const ok = value.charCodeAt(0) === 91
          ? value.charCodeAt(value.length - 1) === 93 && isIPv6(value, 1, value.length - 1)
          : isIPv4(value, 0, value.length) || isIPv6(value, 0, value.length);
        if (!ok) throw malformed('Via');
        break;
      }
      case 'maddr':
        if (value === null || !isHost(value, 0, value.length)) throw malformed('Via');
        break;
    }
  }
}

/** One via-parm from c.i; leaves c.i on the character after it (a comma in a list, or the end). */
export function parseViaAt(c: Cursor): Via {
  const via = sentProtocolAndBy(c);
  parseParamsAt(c, via.params);
  checkViaParams(via.params);
  return via;
}

/** Parses a Via header value: one or more comma-separated via-parms. */
export function parseVia(text: string, max = Number.MAX_SAFE_INTEGER): Via[] {
  const c = cursor(text);
  const out: Via[] = [];
  for (;;) {
    if (out.length >= max) throw malformed('Via');
    out.push(parseViaAt(c));
    if (c.i === c.end) return out;
    if (c.s.charCodeAt(c.i) !== 44 /* , */) throw malformed('Via');
    c.i++;
  }
}

/**
 * Best-effort reading of the first via-parm of a Via that failed strict parsing (RFC 4475
 * §3.1.2.1 badinv01): sent-protocol, sent-by and the parameters before the first bad one. Enough
 * to route a 400 back. Undefined when not even sent-by can be read.
 */
export function salvageVia(text: string): Via | undefined {
  const c = cursor(text);
  let via: Via;
  try {
    via = sentProtocolAndBy(c);
  } catch {
    return undefined;
  }
  const s = c.s;
  let i = c.i;
  while (i < c.end && s.charCodeAt(i) === 59) {
    const e = s.indexOf(';', i + 1);
    const pc = cursor(s.slice(i, e < 0 ? c.end : e));
    const one: Params = new Map();
    try {
      parseParamsAt(pc, one);
      checkViaParams(one);
    } catch {
      break;
    }
    if (pc.i !== pc.end || one.size !== 1) break;
    const [[name, value]] = one;
    if (via.params.has(name)) break;
    via.params.set(name, value);
    i = e < 0 ? c.end : e;
  }
  return via;
}

/** Writes one via-parm: `SIP/2.0/UDP host:port;params`. */
export function serializeVia(via: Via): string {
  const hostport = via.port === undefined ? via.host : `${via.host}:${via.port}`;
  const head = `${via.protocol}/${via.transport} ${hostport}`;
  return via.params.size === 0 ? head : head + serializeParams(via.params);
}
