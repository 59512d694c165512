/**
 * Source banning in the manner of Kamailio's `pike` module: a source that sends more than
 * `maxRequests` messages within `requestWindowMs`, or fails digest authentication
 * `maxAuthFailures` times within `authWindowMs`, is banned for `banMs`; its messages are then
 * dropped without an answer (an answer would confirm that something listens, RFC 3261 §26.1.5
 * discusses the value of staying silent to scanners).
 *
 * Spoofing: a UDP source address proves nothing, so counting UDP traffic against an address would
 * let anyone get that address banned. UDP and connection-oriented traffic are therefore counted
 * separately, and a ban earned over UDP only drops UDP; a ban earned over TCP/TLS (where the
 * handshake proved the address) drops everything from that source.
 *
 * Memory is bounded: at most `maxTracked` counted sources and `maxBans` bans; when full, the oldest
 * counting entries (never bans while other entries can go) are dropped.
 */
import { ExemptSources, sourceKey } from './source-address';
import { positiveInt } from './types';

export type BanScope = 'udp' | 'all';
export type BanReason = 'rate' | 'auth' | 'manual';

export interface SourceGuardOptions {
  /** Messages per window a source may send; one more gets it banned. Default 200. */
  maxRequests?: number;
  /** Default 2 s. */
  requestWindowMs?: number;
  /** Authentication failures per window that get a source banned (the last one bans). Default 20. */
  maxAuthFailures?: number;
  /** Default 60 s. */
  authWindowMs?: number;
  /** Ban duration. Default 10 min. */
  banMs?: number;
  /** Never count or ban loopback sources. Default true. */
  exemptLoopback?: boolean;
  /** Addresses or prefixes never counted or banned. */
  exempt?: readonly string[];
  maxTracked?: number;
  maxBans?: number;
  now?: () => number;
  /** Told about every new ban. */
  onBan?: (ban: SourceBan) => void;
}

export interface SourceBan {
  /** The source key (IPv4 address or IPv6 /64). */
  readonly source: string;
  readonly scope: BanScope;
  readonly reason: BanReason;
  readonly until: number;
}

interface Counting {
  requestStart: number;
  requests: number;
  authStart: number;
  authFailures: number;
}

export class SourceGuard {
  readonly maxRequests: number;
  readonly requestWindowMs: number;
  readonly maxAuthFailures: number;
  readonly authWindowMs: number;
  readonly banMs: number;
  private readonly exempt: ExemptSources;
  private readonly maxTracked: number;
  private readonly maxBans: number;
  private readonly now: () => number;
  private readonly onBan: ((ban: SourceBan) => void) | undefined;
  /** Keyed by `udp|<source>` or `stream|<source>`: the two kinds of traffic never mix. */
  private readonly counting = new Map<string, Counting>();
  /** Keyed like `counting`: a `stream|` ban drops everything, a `udp|` ban only UDP. */
  private readonly bans = new Map<string, SourceBan>();

  constructor(options: SourceGuardOptions = {}) {
    this.maxRequests = positiveInt(options.maxRequests ?? 200, 'ban maxRequests');
    this.requestWindowMs = positiveInt(options.requestWindowMs ?? 2_000, 'ban request window');
    this.maxAuthFailures = positiveInt(options.maxAuthFailures ?? 20, 'ban maxAuthFailures');
    this.authWindowMs = positiveInt(options.authWindowMs ?? 60_000, 'ban auth window');
    this.banMs = positiveInt(options.banMs ?? 10 * 60_000, 'ban duration');
    this.exempt = new ExemptSources(options.exemptLoopback ?? true, options.exempt ?? []);
    this.maxTracked = positiveInt(options.maxTracked ?? 100_000, 'ban maxTracked');
    this.maxBans = positiveInt(options.maxBans ?? 100_000, 'ban maxBans');
    this.now = options.now ?? Date.now;
    this.onBan = options.onBan;
  }

  isExempt(address: string): boolean {
    return this.exempt.has(address);
  }

  /**
   * Counts one message from `address` over `protocol`; false when it must be dropped (banned
   * before, or banned by this very message).
   */
  admit(address: string, protocol: string): boolean {
    if (this.exempt.has(address)) return true;
    const source = sourceKey(address);
    if (source === undefined) return true;
    const udp = protocol === 'UDP';
    if (this.banned(source, udp)) return false;
    const k = `${udp ? 'udp' : 'stream'}|${source}`;
    const now = this.now();
    const c = this.entry(k, now);
    if (now - c.requestStart >= this.requestWindowMs) {
      c.requestStart = now;
      c.requests = 0;
    }
    if (++c.requests <= this.maxRequests) return true;
    this.ban(source, udp ? 'udp' : 'all', 'rate');
    return false;
  }

  /** Counts one authentication failure; true when it got the source banned. */
  authFailure(address: string, protocol: string): boolean {
    if (this.exempt.has(address)) return false;
    const source = sourceKey(address);
    if (source === undefined) return false;
    const udp = protocol === 'UDP';
    const now = this.now();
    const c = this.entry(`${udp ? 'udp' : 'stream'}|${source}`, now);
    if (now - c.authStart >= this.authWindowMs) {
      c.authStart = now;
      c.authFailures = 0;
    }
    if (++c.authFailures < this.maxAuthFailures) return false;
    this.ban(source, udp ? 'udp' : 'all', 'auth');
    return true;
  }

  /** Whether messages from `address` over `protocol` are dropped now. */
  isBanned(address: string, protocol: string): boolean {
    if (this.exempt.has(address)) return false;
    const source = sourceKey(address);
    return source !== undefined && this.banned(source, protocol === 'UDP');
  }

  /** Bans a source (its key: IPv4 address or IPv6 /64, or any address inside it). */
  ban(addressOrSource: string, scope: BanScope = 'all', reason: BanReason = 'manual', ms = this.banMs): SourceBan | undefined {
    const source = addressOrSource.endsWith('::/64') ? addressOrSource : sourceKey(addressOrSource);
    if (source === undefined) return undefined;
    const k = `${scope === 'udp' ? 'udp' : 'stream'}|${source}`;
    if (!this.bans.has(k) && this.bans.size >= this.maxBans) this.sweep();
    if (!this.bans.has(k) && this.bans.size >= this.maxBans) {
      const oldest = this.bans.keys().next();
      if (oldest.done !== true) this.bans.delete(oldest.value);
    }
    const ban: SourceBan = { source, scope, reason, until: this.now() + ms };
    this.bans.delete(k);
    this.bans.set(k, ban);
    this.counting.delete(k);
    this.onBan?.(ban);
    return ban;
  }

  /** Lifts every ban of a source. Returns whether there was one. */
  unban(addressOrSource: string): boolean {
    const source = addressOrSource.endsWith('::/64') ? addressOrSource : sourceKey(addressOrSource);
    if (source === undefined) return false;
    const a = this.bans.delete(`udp|${source}`);
    const b = this.bans.delete(`stream|${source}`);
    return a || b;
  }

  /** Bans in force. */
  list(): SourceBan[] {
    const now = this.now();
    return [...this.bans.values()].filter((b) => b.until > now);
  }

  /** Drops finished bans and counting entries whose windows are over. */
  sweep(): void {
    const now = this.now();
    for (const [k, b] of this.bans) if (b.until <= now) this.bans.delete(k);
    for (const [k, c] of this.counting) {
      if (now - c.requestStart >= this.requestWindowMs && now - c.authStart >= this.authWindowMs) this.counting.delete(k);
    }
  }

  private banned(source: string, udp: boolean): boolean {
    const now = this.now();
    const all = this.bans.get(`stream|${source}`);
    if (all !== undefined && all.until > now) return true;
    if (!udp) return false;
    const u = this.bans.get(`udp|${source}`);
    return u !== undefined && u.until > now;
  }

  private entry(k: string, now: number): Counting {
    let c = this.counting.get(k);
    if (c === undefined) {
      if (this.counting.size >= this.maxTracked) {
        this.sweep();
        const oldest = this.counting.keys().next();
        if (this.counting.size >= this.maxTracked && oldest.done !== true) this.counting.delete(oldest.value);
      }
      c = { requestStart: now, requests: 0, authStart: now, authFailures: 0 };
      this.counting.set(k, c);
    }
    return c;
  }
}
