/**
 * Fresh SDES master keys, one per crypto line, per offer or answer, per leg (RFC 4568 §8;
 * RFC 3711 §9.1: one key used by two senders repeats keystream).
 *
 * Keys come from node:crypto's CSPRNG. The ring also remembers a keyed digest (HMAC-SHA-256
 * under a per-ring random secret; never the key) of every key it issued and every peer key it
 * was shown, and refuses to hand out a key it already knows. With a working CSPRNG this never
 * triggers (2^-128); it is the tripwire for the failures that do happen in practice: an RNG
 * state duplicated across processes, or a B2BUA bug copying one leg's a=crypto into another.
 */
import { createHmac, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';
import { SdesError } from './errors';
import { makeSdesKey, type SdesKey } from './crypto-attribute';
import { getSrtpProfile, type SrtpProfileName } from '../srtp/profiles';

export interface SdesKeyRingOptions {
  /** How many digests to remember (oldest forgotten first); default 16384. */
  historySize?: number;
}

export class SdesKeyRing {
  readonly #secret = randomBytes(32);
  /** Circular buffer of remembered digests, oldest at #next once full. */
  readonly #history: (string | undefined)[];
  #next = 0;
  /** digest -> true when this ring issued the key, false when a peer showed it to us. */
  readonly #known = new Map<string, boolean>();
  #issued = 0;

  constructor(options: SdesKeyRingOptions = {}) {
    const size = options.historySize ?? 16384;
    if (!Number.isInteger(size) || size < 1) throw new RangeError('historySize must be a positive integer');
    this.#history = new Array<string | undefined>(size);
  }

  /** Keys issued by this ring so far. */
  get issued(): number {
    return this.#issued;
  }

  /** A fresh master key and salt for `suite`. Throws SdesError 'key-reuse' if it was seen before. */
  issue(suite: SrtpProfileName): SdesKey {
    const profile = getSrtpProfile(suite);
    if (!profile) throw new SdesError('bad-configuration');
    // Buffer.alloc, not randomBytes: a key of its own, outside Buffer's shared pool, wipeable.
    const masterKey = randomFillSync(Buffer.alloc(profile.keyLength));
    const masterSalt = randomFillSync(Buffer.alloc(profile.saltLength));
    const digest = this.#digest(masterKey, masterSalt);
    if (this.#known.has(digest)) throw new SdesError('key-reuse');
    this.#remember(digest, true);
    this.#issued++;
    return makeSdesKey(profile.name, masterKey, masterSalt);
  }

  /** Remember a key received from a peer, so that no key this ring issues can ever equal it. */
  observe(key: Pick<SdesKey, 'masterKey' | 'masterSalt'>): void {
    const digest = this.#digest(key.masterKey, key.masterSalt);
    if (!this.#known.has(digest)) this.#remember(digest, false);
  }

  /** Whether this ring issued or observed `key` (within its history). For tests and audits. */
  knows(key: Pick<SdesKey, 'masterKey' | 'masterSalt'>): boolean {
    return this.#known.has(this.#digest(key.masterKey, key.masterSalt));
  }

  /** Whether this ring issued `key`: a peer presenting it is reflecting one of our keys. */
  issuedHere(key: Pick<SdesKey, 'masterKey' | 'masterSalt'>): boolean {
    return this.#known.get(this.#digest(key.masterKey, key.masterSalt)) === true;
  }

  #digest(masterKey: Buffer, masterSalt: Buffer): string {
    // The salt is included: RFC 3711 §8.2 relies on key *and* salt for keystream separation.
    return createHmac('sha256', this.#secret).update(masterKey).update(masterSalt).digest('base64');
  }

  #remember(digest: string, issued: boolean): void {
    const evicted = this.#history[this.#next];
    if (evicted !== undefined) this.#known.delete(evicted);
    this.#history[this.#next] = digest;
    this.#next = (this.#next + 1) % this.#history.length;
    this.#known.set(digest, issued);
  }
}

/** The ring used when a caller does not pass one: one per process. */
export const defaultKeyRing = new SdesKeyRing();

/** Constant-time equality of two keys (master key and salt). */
export function sameKey(a: Pick<SdesKey, 'masterKey' | 'masterSalt'>, b: Pick<SdesKey, 'masterKey' | 'masterSalt'>): boolean {
  if (a.masterKey.length !== b.masterKey.length || a.masterSalt.length !== b.masterSalt.length) return false;
  return timingSafeEqual(Buffer.concat([a.masterKey, a.masterSalt]), Buffer.concat([b.masterKey, b.masterSalt]));
}
