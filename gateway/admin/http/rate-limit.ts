/**
 * Per-source attempt limiting (fixed windows), for the endpoints an unauthenticated client can
 * reach: the self-service password change and bearer-token failures.
 *
 * Keys are the source address; IPv6 sources are keyed by their /64, the block one host normally
 * controls (RFC 6177 assigns end sites a /48..../64), so stepping through addresses gains nothing.
 * The table is bounded: when full, expired windows are dropped first, then the oldest entries.
 */
import { isIPv6 } from 'node:net';

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Seconds until the window resets (for Retry-After, RFC 9110 §10.2.3). */
  readonly retryAfterSec: number;
  /** True for the first refused attempt of a window (log/audit that one, not every one). */
  readonly firstRefusal: boolean;
}

interface Window {
  start: number;
  count: number;
}

export interface RateLimiterOptions {
  readonly maxAttempts: number;
  readonly windowMs: number;
  /** Most sources tracked at once (default 10 000). */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

export class RateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly options: RateLimiterOptions) {
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Counts one attempt from `address` and says whether it may proceed. */
  attempt(address: string): RateLimitDecision {
    const key = sourceKey(address);
    const now = this.now();
    let w = this.windows.get(key);
    if (w === undefined || now - w.start >= this.options.windowMs) {
      if (w !== undefined) this.windows.delete(key);
      this.makeRoom(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    const retryAfterSec = Math.max(1, Math.ceil((w.start + this.options.windowMs - now) / 1000));
    const allowed = w.count <= this.options.maxAttempts;
    return { allowed, retryAfterSec, firstRefusal: w.count === this.options.maxAttempts + 1 };
  }

  /** Number of sources currently tracked. */
  get size(): number {
    return this.windows.size;
  }

  private makeRoom(now: number): void {
    if (this.windows.size < this.maxKeys) return;
    for (const [k, w] of this.windows) if (now - w.start >= this.options.windowMs) this.windows.delete(k);
    // Map iteration is insertion order: the first keys are the oldest windows. Bounded by size.
    for (const k of this.windows.keys()) {
      if (this.windows.size < this.maxKeys) break;
      this.windows.delete(k);
    }
  }
}

/** The address itself, or for IPv6 its first four hextets (/64). IPv4-mapped IPv6 → the IPv4. */
export function sourceKey(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!isIPv6(address)) return address;
  return expandIPv6(address).slice(0, 4).join(':') + '::/64';
}

function expandIPv6(address: string): string[] {
  const zone = address.indexOf('%');
  const bare = zone >= 0 ? address.slice(0, zone) : address;
  const [head, tail] = bare.split('::', 2);
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...fill, ...right].map((h) => h.toLowerCase().replace(/^0+(?=.)/, ''));
}
