/**
 * Digest hash algorithms and the response computation (RFC 7616 §3.4.1–§3.4.3, RFC 8760 §2.1,
 * RFC 2069 for the legacy no-qop form).
 *
 * Digest values are lower-case hex (RFC 7616 §3.4.1). Strings are hashed as UTF-8, the charset
 * SIP uses throughout (RFC 3261 §7.4.1) and the one RFC 7616 §4 defines.
 */
import { createHash } from 'node:crypto';
import { DigestConfigError } from './errors';

/** The hash functions (IANA "HTTP Digest Hash Algorithms", RFC 7616 §6.1). */
export type DigestHash = 'MD5' | 'SHA-256' | 'SHA-512-256';

/** An `algorithm` parameter value: a hash, or its session variant (RFC 7616 §3.4.2). */
export type DigestAlgorithm = DigestHash | `${DigestHash}-sess`;

/** Every supported algorithm, strongest hash first. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = [
  'SHA-512-256',
  'SHA-512-256-sess',
  'SHA-256',
  'SHA-256-sess',
  'MD5',
  'MD5-sess',
];

const NODE_HASH: Readonly<Record<DigestHash, string>> = {
  MD5: 'md5',
  'SHA-256': 'sha256',
  // RFC 8760 §2.1: SHA-512/256 is SHA-512 with its own IVs truncated to 256 bits, not a
  // truncated SHA-512 output; OpenSSL's 'sha512-256' is exactly that (FIPS 180-4 §5.3.6.2).
  'SHA-512-256': 'sha512-256',
};

/** Digest size in hex characters (RFC 7616 §6.1 "Digest Size"). */
const HEX_LENGTH: Readonly<Record<DigestHash, number>> = { MD5: 32, 'SHA-256': 64, 'SHA-512-256': 64 };

/** Local ranking used to pick among offered challenges (higher is stronger). */
export const HASH_STRENGTH: Readonly<Record<DigestHash, number>> = { MD5: 1, 'SHA-256': 2, 'SHA-512-256': 3 };

/**
 * Maps an `algorithm` parameter to an algorithm, case-insensitively (RFC 7616 §3.3). An absent
 * parameter means MD5 (RFC 7616 §3.3, RFC 3261 §20.27). Unknown values give `undefined`.
 */
export function parseAlgorithm(token: string | undefined): DigestAlgorithm | undefined {
  if (token === undefined) return 'MD5';
  const t = token.toLowerCase();
  for (const a of DIGEST_ALGORITHMS) if (a.toLowerCase() === t) return a;
  return undefined;
}

/** The hash underlying an algorithm (`SHA-256-sess` → `SHA-256`). */
export function hashOf(alg: DigestAlgorithm): DigestHash {
  return (alg.endsWith('-sess') ? alg.slice(0, -5) : alg) as DigestHash;
}

export function isSessionAlgorithm(alg: DigestAlgorithm): boolean {
  return alg.endsWith('-sess');
}

export function hexLength(hash: DigestHash): number {
  return HEX_LENGTH[hash];
}

/** H(data): lower-case hex digest of the UTF-8 bytes of `data`. */
export function digestHex(hash: DigestHash, data: string): string {
  return createHash(NODE_HASH[hash]).update(data, 'utf8').digest('hex');
}

/** HA1 = H(username ":" realm ":" password) (RFC 7616 §3.4.2): the stored secret form. */
export function computeHA1(hash: DigestHash, username: string, realm: string, password: string): string {
  return digestHex(hash, `${username}:${realm}:${password}`);
}

/**
 * The key the response is computed with: HA1 itself, or for a `-sess` algorithm
 * H(HA1 ":" nonce ":" cnonce) (RFC 7616 §3.4.2).
 */
export function sessionKey(alg: DigestAlgorithm, ha1: string, nonce: string, cnonce: string): string {
  return isSessionAlgorithm(alg) ? digestHex(hashOf(alg), `${ha1}:${nonce}:${cnonce}`) : ha1;
}

/** HA2 = H(method ":" digest-uri) for qop=auth or no qop (RFC 7616 §3.4.3). */
export function computeHA2(hash: DigestHash, method: string, uri: string): string {
  return digestHex(hash, `${method}:${uri}`);
}

export interface ResponseInput {
  /** HA1, or the session key for a `-sess` algorithm. */
  ha1: string;
  nonce: string;
  /** nc exactly as sent on the wire (8 hex digits). */
  nc: string;
  cnonce: string;
  qop: string;
  ha2: string;
}

/** response = KD(HA1, nonce ":" nc ":" cnonce ":" qop ":" HA2) (RFC 7616 §3.4.1). */
export function computeResponse(hash: DigestHash, r: ResponseInput): string {
  return digestHex(hash, `${r.ha1}:${r.nonce}:${r.nc}:${r.cnonce}:${r.qop}:${r.ha2}`);
}

/**
 * The RFC 2069 response, used when the challenge had no qop: KD(HA1, nonce ":" HA2). Kept for the
 * client only (old trunks); the server always asks for qop=auth.
 */
export function computeLegacyResponse(hash: DigestHash, ha1: string, nonce: string, ha2: string): string {
  return digestHex(hash, `${ha1}:${nonce}:${ha2}`);
}

/** True when `s` is only hex digits (either case); the empty string is hex. */
export function isHex(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const isDigit = c >= 0x30 && c <= 0x39;
    const isHexLetter = (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
    if (!isDigit && !isHexLetter) return false;
  }
  return true;
}

/** True when `s` is hex of the digest size of `hash` (either case). */
export function isDigestHex(hash: DigestHash, s: string): boolean {
  return s.length === HEX_LENGTH[hash] && isHex(s);
}

/**
 * Normalizes a stored HA1 to lower-case hex. A string is hex (either case); a Buffer is the raw
 * digest bytes. Returns `undefined` for a value of the wrong size or form.
 */
export function normalizeHA1(hash: DigestHash, stored: Buffer | string): string | undefined {
  if (typeof stored === 'string') return isDigestHex(hash, stored) ? stored.toLowerCase() : undefined;
  return stored.length * 2 === HEX_LENGTH[hash] ? stored.toString('hex') : undefined;
}

/** Checks a list of configured algorithms: non-empty, known, no duplicates. */
export function checkAlgorithmList(list: readonly string[], what: string): DigestAlgorithm[] {
  if (list.length === 0) throw new DigestConfigError(`${what}: empty algorithm list`);
  const out: DigestAlgorithm[] = [];
  for (const name of list) {
    const alg = (DIGEST_ALGORITHMS as readonly string[]).includes(name) ? (name as DigestAlgorithm) : undefined;
    if (alg === undefined) throw new DigestConfigError(`${what}: unknown algorithm ${JSON.stringify(name)}`);
    if (out.includes(alg)) throw new DigestConfigError(`${what}: duplicate algorithm ${alg}`);
    out.push(alg);
  }
  return out;
}
