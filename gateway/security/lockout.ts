/**
 * Account lockout: after `maxFailures` digest failures for one account name within `windowMs`,
 * the name is locked for `lockMs` (OWASP ASVS V2.2.1 "anti-automation"; NIST SP 800-63B §5.2.2
 * "rate limiting").
 *
 * The key is the name as the client wrote it, whether or not such an account exists: locking only
 * real accounts would make "locked" an answer to "does this user exist?". A locked name gets the
 * same 403 as a wrong password (the registrar decides that), so the lock is not observable either.
 *
 * Memory is bounded: at most `maxTracked` names with failures pending; beyond it the oldest
 * unlocked entries go first (names that are locked are kept while any unlocked one can go).
 */
import { positiveInt } from './types';

export interface LockoutOptions {
  /** Failures within the window that lock the name. Default 5. */
  maxFailures?: number;
  /** The window, counted from the first failure in it. Default 15 min. */
  windowMs?: number;
  /** How long a lock lasts. Default 15 min. */
  lockMs?: number;
  /** Names tracked at once. Default 100 000. */
  maxTracked?: number;
  now?: () => number;
}

interface Entry {
  windowStart: number;
  failures: number;
  /** 0 when not locked. */
  lockedUntil: number;
}

/** Longest name kept as a key: longer ones cannot be account names and are cut (bounded memory). */
const MAX_KEY_LENGTH = 128;

export class AccountLockout {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly lockMs: number;
  private readonly maxTracked: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();

  constructor(options: LockoutOptions = {}) {
    this.maxFailures = positiveInt(options.maxFailures ?? 5, 'lockout maxFailures');
    this.windowMs = positiveInt(options.windowMs ?? 15 * 60_000, 'lockout window');
    this.lockMs = positiveInt(options.lockMs ?? 15 * 60_000, 'lockout duration');
    this.maxTracked = positiveInt(options.maxTracked ?? 100_000, 'lockout maxTracked');
    this.now = options.now ?? Date.now;
  }

  /** Names currently tracked (failures pending or locked). */
  get size(): number {
    return this.entries.size;
  }

  isLocked(name: string): boolean {
    const e = this.entries.get(key(name));
    return e !== undefined && e.lockedUntil > this.now();
  }

  /** When the lock on `name` ends, or undefined when it is not locked. */
  lockedUntil(name: string): number | undefined {
    const e = this.entries.get(key(name));
    return e !== undefined && e.lockedUntil > this.now() ? e.lockedUntil : undefined;
  }

  /**
   * Records one failure. Returns true when this failure locked the name. Failures while locked do
   * not extend the lock: an attacker could otherwise keep a victim locked out for ever at the
   * price of one request per lock period, instead of five.
   */
  failure(name: string): boolean {
    const k = key(name);
    const now = this.now();
    let e = this.entries.get(k);
    if (e !== undefined && e.lockedUntil > now) return false;
    if (e === undefined || now - e.windowStart >= this.windowMs || e.lockedUntil !== 0) {
      if (e === undefined) this.makeRoom();
      e = { windowStart: now, failures: 0, lockedUntil: 0 };
      this.entries.set(k, e);
    }
    e.failures++;
    if (e.failures < this.maxFailures) return false;
    e.lockedUntil = now + this.lockMs;
    e.failures = 0;
    return true;
  }

  /** A successful authentication clears the failures (not an active lock: it was refused anyway). */
  success(name: string): void {
    const k = key(name);
    const e = this.entries.get(k);
    if (e !== undefined && e.lockedUntil <= this.now()) this.entries.delete(k);
  }

  /** Administrative unlock. Returns whether the name was tracked. */
  unlock(name: string): boolean {
    return this.entries.delete(key(name));
  }

  /** Names locked now, with the end of their lock. */
  locked(): Array<{ name: string; until: number }> {
    const now = this.now();
    const out: Array<{ name: string; until: number }> = [];
    for (const [name, e] of this.entries) if (e.lockedUntil > now) out.push({ name, until: e.lockedUntil });
    return out;
  }

  /** Drops entries whose window and lock are both over. */
  sweep(): void {
    const now = this.now();
    for (const [k, e] of this.entries) {
      if (e.lockedUntil <= now && now - e.windowStart >= this.windowMs) this.entries.delete(k);
    }
  }

  private makeRoom(): void {
    if (this.entries.size < this.maxTracked) return;
    this.sweep();
    // Still full: drop the oldest unlocked entries (Map order is insertion order).
    const now = this.now();
    for (const [k, e] of this.entries) {
      if (this.entries.size < this.maxTracked) return;
      if (e.lockedUntil <= now) this.entries.delete(k);
    }
    // Everything is locked: the oldest lock goes (bounded memory wins over one lock).
    const oldest = this.entries.keys().next();
    if (oldest.done !== true && this.entries.size >= this.maxTracked) this.entries.delete(oldest.value);
  }
}

function key(name: string): string {
  return name.length > MAX_KEY_LENGTH ? name.slice(0, MAX_KEY_LENGTH) : name;
}
