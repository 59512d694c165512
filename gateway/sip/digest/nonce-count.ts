/**
 * Nonce-count replay protection (RFC 7616 §3.4: "if the same nc-value is seen twice, then the
 * request is a replay"; §5.4).
 *
 * Per nonce the table keeps the highest nc accepted and, optionally, a bitmap of the `window`
 * values below it (the anti-replay window of RFC 4303 §3.4.3), so that requests a client sent in
 * parallel may arrive out of order. With the default window of 0 the nc must strictly increase.
 *
 * Memory is bounded: at most `maxEntries` nonces, least recently used evicted first, and entries
 * leave once their nonce has expired (an expired nonce is stale anyway). Eviction must not reopen
 * a replay: the table remembers the newest issue time it ever evicted, and a nonce issued at or
 * before that time that it does not know is answered `evicted` (the server then says stale, the
 * client retries with a fresh nonce) instead of being taken for a first use.
 */

export interface NonceCountOptions {
  /** Most nonces tracked at once. Default 65 536. */
  maxEntries?: number;
  /**
   * Anti-replay window size, 0..32 (RFC 4303 §3.4.3): an unseen nc down to highest − window + 1 is
   * accepted. 0 or 1: the nc must strictly increase. Default 0.
   */
  window?: number;
  /** Clock in ms since the epoch. */
  now?: () => number;
}

/** `fresh`: first use of this nc; `replay`: seen before or too old; `evicted`: history lost. */
export type NonceCountVerdict = 'fresh' | 'replay' | 'evicted';

interface Entry {
  highest: number;
  /** Bit i set: nc (highest - i) was seen. */
  seen: number;
  issuedAt: number;
  expiresAt: number;
}

/** Expired entries dropped from the old end per call: keeps the sweep O(1) amortized. */
const SWEEP_PER_CALL = 4;
/** nc is 8 hex digits (RFC 7616 §3.4). */
export const NC_MAX = 0xffffffff;

export class NonceCountTracker {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly window: number;
  private readonly now: () => number;
  /** Newest issue time among evicted entries; nonces issued up to it have lost their history. */
  private evictedUpTo = -Infinity;

  constructor(options: NonceCountOptions = {}) {
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries ?? 65_536));
    const w = Math.floor(options.window ?? 0);
    if (!(w >= 0 && w <= 32)) throw new RangeError('nonce-count window must be 0..32');
    this.window = w;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Records `nc` for `nonce` if it was not seen before. Call only after the response has been
   * verified: otherwise anyone could burn a client's nonce-counts.
   */
  use(nonce: string, nc: number, issuedAt: number, expiresAt: number): NonceCountVerdict {
    if (!Number.isInteger(nc) || nc < 1 || nc > NC_MAX) return 'replay';
    this.sweep(SWEEP_PER_CALL);
    const e = this.entries.get(nonce);
    if (e === undefined) {
      if (issuedAt <= this.evictedUpTo) return 'evicted';
      this.entries.set(nonce, { highest: nc, seen: 1, issuedAt, expiresAt });
      this.evictOverflow();
      return 'fresh';
    }
    if (!this.accept(e, nc)) return 'replay';
    // Move to the young end: Map iteration order is insertion order, which makes it an LRU.
    this.entries.delete(nonce);
    this.entries.set(nonce, e);
    return 'fresh';
  }

  private accept(e: Entry, nc: number): boolean {
    if (nc > e.highest) {
      const shift = nc - e.highest;
      e.seen = shift >= 32 ? 1 : ((e.seen << shift) | 1) >>> 0;
      e.highest = nc;
      return true;
    }
    const diff = e.highest - nc;
    if (diff === 0 || diff >= this.window) return false;
    if (((e.seen >>> diff) & 1) === 1) return false;
    e.seen = (e.seen | (1 << diff)) >>> 0;
    return true;
  }

  private evictOverflow(): void {
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) return;
      const e = this.entries.get(oldest.value);
      if (e !== undefined && e.expiresAt >= this.now()) this.evictedUpTo = Math.max(this.evictedUpTo, e.issuedAt);
      this.entries.delete(oldest.value);
    }
  }

  /** Drops up to `limit` expired entries from the old end (default: all of them). */
  sweep(limit = Infinity): void {
    const now = this.now();
    let n = 0;
    for (const [nonce, e] of this.entries) {
      if (n >= limit) return;
      n++;
      if (e.expiresAt < now) this.entries.delete(nonce);
      else if (limit !== Infinity) return; // the old end is live: stop, keep it O(1)
    }
  }
}
