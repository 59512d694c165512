/**
 * The SDES a=crypto attribute for SRTP (RFC 4568 §9.1 grammar, §6.1 key-info, §6.3 session
 * parameters), with the suites of RFC 4568 §6.2, RFC 6188 §7 and RFC 7714 §14.1. Key and salt
 * lengths come from media/srtp/profiles.ts, the one source of truth for the SRTP transforms.
 *
 *   a=crypto:<tag> <suite> inline:<base64(key||salt)>[|<lifetime>][|<MKI>:<length>][;inline:...] [params]
 *
 * Parsing is strict and bounded: tokens are split on spaces/tabs, fields are read with indexOf and
 * character tests. Errors say what was wrong and the tag, never the key text.
 */
import { inspect } from 'node:util';
import { SdesError } from './errors';
import { profileFromSdesName, type SrtpProfile, type SrtpProfileName } from '../srtp/profiles';

/** One master key with its salt (RFC 3711 §8.1), as the SRTP context takes it. */
export interface SdesKey {
  readonly suite: SrtpProfileName;
  readonly masterKey: Buffer;
  readonly masterSalt: Buffer;
  /** Packets the key may protect (RFC 4568 §6.1), when the line limits it. */
  readonly lifetime?: number;
  /** Master Key Identifier bytes as they appear in each packet (RFC 3711 §3.1), when used. */
  readonly mki?: Buffer;
}

/** RFC 4568 §6.3 SRTP session parameters. FEC_KEY's key is not decoded (no FEC here). */
export interface SdesSessionParams {
  readonly unencryptedSrtp: boolean;
  readonly unencryptedSrtcp: boolean;
  readonly unauthenticatedSrtp: boolean;
  /** KDR=n: key derivation every 2^n packets (§6.3.1); undefined when absent. */
  readonly kdr: number | undefined;
  readonly fecOrder: 'FEC_SRTP' | 'SRTP_FEC' | undefined;
  readonly fecKey: boolean;
  /** WSH=n: replay window size hint in packets, at least 64 (§6.3.6). */
  readonly wsh: number | undefined;
  /** Session parameters not defined by RFC 4568, verbatim. */
  readonly unknown: readonly string[];
}

export interface SdesCryptoAttribute {
  readonly tag: number;
  readonly suite: SrtpProfileName;
  readonly keys: readonly SdesKey[];
  readonly sessionParams: SdesSessionParams;
}

/** 2^48: the SRTP master key limit (RFC 3711 §9.2), the largest lifetime worth stating. */
const MAX_LIFETIME = 2 ** 48;

/**
 * Parse one a=crypto value (the text after "a=crypto:"). Throws SdesError 'malformed-crypto'
 * when the line breaks the grammar or the suite's key length, 'unsupported-crypto' for a suite or
 * key method not implemented here.
 */
export function parseCryptoAttribute(value: string): SdesCryptoAttribute {
  const f = value.split(/[ \t]+/);
  while (f.length > 0 && f[f.length - 1] === '') f.pop(); // trailing blanks are harmless
  const tagText = f[0] ?? '';
  const tag = isDigits(tagText, 9) ? Number(tagText) : 0;
  if (tag < 1) throw new SdesError('malformed-crypto');
  if (f.length < 3) throw new SdesError('malformed-crypto', tag);
  const suiteText = f[1]!;
  if (!isSuiteToken(suiteText)) throw new SdesError('malformed-crypto', tag);
  const profile = profileFromSdesName(suiteText);
  if (!profile) throw new SdesError('unsupported-crypto', tag);

  const keys = f[2]!.split(';').map((kp) => parseKeyParam(kp, profile, tag));
  if (keys.length > 1) {
    // RFC 4568 §6.1: several master keys are told apart by MKI, all of the same length.
    const len = keys[0]!.mki?.length;
    const seen = new Set<string>();
    for (const k of keys) {
      if (!k.mki || k.mki.length !== len || seen.has(k.mki.toString('hex'))) throw new SdesError('malformed-crypto', tag);
      seen.add(k.mki.toString('hex'));
    }
  }
  return { tag, suite: profile.name, keys, sessionParams: parseSessionParams(f.slice(3), tag) };
}

/** Write an a=crypto value (without "a=crypto:"). Session parameters: the RFC 4568 ones only. */
export function formatCryptoAttribute(attr: Pick<SdesCryptoAttribute, 'tag' | 'suite' | 'keys'> & { sessionParams?: SdesSessionParams }): string {
  const keyParams = attr.keys.map((k) => {
    let s = `inline:${Buffer.concat([k.masterKey, k.masterSalt]).toString('base64')}`;
    if (k.lifetime !== undefined) s += `|${formatLifetime(k.lifetime)}`;
    if (k.mki !== undefined) s += `|${BigInt(`0x${k.mki.toString('hex')}`).toString(10)}:${k.mki.length}`;
    return s;
  });
  const params: string[] = [];
  const p = attr.sessionParams;
  if (p) {
    if (p.kdr !== undefined) params.push(`KDR=${p.kdr}`);
    if (p.unencryptedSrtp) params.push('UNENCRYPTED_SRTP');
    if (p.unencryptedSrtcp) params.push('UNENCRYPTED_SRTCP');
    if (p.unauthenticatedSrtp) params.push('UNAUTHENTICATED_SRTP');
    if (p.fecOrder !== undefined) params.push(`FEC_ORDER=${p.fecOrder}`);
    if (p.wsh !== undefined) params.push(`WSH=${p.wsh}`);
  }
  return [String(attr.tag), attr.suite, keyParams.join(';'), ...params].join(' ');
}

/**
 * Build an SdesKey whose key bytes never reach a log by accident: util.inspect and JSON show
 * only lengths. The fields stay ordinary enumerable properties for the SRTP context.
 */
export function makeSdesKey(suite: SrtpProfileName, masterKey: Buffer, masterSalt: Buffer, lifetime?: number, mki?: Buffer): SdesKey {
  const key: SdesKey = { suite, masterKey, masterSalt, ...(lifetime !== undefined && { lifetime }), ...(mki !== undefined && { mki }) };
  const redacted = (): Record<string, unknown> => ({
    suite,
    masterKey: `[${masterKey.length} bytes redacted]`,
    masterSalt: `[${masterSalt.length} bytes redacted]`,
    ...(lifetime !== undefined && { lifetime }),
    ...(mki !== undefined && { mkiLength: mki.length }),
  });
  Object.defineProperty(key, 'toJSON', { value: redacted, enumerable: false });
  Object.defineProperty(key, inspect.custom, { value: () => `SdesKey ${inspect(redacted())}`, enumerable: false });
  return Object.freeze(key);
}

function parseKeyParam(kp: string, profile: SrtpProfile, tag: number): SdesKey {
  const colon = kp.indexOf(':');
  if (colon <= 0) throw new SdesError('malformed-crypto', tag);
  const method = kp.slice(0, colon);
  if (method !== 'inline') {
    throw new SdesError(isSuiteToken(method) ? 'unsupported-crypto' : 'malformed-crypto', tag);
  }
  const parts = kp.slice(colon + 1).split('|');
  if (parts.length > 3) throw new SdesError('malformed-crypto', tag);
  const keySalt = decodeBase64Exact(parts[0]!, profile.keyLength + profile.saltLength);
  if (!keySalt) throw new SdesError('malformed-crypto', tag);
  let lifetime: number | undefined;
  let mki: Buffer | undefined;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.includes(':')) {
      if (mki !== undefined || i !== parts.length - 1) throw new SdesError('malformed-crypto', tag);
      mki = parseMki(part, tag);
    } else {
      if (lifetime !== undefined || mki !== undefined) throw new SdesError('malformed-crypto', tag);
      lifetime = parseLifetime(part, tag);
    }
  }
  // Own copies outside Buffer's shared pool, so a caller can wipe them with fill(0).
  const masterKey = Buffer.alloc(profile.keyLength);
  const masterSalt = Buffer.alloc(profile.saltLength);
  keySalt.copy(masterKey, 0, 0, profile.keyLength);
  keySalt.copy(masterSalt, 0, profile.keyLength);
  keySalt.fill(0);
  return makeSdesKey(profile.name, masterKey, masterSalt, lifetime, mki);
}

/** RFC 4568 §6.1: lifetime = ["2^"] 1*(DIGIT), in packets; 1 ≤ lifetime ≤ 2^48. */
function parseLifetime(text: string, tag: number): number {
  let n: number;
  if (text.startsWith('2^')) {
    const e = text.slice(2);
    if (!isDigits(e, 2) || Number(e) > 48) throw new SdesError('malformed-crypto', tag);
    n = 2 ** Number(e);
  } else {
    if (!isDigits(text, 15)) throw new SdesError('malformed-crypto', tag);
    n = Number(text);
  }
  if (n < 1 || n > MAX_LIFETIME) throw new SdesError('malformed-crypto', tag);
  return n;
}

function formatLifetime(n: number): string {
  const e = Math.log2(n);
  return Number.isInteger(e) ? `2^${e}` : String(n);
}

/** RFC 4568 §6.1: mki = mki-value ":" mki-length; value decimal, length 1..128 octets. */
function parseMki(text: string, tag: number): Buffer {
  const colon = text.indexOf(':');
  const valueText = text.slice(0, colon);
  const lengthText = text.slice(colon + 1);
  if (!isDigits(lengthText, 3)) throw new SdesError('malformed-crypto', tag);
  const length = Number(lengthText);
  if (length < 1 || length > 128 || !isDigits(valueText, 3 * length + 1)) throw new SdesError('malformed-crypto', tag);
  const value = BigInt(valueText);
  if (value >= 1n << BigInt(8 * length)) throw new SdesError('malformed-crypto', tag);
  return Buffer.from(value.toString(16).padStart(2 * length, '0'), 'hex');
}

function parseSessionParams(params: readonly string[], tag: number): SdesSessionParams {
  let unencryptedSrtp = false;
  let unencryptedSrtcp = false;
  let unauthenticatedSrtp = false;
  let kdr: number | undefined;
  let fecOrder: 'FEC_SRTP' | 'SRTP_FEC' | undefined;
  let fecKey = false;
  let wsh: number | undefined;
  const unknown: string[] = [];
  const seen = new Set<string>();
  for (const p of params) {
    if (!isVisibleAscii(p)) throw new SdesError('malformed-crypto', tag);
    const eq = p.indexOf('=');
    const name = eq < 0 ? p : p.slice(0, eq + 1);
    if (seen.has(name)) throw new SdesError('malformed-crypto', tag);
    seen.add(name);
    const arg = p.slice(eq + 1);
    if (p === 'UNENCRYPTED_SRTP') unencryptedSrtp = true;
    else if (p === 'UNENCRYPTED_SRTCP') unencryptedSrtcp = true;
    else if (p === 'UNAUTHENTICATED_SRTP') unauthenticatedSrtp = true;
    else if (name === 'KDR=') {
      // §6.3.1: 1*2DIGIT, 0..24; leading zeros refused so "KDR=05" cannot mean two things.
      if (!isDigits(arg, 2) || Number(arg) > 24 || (arg.length === 2 && arg[0] === '0')) throw new SdesError('malformed-crypto', tag);
      kdr = Number(arg);
    } else if (name === 'FEC_ORDER=') {
      if (arg !== 'FEC_SRTP' && arg !== 'SRTP_FEC') throw new SdesError('malformed-crypto', tag);
      fecOrder = arg;
    } else if (name === 'FEC_KEY=') {
      if (!arg.startsWith('inline:')) throw new SdesError('malformed-crypto', tag);
      fecKey = true;
    } else if (name === 'WSH=') {
      if (!isDigits(arg, 10) || Number(arg) < 64) throw new SdesError('malformed-crypto', tag);
      wsh = Number(arg);
    } else unknown.push(p);
  }
  return { unencryptedSrtp, unencryptedSrtcp, unauthenticatedSrtp, kdr, fecOrder, fecKey, wsh, unknown };
}

/**
 * Strict base64 (RFC 4648 §4) of exactly `length` octets, padded or not (both are met in the
 * field), canonical (no stray bits). Returns undefined on any deviation.
 */
export function decodeBase64Exact(text: string, length: number): Buffer | undefined {
  const unpadded = Math.ceil((length * 4) / 3);
  const padded = 4 * Math.ceil(length / 3);
  if (text.length !== unpadded && text.length !== padded) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const b64 = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
    if (!b64 && !(c === 0x3d && i >= unpadded)) return undefined;
  }
  const buf = Buffer.from(text, 'base64');
  if (buf.length !== length || buf.toString('base64') !== text.padEnd(padded, '=')) {
    buf.fill(0);
    return undefined;
  }
  return buf;
}

function isDigits(s: string, maxLength: number): boolean {
  if (s.length === 0 || s.length > maxLength) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** crypto-suite = 1*(ALPHA / DIGIT / "_") (RFC 4568 §9.1); key-method has the same shape. */
function isSuiteToken(s: string): boolean {
  if (s.length === 0 || s.length > 64) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f)) return false;
  }
  return true;
}

function isVisibleAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return s.length > 0;
}
