/**
 * Stateless server nonces (RFC 7616 §3.3 "nonce", §5.4 "Limited-Use Nonce Values").
 *
 *   nonce = base64url( timestamp(8, ms, big-endian) || random(16) || HMAC-SHA256(secret, ·)(32) )
 *   HMAC input = timestamp || random || len16(realm) || realm || binding
 *
 * The server keeps no per-challenge state: authenticity and age are read back from the nonce.
 * Binding the realm stops a nonce of one realm being used in another; the optional binding (e.g.
 * the client's address) limits a nonce to the flow it was issued to. The secret is rotatable:
 * the previous one still validates during a grace period so that rotation does not reject
 * nonces handed out a moment before.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { fillRandom } from '../random';
import { DigestConfigError } from './errors';

const TS_BYTES = 8;
const RANDOM_BYTES = 16;
const MAC_BYTES = 32;
const RAW_BYTES = TS_BYTES + RANDOM_BYTES + MAC_BYTES;
/** base64url without padding of 56 bytes. */
export const NONCE_LENGTH = Math.ceil((RAW_BYTES * 4) / 3);
/** HMAC-SHA256 keys shorter than the hash output weaken it (RFC 2104 §3). */
export const NONCE_SECRET_MIN_BYTES = 32;
/** Longest realm the HMAC input encodes (16-bit length prefix); real realms are far shorter. */
const MAX_REALM_BYTES = 0xffff;
/** Nonces time-stamped this far in the future (clock stepped back) are treated as stale. */
const FUTURE_SKEW_MS = 5_000;

export interface NonceOptions {
  /** HMAC key, at least 32 bytes (e.g. shared by a cluster). Default: 32 random bytes. */
  secret?: Buffer;
  /** Lifetime of a nonce; older ones are stale (RFC 7616 §3.3). Default 300 s. */
  expirySeconds?: number;
  /** How long the previous secret still validates after {@link NonceManager.rotate}. Default: the expiry. */
  graceSeconds?: number;
  /** Clock in ms since the epoch (tests inject one). */
  now?: () => number;
}

/** What a nonce says about itself. `issuedAt`/`expiresAt` are ms since the epoch. */
export type NonceCheck =
  | { status: 'valid'; issuedAt: number; expiresAt: number }
  | { status: 'stale'; issuedAt: number; expiresAt: number }
  | { status: 'invalid' };

function isBase64UrlChar(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f
  );
}

function checkSecret(secret: Buffer): Buffer {
  if (!Buffer.isBuffer(secret) || secret.length < NONCE_SECRET_MIN_BYTES) {
    throw new DigestConfigError(`nonce secret must be at least ${NONCE_SECRET_MIN_BYTES} bytes`);
  }
  return Buffer.from(secret); // own copy: zeroed when it is retired
}

function checkSeconds(v: number, what: string): number {
  if (!Number.isFinite(v) || v <= 0) throw new DigestConfigError(`${what} must be a positive number of seconds`);
  return v * 1000;
}

export class NonceManager {
  readonly expiryMs: number;
  private readonly graceMs: number;
  private readonly now: () => number;
  #current: Buffer;
  #previous: Buffer | undefined;
  #previousUntil = 0;

  constructor(options: NonceOptions = {}) {
    this.expiryMs = checkSeconds(options.expirySeconds ?? 300, 'nonce expiry');
    this.graceMs = options.graceSeconds === undefined ? this.expiryMs : checkSeconds(options.graceSeconds, 'grace');
    this.now = options.now ?? Date.now;
    this.#current = options.secret === undefined ? randomBytes(32) : checkSecret(options.secret);
  }

  /** Replaces the secret (default: fresh random); the old one validates for the grace period. */
  rotate(secret?: Buffer): void {
    const next = secret === undefined ? randomBytes(32) : checkSecret(secret);
    this.#previous?.fill(0);
    this.#previous = this.#current;
    this.#previousUntil = this.now() + this.graceMs;
    this.#current = next;
  }

  /** A fresh nonce for `realm` (and `binding`, if the verifier will pass the same one). */
  issue(realm: string, binding = ''): string {
    const raw = Buffer.alloc(RAW_BYTES);
    raw.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.now()))), 0);
    fillRandom(raw, TS_BYTES, RANDOM_BYTES);
    this.mac(this.#current, raw.subarray(0, TS_BYTES + RANDOM_BYTES), realm, binding).copy(raw, TS_BYTES + RANDOM_BYTES);
    return raw.toString('base64url');
  }

  /**
   * Authenticates a nonce and reads its age. Forged, truncated, re-encoded or foreign-realm nonces
   * are `invalid`; authentic ones older than the expiry are `stale` (RFC 7616 §3.3).
   */
  check(nonce: string, realm: string, binding = ''): NonceCheck {
    if (nonce.length !== NONCE_LENGTH) return { status: 'invalid' };
    for (let i = 0; i < nonce.length; i++) if (!isBase64UrlChar(nonce.charCodeAt(i))) return { status: 'invalid' };
    const raw = Buffer.from(nonce, 'base64url');
    // The last character carries 2 spare bits: only the canonical spelling is accepted, so one
    // nonce has one string form and the nonce-count table cannot be bypassed by re-encoding.
    if (raw.length !== RAW_BYTES || raw.toString('base64url') !== nonce) return { status: 'invalid' };
    const body = raw.subarray(0, TS_BYTES + RANDOM_BYTES);
    const tag = raw.subarray(TS_BYTES + RANDOM_BYTES);
    const now = this.now();
    if (this.#previous !== undefined && now > this.#previousUntil) {
      this.#previous.fill(0);
      this.#previous = undefined;
    }
    let authentic = timingSafeEqual(this.mac(this.#current, body, realm, binding), tag);
    if (!authentic && this.#previous !== undefined) {
      authentic = timingSafeEqual(this.mac(this.#previous, body, realm, binding), tag);
    }
    if (!authentic) return { status: 'invalid' };
    const issuedAt = Number(raw.readBigUInt64BE(0));
    const expiresAt = issuedAt + this.expiryMs;
    const fresh = now <= expiresAt && issuedAt <= now + FUTURE_SKEW_MS;
    return { status: fresh ? 'valid' : 'stale', issuedAt, expiresAt };
  }

  private mac(key: Buffer, body: Buffer, realm: string, binding: string): Buffer {
    const realmBytes = Buffer.from(realm, 'utf8');
    if (realmBytes.length > MAX_REALM_BYTES) throw new DigestConfigError('realm too long');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(realmBytes.length, 0);
    return createHmac('sha256', key).update(body).update(len).update(realmBytes).update(binding, 'utf8').digest();
  }
}
