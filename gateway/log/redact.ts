/**
 * Redaction applied to every log entry before it is formatted. Logs are read by more people and kept
 * longer than anything else the gateway produces; nothing that authenticates a user or keys a media
 * stream may reach them.
 *
 * What is removed:
 * - values of secret-named keys (any depth): password, passwd, passphrase, ha1, otp, secret, key,
 *   privateKey, token, authorization, proxy-authorization, response (digest proof, RFC 7616 §3.4),
 *   cnonce, and keys ending in password/passwd/passphrase/secret/token/privatekey (nonceSecret...);
 * - message bodies (keys `body`, `sdp`; the body part of logged SIP message text; SDP text) unless
 *   log.debugBodies is on;
 * - in ANY logged text, even with debugBodies: SDES key material (RFC 4568 §9.1 `a=crypto:` key
 *   params, any `inline:` value), MIKEY (RFC 4567 `a=key-mgmt:`), Authorization/Proxy-Authorization
 *   header values (RFC 3261 §20.7, §20.28, folded continuation lines too), PEM private key blocks;
 * - raw bytes (Buffers are logged as their length only).
 *
 * Decisions: the digest `nonce` is NOT redacted (it is a public challenge, sent in clear in
 * WWW-Authenticate, and needed to debug stale-nonce failures; without `response` it allows no
 * offline guessing). `a=fingerprint` (RFC 8122) is NOT redacted: it is the hash of a public
 * certificate. Field names `response`/`key` are reserved for secrets: log a SIP response as `status`.
 */

export const REDACTED = '[redacted]';

export interface RedactOptions {
  /** log.debugBodies: keep message bodies (still with key material removed). */
  debugBodies: boolean;
}

const SECRET_KEYS = new Set([
  'password', 'passwd', 'passphrase', 'ha1', 'otp', 'secret', 'key', 'privatekey', 'token',
  'authorization', 'proxyauthorization', 'response', 'cnonce',
]);
const SECRET_SUFFIXES = ['password', 'passwd', 'passphrase', 'secret', 'token', 'privatekey'];
const BODY_KEYS = new Set(['body', 'sdp']);

/** Bounds on the walk over logged values: depth, entries per object/array. */
const MAX_DEPTH = 8;
const MAX_ENTRIES = 200;

function normalizeKey(name: string): string {
  return asciiLower(name).replace(/[-_]/g, '');
}

/** True when a field of this name holds a secret (case and "-"/"_" insensitive). */
export function isSecretKey(name: string): boolean {
  const n = normalizeKey(name);
  return SECRET_KEYS.has(n) || SECRET_SUFFIXES.some((s) => n.endsWith(s));
}

/** Lower-cases A-Z only, so indices stay aligned with the original (toLowerCase may not). */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** Removes every PEM private key block ("-----BEGIN [RSA |EC |ENCRYPTED ]PRIVATE KEY-----"). */
function redactPemKeys(text: string): string {
  const out: string[] = [];
  let from = 0;
  for (;;) {
    const begin = text.indexOf('-----BEGIN ', from);
    if (begin < 0) break;
    const labelEnd = text.indexOf('-----', begin + 11);
    if (labelEnd < 0) break;
    if (!text.slice(begin + 11, labelEnd).endsWith('PRIVATE KEY')) {
      out.push(text.slice(from, labelEnd + 5));
      from = labelEnd + 5;
      continue;
    }
    const end = text.indexOf('-----END ', labelEnd + 5);
    const endLabel = end < 0 ? -1 : text.indexOf('-----', end + 9);
    out.push(text.slice(from, begin), '[redacted private key]');
    // A block cut off without its END line is redacted to the end of the text.
    from = endLabel < 0 ? text.length : endLabel + 5;
  }
  out.push(text.slice(from));
  return out.join('');
}

/** RFC 3261 §7: a message starts with "METHOD uri SIP/2.0" or "SIP/2.0 code reason". */
function looksLikeSipMessage(text: string): boolean {
  const start = text.trimStart();
  const eol = start.indexOf('\n');
  const first = (eol < 0 ? start : start.slice(0, eol)).trimEnd();
  return first.startsWith('SIP/2.0 ') || first.endsWith(' SIP/2.0');
}

/** SDP (RFC 8866 §5) always starts with the v= line. */
function looksLikeSdp(text: string): boolean {
  return text.trimStart().startsWith('v=0');
}

/** Drops the body of a SIP message text: everything after the first empty line. */
function stripSipBody(text: string): string {
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  const cut = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
  if (cut < 0 || cut >= text.length) return text;
  return `${text.slice(0, cut)}[body redacted: ${Buffer.byteLength(text.slice(cut))} bytes]`;
}

/** Keeps "a=crypto:<tag> <suite> " / "a=key-mgmt:<prot> " and redacts the key material after it. */
function redactKeyAttribute(line: string, lower: string): string | undefined {
  const at = lower.search(/a=(crypto|key-mgmt):/);
  if (at < 0) return undefined;
  const isCrypto = lower.startsWith('a=crypto:', at);
  let i = at + (isCrypto ? 9 : 11);
  // Keep the tokens that are not secret: tag and suite (crypto) or protocol id (key-mgmt).
  for (let token = 0; token < (isCrypto ? 2 : 1); token++) {
    while (i < line.length && line[i] === ' ') i++;
    while (i < line.length && line[i] !== ' ' && line[i] !== '\r') i++;
  }
  return `${line.slice(0, i)} ${REDACTED}${line.endsWith('\r') ? '\r' : ''}`;
}

/** "...inline:<key||lifetime|MKI>" anywhere → "...inline:[redacted]". */
function redactInline(line: string, lower: string): string {
  if (!lower.includes('inline:')) return line;
  const out: string[] = [];
  let from = 0;
  for (;;) {
    const at = lower.indexOf('inline:', from);
    if (at < 0) break;
    let end = at + 7;
    while (end < line.length && !/\s/.test(line[end])) end++;
    out.push(line.slice(from, at + 7), REDACTED);
    from = end;
  }
  out.push(line.slice(from));
  return out.join('');
}

/** Index of the ':' after the first "[Proxy-]Authorization" header name in the line, or -1. */
function credentialsColon(line: string, lower: string): number {
  for (let at = lower.indexOf('authorization'); at >= 0; at = lower.indexOf('authorization', at + 13)) {
    let colon = at + 13;
    while (line[colon] === ' ' || line[colon] === '\t') colon++;
    if (line[colon] === ':') return colon;
  }
  return -1;
}

/** Line-by-line rules: credential headers, key attributes, inline keys. */
function redactLines(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let inCredentials = false;
  for (const line of lines) {
    // RFC 3261 §7.3.1: a line starting with SP/HTAB continues the previous header field.
    if (inCredentials && (line.startsWith(' ') || line.startsWith('\t'))) continue;
    inCredentials = false;
    const lower = asciiLower(line);
    const colon = credentialsColon(line, lower);
    if (colon >= 0) {
      out.push(`${line.slice(0, colon + 1)} ${REDACTED}${line.endsWith('\r') ? '\r' : ''}`);
      inCredentials = true;
      continue;
    }
    out.push(redactKeyAttribute(line, lower) ?? redactInline(line, lower));
  }
  return out.join('\n');
}

/** Redacts one text (a log message or a string field). */
export function redactText(text: string, opts: RedactOptions): string {
  let t = text.includes('PRIVATE KEY') ? redactPemKeys(text) : text;
  if (!opts.debugBodies) {
    if (looksLikeSdp(t)) return `[body redacted: ${Buffer.byteLength(t)} bytes]`;
    if (looksLikeSipMessage(t)) t = stripSipBody(t);
  }
  const lower = asciiLower(t);
  if (lower.includes('authorization') || lower.includes('a=crypto:') || lower.includes('a=key-mgmt:')
    || lower.includes('inline:')) {
    t = redactLines(t);
  }
  return t;
}

/**
 * Returns a redacted, JSON-safe copy of a logged value. The caller's objects are never modified.
 * `key` is the field name the value was logged under.
 */
export function redactValue(value: unknown, opts: RedactOptions, key?: string): unknown {
  return walk(value, opts, key, 0, new WeakSet<object>());
}

function walk(value: unknown, opts: RedactOptions, key: string | undefined, depth: number, seen: WeakSet<object>): unknown {
  if (key !== undefined) {
    if (isSecretKey(key)) return REDACTED;
    if (BODY_KEYS.has(normalizeKey(key)) && value !== undefined && value !== null) {
      if (!opts.debugBodies) return REDACTED;
      if (ArrayBuffer.isView(value)) return redactText(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'), opts);
    }
  }
  switch (typeof value) {
    case 'string': return redactText(value, opts);
    case 'number': case 'boolean': case 'undefined': return value;
    case 'bigint': return value.toString();
    case 'symbol': return value.toString();
    case 'function': return '[function]';
  }
  if (value === null) return null;
  const obj = value as object;
  if (ArrayBuffer.isView(obj)) return `[${obj.byteLength} bytes]`;
  if (obj instanceof ArrayBuffer) return `[${obj.byteLength} bytes]`;
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
  if (seen.has(obj)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[depth limit]';
  seen.add(obj);
  try {
    if (obj instanceof Error) return walkError(obj, opts, depth, seen);
    if (Array.isArray(obj)) {
      const items = obj.slice(0, MAX_ENTRIES).map((v) => walk(v, opts, undefined, depth + 1, seen));
      if (obj.length > MAX_ENTRIES) items.push(`[${obj.length - MAX_ENTRIES} more]`);
      return items;
    }
    if (obj instanceof Map || obj instanceof Set) return `[${obj.constructor.name} size ${obj.size}]`;
    const json = (obj as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') return walk(json.call(obj), opts, key, depth + 1, seen);
    return walkEntries(obj as Record<string, unknown>, opts, depth, seen);
  } finally {
    seen.delete(obj);
  }
}

function walkEntries(obj: Record<string, unknown>, opts: RedactOptions, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(obj);
  for (const k of keys.slice(0, MAX_ENTRIES)) {
    if (k === '__proto__') continue;
    out[k] = walk(obj[k], opts, k, depth + 1, seen);
  }
  if (keys.length > MAX_ENTRIES) out['[truncated]'] = `${keys.length - MAX_ENTRIES} more keys`;
  return out;
}

function walkError(err: Error, opts: RedactOptions, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: redactText(err.message, opts) };
  if (err.stack) out.stack = redactText(err.stack, opts);
  Object.assign(out, walkEntries(err as unknown as Record<string, unknown>, opts, depth, seen));
  return out;
}
