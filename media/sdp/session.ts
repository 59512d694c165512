/**
 * Parse and write session descriptions (RFC 4566) with sdp-transform, without its silent losses.
 *
 * sdp-transform matches each a= line against a prefix regex and re-formats it on write, so some
 * lines would come back changed or merged: "a=rtcp-mux-only" (RFC 8858) is read as "a=rtcp-mux",
 * "a=ptime:20.0" is written "a=ptime:20", an a=crypto line keeps only its first session parameter
 * (an UNENCRYPTED_SRTP after a KDR would vanish), and a second a=fingerprint replaces the first.
 * `parseSdp` therefore checks every attribute once: each is probed through sdp-transform alone,
 * and an attribute that would not come back byte for byte, or that repeats a single-valued one,
 * is kept verbatim in the `invalid` list of its level (sdp-transform's bucket for attributes it
 * does not model, written back unchanged). a=crypto lines are always read by this module
 * (RFC 4568 §9.1 session parameters are space separated) and stored whole.
 *
 * Known write-back differences (documented, harmless): attributes are written in sdp-transform's
 * grammar order (unknown ones last in their section), an a=crypto tag loses leading zeros, lines
 * are joined with CRLF, an m= port loses leading zeros and trailing blanks of m= lines go,
 * repeated e=/p=/t=/r= lines keep only the last one, b= lines with a
 * bandwidth type other than AS/CT/RR/RS/TIAS and k= lines are dropped (RFC 4566 §5.8 lets a
 * receiver ignore unknown bwtypes; RFC 8866 §5.12 obsoletes k=).
 */
import * as sdpTransform from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import { SdpError } from './errors';
import { DEFAULT_SDP_LIMITS, scanSdp, type SdpLimits, type SdpLine } from './scan';

/** A parsed session description: sdp-transform's model, made faithful by `parseSdp`. */
export type SdpSession = SessionDescription;
/** One m= section of an {@link SdpSession}. */
export type SdpMedia = MediaDescription;

export interface ParseSdpOptions {
  limits?: SdpLimits;
}

/** Bounds applied to our own output: room for what we add to a description we accepted. */
const WRITE_LIMITS: SdpLimits = Object.freeze({ maxBytes: 65536, maxLines: 2048, maxMedia: 64 });

/** Marks a line sdp-transform must not interpret; NUL never survives `scanSdp`, so it is unambiguous. */
const OPAQUE = '\u0000';

/**
 * The literal prefixes of sdp-transform's a= rules ("rtpmap:", "rtcp-mux", ...), read from its
 * grammar. A line starting with none of them can only land in `invalid`, verbatim, so it needs
 * no probe: that keeps the cost of unknown attributes to sdp-transform's own. If the grammar
 * ever holds a rule whose prefix cannot be read, `undefined`: every line is probed.
 */
// sdp-transform exports its grammar only as an untyped internal module; read here, never changed.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const GRAMMAR = require('sdp-transform/lib/grammar') as { a?: readonly { reg?: RegExp; push?: string }[] };
const PROBE_PREFIXES: readonly string[] | undefined = (() => {
  const prefixes: string[] = [];
  for (const rule of GRAMMAR.a ?? []) {
    if (rule.push === 'invalid') continue;
    const src = rule.reg?.source ?? '';
    const alt = /^\^\(([a-z-]+(?:\|[a-z-]+)*)\)/.exec(src);
    const word = /^\^([a-z-]+:?)/.exec(src);
    if (alt) prefixes.push(...alt[1]!.split('|'));
    else if (word) prefixes.push(word[1]!);
    else return undefined;
  }
  return prefixes.length > 0 ? prefixes : undefined;
})();

function needsProbe(value: string): boolean {
  return PROBE_PREFIXES === undefined || PROBE_PREFIXES.some((p) => value.startsWith(p));
}

/** Fields the m= line itself sets on a section, not attributes. */
const M_LINE_KEYS: ReadonlySet<string> = new Set(['rtp', 'fmtp', 'type', 'port', 'protocol', 'payloads']);

/**
 * Parse a session description. `body` may be the raw SIP body (UTF-8 octets).
 * Throws SdpError (with `status` 400 or 488 and a wire-safe `reason`) and nothing else.
 */
export function parseSdp(body: string | Uint8Array, options: ParseSdpOptions = {}): SdpSession {
  const limits = options.limits ?? DEFAULT_SDP_LIMITS;
  const text = typeof body === 'string' ? body : decodeUtf8(body, limits);
  const lines = scanSdp(text, limits);
  const opaque = findOpaqueAttributes(lines);
  let fed = '';
  lines.forEach((l, i) => {
    fed += opaque.has(i) ? `a=${OPAQUE}${l.value}\r\n` : `${l.type}=${l.value}\r\n`;
  });
  const session = sdpTransform.parse(fed);
  restoreOpaque(session, -1);
  session.media.forEach((m, i) => {
    restoreOpaque(m, i);
    // sdp-transform turns "0" into the number 0 and keeps "09" as text: normalise both fields.
    m.port = Number(m.port);
    m.payloads = m.payloads === undefined ? '' : String(m.payloads);
  });
  return session;
}

/**
 * Write a session description. The output is checked with the same rules as `parseSdp`, so
 * this gateway never emits a description it would itself refuse (throws SdpError). Like
 * sdp-transform, it fills in v=0 and an empty s= on the model when they are missing.
 */
export function writeSdp(session: SdpSession): string {
  const out = sdpTransform.write(session).split('\r\n');
  // sdp-transform writes o= sess-version and t= times with %d: beyond 2^53 they would change.
  const o = session.origin;
  const firstMedia = out.findIndex((l) => l.startsWith('m='));
  const sessionEnd = firstMedia < 0 ? out.length : firstMedia;
  for (let i = 0; i < sessionEnd; i++) {
    if (out[i]!.startsWith('o=') && o) {
      out[i] = `o=${o.username} ${String(o.sessionId)} ${String(o.sessionVersion)} ${o.netType} IP${o.ipVer} ${o.address}`;
    } else if (out[i]!.startsWith('t=') && session.timing) {
      out[i] = `t=${String(session.timing.start)} ${String(session.timing.stop)}`;
    }
  }
  const text = out.join('\r\n');
  scanSdp(text, WRITE_LIMITS);
  return text;
}

/** The m= section at `index`, or a RangeError (a caller bug, not a peer fault). */
export function mediaAt(sdp: SdpSession, index: number): SdpMedia {
  const m = Number.isInteger(index) ? sdp.media[index] : undefined;
  if (!m) throw new RangeError(`no m= section at index ${index}`);
  return m;
}

/**
 * The a=crypto values of a stream ("<tag> <suite> <key-params> [<session-params>]"), in order:
 * well-formed ones first, then malformed ones kept verbatim (SDES rejects them one by one).
 */
export function cryptoAttributeValues(sdp: SdpSession, index: number): string[] {
  const m = mediaAt(sdp, index);
  const values = (m.crypto ?? []).map((c) =>
    c.sessionConfig === undefined ? `${c.id} ${c.suite} ${c.config}` : `${c.id} ${c.suite} ${c.config} ${c.sessionConfig}`,
  );
  for (const inv of m.invalid ?? []) {
    if (inv.value.startsWith('crypto:')) values.push(inv.value.slice('crypto:'.length));
  }
  return values;
}

/** Values of the attributes sdp-transform does not model at one level, e.g. "zrtp-hash:1.10 ...". */
export function otherAttributes(level: SdpSession | SdpMedia): string[] {
  return (level.invalid ?? []).map((i) => i.value);
}

function decodeUtf8(body: Uint8Array, limits: SdpLimits): string {
  if (body.length > limits.maxBytes) throw new SdpError('too-large');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw new SdpError('encoding');
  }
}

function attributeName(value: string): string {
  const colon = value.indexOf(':');
  return colon < 0 ? value : value.slice(0, colon);
}

/** What probing one attribute value found: whether it survives sdp-transform, and the single-valued keys it sets. */
interface ProbeVerdict {
  readonly roundTrips: boolean;
  readonly singleKeys: readonly string[];
}

/**
 * Verdicts of attribute values seen before. Most a= lines repeat from call to call (rtpmap, fmtp,
 * ptime, direction, rtcp-mux...), so the probe (a parse and a write of each line) runs once per
 * distinct value. Only attributes that never carry a secret or a per-call identifier are kept
 * (never ice-pwd, key-mgmt or crypto), the map is bounded and starts over when full.
 */
const PROBE_CACHE = new Map<string, ProbeVerdict>();
const PROBE_CACHE_MAX = 2048;
const CACHEABLE = new Set(['rtpmap', 'fmtp', 'ptime', 'maxptime', 'sendrecv', 'sendonly', 'recvonly', 'inactive', 'rtcp', 'rtcp-mux', 'rtcp-rsize', 'rtcp-fb', 'setup', 'mid', 'framerate', 'silenceSupp', 'extmap']);

function remember(value: string, verdict: ProbeVerdict): void {
  if (value.length > 256 || !CACHEABLE.has(attributeName(value))) return;
  if (PROBE_CACHE.size >= PROBE_CACHE_MAX) PROBE_CACHE.clear();
  PROBE_CACHE.set(value, verdict);
}

/** Probes the values in one sdp-transform parse: each in a section of its own, written back and compared. */
function probe(values: readonly string[]): ProbeVerdict[] {
  let text = '';
  for (const v of values) text += `m=audio 9 RTP/AVP 0\r\na=${v}\r\n`;
  const parsed = sdpTransform.parse(text);
  const written = sdpTransform.write({ media: parsed.media } as SessionDescription).split('\r\n');
  const back: string[][] = [];
  for (const w of written) {
    if (w.startsWith('m=')) back.push([]);
    else if (w.startsWith('a=') && back.length > 0) back[back.length - 1]!.push(w.slice(2));
  }
  return values.map((value, k) => {
    const section = parsed.media[k] as unknown as Record<string, unknown> | undefined;
    const again = back[k];
    if (!section || !again || again.length !== 1 || again[0] !== value) return { roundTrips: false, singleKeys: [] };
    const singleKeys = Object.keys(section).filter((key) => !M_LINE_KEYS.has(key) && !Array.isArray(section[key]));
    return { roundTrips: true, singleKeys };
  });
}

/**
 * Indices of the a= lines to hand to sdp-transform as opaque text: a=crypto (kept verbatim), lines
 * sdp-transform would not write back as they came, and a second line of a single-valued attribute
 * at one level (sdp-transform would keep only the last).
 */
function findOpaqueAttributes(lines: readonly SdpLine[]): Set<number> {
  const opaque = new Set<number>();
  const verdicts = new Map<number, ProbeVerdict>();
  const unknown: number[] = [];
  lines.forEach((l, i) => {
    if (l.type !== 'a') return;
    if (attributeName(l.value) === 'crypto') {
      opaque.add(i);
      return;
    }
    if (!needsProbe(l.value)) return;
    const known = PROBE_CACHE.get(l.value);
    if (known) verdicts.set(i, known);
    else unknown.push(i);
  });
  if (unknown.length > 0) {
    const values = unknown.map((i) => lines[i]!.value);
    probe(values).forEach((v, k) => {
      verdicts.set(unknown[k]!, v);
      remember(values[k]!, v);
    });
  }

  const singleSeen = new Map<number, Set<string>>(); // level -> single-valued keys already set
  for (const [lineIndex, verdict] of [...verdicts].sort((a, b) => a[0] - b[0])) {
    if (!verdict.roundTrips) {
      opaque.add(lineIndex);
      continue;
    }
    const level = lines[lineIndex]!.media;
    let seen = singleSeen.get(level);
    if (!seen) singleSeen.set(level, (seen = new Set()));
    for (const key of verdict.singleKeys) {
      if (seen.has(key)) opaque.add(lineIndex);
      seen.add(key);
    }
  }
  return opaque;
}

/** Strip the opaque marker, and file well-formed a=crypto lines of a section under `crypto`. */
function restoreOpaque(level: SdpSession | SdpMedia, media: number): void {
  if (!level.invalid) return;
  const kept: { value: string }[] = [];
  for (const inv of level.invalid) {
    // sdp-transform turns an all-digit value ("a=1") into a number: keep text, as typed.
    const text = String(inv.value);
    const value = text.startsWith(OPAQUE) ? text.slice(OPAQUE.length) : text;
    const crypto = media >= 0 && value.startsWith('crypto:') ? splitCrypto(value.slice('crypto:'.length)) : undefined;
    if (crypto) {
      const m = level as SdpMedia;
      (m.crypto ??= []).push(crypto);
    } else {
      kept.push({ value });
    }
  }
  if (kept.length > 0) level.invalid = kept;
  else delete level.invalid;
}

/**
 * RFC 4568 §9.1: tag 1*WSP crypto-suite 1*WSP key-params *(1*WSP session-param), split into
 * sdp-transform's crypto fields; undefined when the line does not have that shape.
 */
function splitCrypto(value: string): NonNullable<SdpMedia['crypto']>[number] | undefined {
  const f = value.split(/[ \t]+/);
  if (f.length < 3) return undefined;
  const [tag, suite, config] = f as [string, string, string];
  if (tag.length === 0 || tag.length > 9 || !/^[0-9]+$/.test(tag)) return undefined;
  if (suite.length === 0 || !/^[A-Za-z0-9_]+$/.test(suite) || config.length === 0) return undefined;
  const entry: NonNullable<SdpMedia['crypto']>[number] = { id: Number(tag), suite, config };
  if (f.length > 3) {
    const rest = f.slice(3).filter((s) => s.length > 0);
    if (rest.length > 0) entry.sessionConfig = rest.join(' ');
  }
  return entry;
}
