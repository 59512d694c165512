/**
 * Call admission (issue 5 §5): a calls-per-second limit per source address (a token bucket), and
 * concurrent-call limits, global and per user. A refused call gets 503 Service Unavailable with
 * Retry-After (RFC 3261 §21.5.4, §20.33): the caller may try again later, and a well-behaved PBX
 * fails over to another route meanwhile.
 */

export interface CallLimitSettings {
  /** Calls in progress (ringing or answered) on the whole gateway; 0 = no limit. */
  readonly maxConcurrent: number;
  /** Calls in progress in which one user takes part (as caller or callee); 0 = no limit. */
  readonly maxPerUser: number;
  /** New INVITEs accepted per second from one source address (burst: the same number); 0 = no limit. */
  readonly cpsPerSource: number;
  /** Retry-After of the 503, seconds. */
  readonly retryAfterSec: number;
}

/** Why admission was refused. */
export type Refusal = 'rate' | 'global' | 'user';

/** Most source addresses tracked; beyond, idle buckets are dropped first (a spoofed UDP flood must not grow memory). */
const MAX_SOURCES = 65_536;

interface Bucket {
  tokens: number;
  at: number;
}

/** A held admission: release it exactly once when the call ends. */
export interface CallSlot {
  release(): void;
}

export class CallLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perUser = new Map<string, number>();
  private active = 0;

  constructor(
    private readonly settings: CallLimitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls holding a slot. */
  get concurrent(): number {
    return this.active;
  }

  /** Calls holding a slot for `user`. */
  callsOf(user: string): number {
    return this.perUser.get(user) ?? 0;
  }

  /** Takes one token from the source's bucket; false when it is empty (RFC 3261 §21.5.4 overload). */
  admitSource(address: string): boolean {
    const rate = this.settings.cpsPerSource;
    if (rate <= 0) return true;
    const now = this.now();
    let b = this.buckets.get(address);
    if (b === undefined) {
      if (this.buckets.size >= MAX_SOURCES) this.evict(now);
      b = { tokens: rate, at: now };
      this.buckets.set(address, b);
    } else {
      b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / 1000);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /**
   * Takes a concurrent-call slot for a call between `users` (the local users taking part: caller
   * and/or callee). Returns the slot, or why it was refused; nothing is held after a refusal.
   */
  acquire(users: readonly string[]): CallSlot | Refusal {
    const s = this.settings;
    if (s.maxConcurrent > 0 && this.active >= s.maxConcurrent) return 'global';
    const unique = [...new Set(users)];
    if (s.maxPerUser > 0 && unique.some((u) => this.callsOf(u) >= s.maxPerUser)) return 'user';
    this.active++;
    for (const u of unique) this.perUser.set(u, this.callsOf(u) + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.active--;
        for (const u of unique) {
          const n = this.callsOf(u) - 1;
          if (n <= 0) this.perUser.delete(u);
          else this.perUser.set(u, n);
        }
      },
    };
  }

  /** Adds a user to a held slot (the callee, once routing named it); false when that user is at the limit. */
  extend(slot: CallSlot, user: string): CallSlot | 'user' {
    const max = this.settings.maxPerUser;
    if (max > 0 && this.callsOf(user) >= max) return 'user';
    this.perUser.set(user, this.callsOf(user) + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        slot.release();
        const n = this.callsOf(user) - 1;
        if (n <= 0) this.perUser.delete(user);
        else this.perUser.set(user, n);
      },
    };
  }

  /** Forgets full buckets (they hold no information), then the oldest ones, down to 3/4 of the cap. */
  private evict(now: number): void {
    const rate = this.settings.cpsPerSource;
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * rate) / 1000 >= rate) this.buckets.delete(k);
    }
    for (const k of this.buckets.keys()) {
      if (this.buckets.size < (MAX_SOURCES * 3) / 4) break;
      this.buckets.delete(k);
    }
  }
}
