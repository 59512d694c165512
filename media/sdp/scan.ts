/**
 * Line-level validation of a session description (RFC 4566 §5, §9), before sdp-transform sees it.
 *
 * sdp-transform silently drops lines it does not recognise and never reports an error, so every
 * rule this gateway relies on is checked here, on the raw text, with bounded work: the size and
 * line count are capped first, and each line is read with indexOf/split and character tests only
 * (no regular expression that can backtrack).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { SdpError } from './errors';

/** Resource bounds for one session description. */
export interface SdpLimits {
  /** Largest accepted body, in UTF-8 octets. */
  readonly maxBytes: number;
  /** Most lines (after dropping empty ones). */
  readonly maxLines: number;
  /** Most m= sections. */
  readonly maxMedia: number;
}

/**
 * 16 KiB, 512 lines, 16 streams: several times a WebRTC audio+video offer with candidates, and a
 * bound on the worst case (sdp-transform tries ~50 regexes per unknown attribute line).
 */
export const DEFAULT_SDP_LIMITS: SdpLimits = Object.freeze({ maxBytes: 16384, maxLines: 512, maxMedia: 16 });

/** One validated line. `media` is -1 at session level, else the 0-based m= section index. */
export interface SdpLine {
  readonly type: string;
  readonly value: string;
  readonly lineNo: number;
  readonly media: number;
}

// RFC 4566 §5: session-level and media-level line types. k= is obsolete (RFC 8866 §5.12) but legal.
const SESSION_TYPES = 'vosiuepcbtrzka';
const MEDIA_TYPES = 'icbka';
const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** Validate `text` and return its lines. Throws SdpError (400 or 488) on the first fault. */
export function scanSdp(text: string, limits: SdpLimits = DEFAULT_SDP_LIMITS): SdpLine[] {
  if (text.length > limits.maxBytes || Buffer.byteLength(text, 'utf8') > limits.maxBytes) {
    throw new SdpError('too-large');
  }
  const raw = text.split('\n');
  const lines: SdpLine[] = [];
  let media = -1;
  const sessionSeen = new Set<string>();
  let mediaConnection = false;
  let sessionConnection = false;
  let directionAtLevel = false;
  let pendingMediaNoC: { lineNo: number; port: number } | undefined;

  const closeMedia = (): void => {
    if (pendingMediaNoC && !mediaConnection && !sessionConnection && pendingMediaNoC.port !== 0) {
      throw new SdpError('missing-connection', pendingMediaNoC.lineNo);
    }
  };

  for (let i = 0; i < raw.length; i++) {
    const lineNo = i + 1;
    let line = raw[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length === 0) continue; // stray empty lines (often a trailing one) carry nothing
    if (lines.length >= limits.maxLines) throw new SdpError('too-many-lines');
    if (!isLineText(line)) throw new SdpError('malformed-line', lineNo);
    const type = line[0]!;
    if (line.length < 2 || type < 'a' || type > 'z' || line[1] !== '=') throw new SdpError('malformed-line', lineNo);
    let value = line.slice(2);

    if (lines.length === 0) {
      if (type !== 'v') throw new SdpError('missing-version', lineNo);
      if (value !== '0') throw new SdpError('bad-version', lineNo);
    } else if (lines.length === 1 && type !== 'o') {
      throw new SdpError('missing-origin', lineNo);
    }

    if (type === 'm') {
      closeMedia();
      media++;
      if (media >= limits.maxMedia) throw new SdpError('too-many-media', lineNo);
      value = value.trimEnd();
      const port = checkMediaLine(value, lineNo);
      pendingMediaNoC = { lineNo, port };
      mediaConnection = false;
      directionAtLevel = false;
    } else if (media < 0) {
      if (!SESSION_TYPES.includes(type)) throw new SdpError('unknown-line-type', lineNo);
      // RFC 4566 §5: at most one of these per description (e=, p=, t=, r= may repeat).
      if ('vosiuczk'.includes(type) && sessionSeen.has(type)) throw new SdpError('duplicate-line', lineNo);
      sessionSeen.add(type);
    } else if (!MEDIA_TYPES.includes(type)) {
      throw new SdpError(SESSION_TYPES.includes(type) ? 'line-out-of-place' : 'unknown-line-type', lineNo);
    }

    switch (type) {
      case 'o':
        checkOrigin(value, lineNo);
        break;
      case 't':
        checkTiming(value, lineNo);
        break;
      case 'b':
        checkBandwidth(value, lineNo);
        break;
      case 'c':
        if (media >= 0) {
          if (mediaConnection) throw new SdpError('duplicate-line', lineNo);
          mediaConnection = true;
        } else {
          sessionConnection = true;
        }
        checkConnection(value, lineNo);
        break;
      case 'a': {
        const name = checkAttribute(value, lineNo);
        if (DIRECTIONS.has(name)) {
          if (directionAtLevel) throw new SdpError('conflicting-direction', lineNo);
          directionAtLevel = true;
        }
        break;
      }
      default:
        break;
    }
    lines.push({ type, value, lineNo, media });
  }

  if (lines.length === 0) throw new SdpError('missing-version');
  if (!sessionSeen.has('o')) throw new SdpError('missing-origin');
  if (!sessionSeen.has('s')) throw new SdpError('missing-session-name');
  if (!sessionSeen.has('t')) throw new SdpError('missing-timing');
  closeMedia();
  return lines;
}

/** RFC 4566 §9 text: no NUL, CR or LF; U+2028/U+2029 also refused (sdp-transform's `.` stops there). */
function isLineText(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0 || c === 0x0d || c === 0x0a || c === 0x2028 || c === 0x2029) return false;
  }
  return true;
}

function isDigits(s: string, maxLength: number): boolean {
  if (s.length === 0 || s.length > maxLength) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** RFC 4566 §9 token-char: %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok =
      c === 0x21 ||
      (c >= 0x23 && c <= 0x27) ||
      c === 0x2a ||
      c === 0x2b ||
      c === 0x2d ||
      c === 0x2e ||
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x5e && c <= 0x7e);
    if (!ok) return false;
  }
  return true;
}

/** Letters, digits and "_" (what sdp-transform's `\w` accepts), plus "/" when `slash`. */
function isWord(s: string, slash: boolean): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || (slash && c === 0x2f);
    if (!ok) return false;
  }
  return true;
}

/** RFC 4566 §5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>. */
function checkOrigin(value: string, lineNo: number): void {
  const f = value.split(' ');
  if (
    f.length !== 6 ||
    !isNonWsString(f[0]!) ||
    !isNonWsString(f[5]!) ||
    !isDigits(f[1]!, 20) ||
    !isDigits(f[2]!, 20) ||
    f[3] !== 'IN' ||
    (f[4] !== 'IP4' && f[4] !== 'IP6')
  ) {
    throw new SdpError('malformed-origin', lineNo);
  }
}

/** RFC 4566 §9 non-ws-string = 1*(VCHAR/%x80-FF): no space, tab or control character. */
function isNonWsString(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return false;
  }
  return true;
}

/** RFC 4566 §5.8: b=<bwtype>:<bandwidth>, bandwidth in kbit/s (1*DIGIT). */
function checkBandwidth(value: string, lineNo: number): void {
  const colon = value.indexOf(':');
  if (colon <= 0 || !isToken(value.slice(0, colon)) || !isDigits(value.slice(colon + 1), 12)) {
    throw new SdpError('malformed-line', lineNo);
  }
}

/** RFC 4566 §5.9: t=<start-time> <stop-time>, NTP seconds. */
function checkTiming(value: string, lineNo: number): void {
  const f = value.split(' ');
  if (f.length !== 2 || !isDigits(f[0]!, 20) || !isDigits(f[1]!, 20)) throw new SdpError('malformed-timing', lineNo);
}

/**
 * RFC 4566 §5.7: c=IN IP4|IP6 <address>. Only a unicast IP literal is accepted: multicast
 * (address/ttl), FQDNs and IPv6 zone ids are refused with 488, because a media relay must know
 * the exact peer address and must never resolve names handed to it by a peer.
 */
function checkConnection(value: string, lineNo: number): void {
  const f = value.split(' ');
  if (f.length !== 3 || f[0]!.length === 0 || f[2]!.length === 0) throw new SdpError('malformed-connection', lineNo);
  if (f[0] !== 'IN' || (f[1] !== 'IP4' && f[1] !== 'IP6')) throw new SdpError('unsupported-connection', lineNo);
  if (!isUnicastLiteral(f[1] === 'IP4' ? 4 : 6, f[2]!)) throw new SdpError('unsupported-connection', lineNo);
}

/** True for a unicast IPv4/IPv6 literal of the given family (the unspecified address included). */
export function isUnicastLiteral(family: 4 | 6, address: string): boolean {
  if (family === 4) {
    if (!isIPv4(address)) return false;
    const first = Number(address.slice(0, address.indexOf('.')));
    return first < 224; // 224/4 multicast, 240/4 reserved and broadcast
  }
  if (address.includes('%') || !isIPv6(address)) return false;
  return !address.toLowerCase().startsWith('ff');
}

/**
 * RFC 4566 §5.14: m=<media> <port> <proto> <fmt> ... Returns the port. `<port>/<count>` is
 * refused (488): a voice gateway anchors exactly one RTP port (+ RTCP) per stream.
 */
function checkMediaLine(value: string, lineNo: number): number {
  const f = value.split(' ');
  if (f.length < 4) throw new SdpError('malformed-media', lineNo);
  const [mediaType, portText, proto] = f as [string, string, string];
  // proto = token *("/" token)
  if (!isToken(mediaType) || !proto.split('/').every(isToken)) throw new SdpError('malformed-media', lineNo);
  if (!isWord(mediaType, false) || !isWord(proto, true)) throw new SdpError('unsupported-media', lineNo);
  if (portText.includes('/')) {
    const [p, n] = portText.split('/', 2) as [string, string];
    if (!isDigits(p, 5) || !isDigits(n, 5)) throw new SdpError('malformed-media', lineNo);
    throw new SdpError('unsupported-media', lineNo);
  }
  if (!isDigits(portText, 5)) throw new SdpError('malformed-media', lineNo);
  const port = Number(portText);
  if (port > 65535) throw new SdpError('port-out-of-range', lineNo);
  const isRtp = proto.toUpperCase().includes('RTP/');
  const seen = new Set<string>();
  for (let i = 3; i < f.length; i++) {
    const fmt = f[i]!;
    if (!isToken(fmt)) throw new SdpError('malformed-media', lineNo);
    // RFC 3551 §3: RTP payload types are 0..127 (7 bits in the RTP header).
    if (isRtp && (!isDigits(fmt, 3) || Number(fmt) > 127)) throw new SdpError('malformed-media', lineNo);
    const key = isRtp ? String(Number(fmt)) : fmt;
    if (seen.has(key)) throw new SdpError('malformed-media', lineNo);
    seen.add(key);
  }
  return port;
}

/** RFC 4566 §5.13: a=<attribute> or a=<attribute>:<value>, attribute a token. Returns the name. */
function checkAttribute(value: string, lineNo: number): string {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  if (!isToken(name)) throw new SdpError('malformed-attribute', lineNo);
  return name;
}
