/**
 * Header field names: canonical spellings, compact forms (RFC 3261 §7.3.3 and the extensions that
 * registered one), and which headers are comma-separated lists (RFC 3261 §7.3.1).
 *
 * Names compare case-insensitively (RFC 3261 §7.3.1); the parser stores known headers under their
 * canonical long name so every layer can look them up one way.
 */

/** Canonical names of the headers this stack knows (RFC 3261 §20 and common extensions). */
const KNOWN = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
  'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition',
  'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info',
  'Event', 'Expires', 'From', 'Identity', 'Identity-Info', 'In-Reply-To', 'Max-Forwards', 'MIME-Version',
  'Min-Expires', 'Min-SE', 'Organization', 'P-Asserted-Identity', 'P-Preferred-Identity', 'Path', 'Priority',
  'Privacy', 'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'RAck', 'Reason', 'Record-Route',
  'Refer-To', 'Referred-By', 'Reject-Contact', 'Reply-To', 'Request-Disposition', 'Require', 'Retry-After',
  'Route', 'RSeq', 'Security-Client', 'Security-Server', 'Security-Verify', 'Server', 'Service-Route',
  'Session-Expires', 'SIP-ETag', 'SIP-If-Match', 'Subject', 'Subscription-State', 'Supported', 'Timestamp',
  'To', 'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
];

/** Compact forms: RFC 3261 §7.3.3 and RFC 3515, 3841, 3892, 4028, 4474, 6665, 8224. */
const COMPACT: Record<string, string> = {
  a: 'Accept-Contact', b: 'Referred-By', c: 'Content-Type', d: 'Request-Disposition', e: 'Content-Encoding',
  f: 'From', i: 'Call-ID', j: 'Reject-Contact', k: 'Supported', l: 'Content-Length', m: 'Contact', n: 'Identity-Info',
  o: 'Event', r: 'Refer-To', s: 'Subject', t: 'To', u: 'Allow-Events', v: 'Via', x: 'Session-Expires', y: 'Identity',
};

/** The canonical names (all tokens), for callers that want to skip re-validating them. */
export const KNOWN_NAMES: ReadonlySet<string> = new Set(KNOWN);

const CANONICAL = new Map<string, string>();
for (const name of KNOWN) {
  CANONICAL.set(name, name);
  CANONICAL.set(name.toLowerCase(), name);
}
for (const [short, long] of Object.entries(COMPACT)) {
  CANONICAL.set(short, long);
  CANONICAL.set(short.toUpperCase(), long);
}

/** Canonical names by length, for matching a name in place without slicing it out first. */
const BY_LENGTH: string[][] = [];
for (const name of KNOWN) (BY_LENGTH[name.length] ??= []).push(name);
/** Compact forms by character code (both cases). */
const BY_CHAR: Array<string | undefined> = new Array(128).fill(undefined);
for (const [short, long] of Object.entries(COMPACT)) {
  BY_CHAR[short.charCodeAt(0)] = long;
  BY_CHAR[short.toUpperCase().charCodeAt(0)] = long;
}

/**
 * The canonical name of a received header name: compact forms expanded, known names in their
 * usual spelling, unknown names as received.
 */
export function canonicalName(name: string): string {
  return CANONICAL.get(name) ?? CANONICAL.get(name.toLowerCase()) ?? name;
}

/**
 * canonicalName() of s[start, end) without slicing in the common case: an exact-case match of a
 * known name or a compact form.
 */
export function canonicalNameAt(s: string, start: number, end: number): string {
  const len = end - start;
  if (len === 1) {
    const c = s.charCodeAt(start);
    const compact = c < 128 ? BY_CHAR[c] : undefined;
    if (compact !== undefined) return compact;
  } else {
    const candidates = BY_LENGTH[len];
    if (candidates !== undefined) {
      for (const name of candidates) if (s.startsWith(name, start)) return name;
    }
  }
  return canonicalName(s.slice(start, end));
}

/**
 * Headers whose grammar is `#element` (a comma-separated list), split into one HeaderList entry per
 * element so `getAll()` returns the elements. Not the credentials and challenges (their parameters
 * contain commas), nor Date, Subject, Server, User-Agent and other free-text headers.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
  'Call-Info', 'Content-Encoding', 'Content-Language', 'Error-Info', 'In-Reply-To', 'P-Asserted-Identity',
  'P-Preferred-Identity', 'Path', 'Proxy-Require', 'Reason', 'Record-Route', 'Reject-Contact', 'Request-Disposition',
  'Require', 'Route', 'Security-Client', 'Security-Server', 'Security-Verify', 'Service-Route', 'Supported',
  'Unsupported', 'Warning',
]);

/** List headers whose elements are name-addrs: validated at parse time. */
export const NAME_ADDR_LIST_HEADERS: ReadonlySet<string> = new Set([
  'Route', 'Record-Route', 'Path', 'Service-Route', 'P-Asserted-Identity', 'P-Preferred-Identity',
]);

/**
 * Untyped headers that may appear at most once (RFC 3261 §7.3.1: only list headers may repeat).
 * A second copy of one of these is ambiguous and answered with 400 (RFC 4475 §3.3.8).
 */
export const SINGLE_HEADERS: ReadonlySet<string> = new Set(['Content-Type', 'Expires', 'Min-Expires', 'RSeq', 'RAck']);
