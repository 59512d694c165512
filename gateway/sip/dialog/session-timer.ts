/**
 * Session timers (RFC 4028): a dialog whose peer vanished without a BYE is found out because the
 * periodic refresh (a re-INVITE or UPDATE) stops. One side is the refresher and sends the refresh
 * at half the interval (§10); the other ends the session when none came before the interval minus
 * a margin of min(32 s, interval/3) (§10).
 *
 * This file holds the header grammar (§4), the two negotiations (UAC §7, UAS §9) and the timer.
 */
import { splitList } from '../message/grammar';
import type { HeaderList } from '../message/message';
import { SessionTimerSyntaxError } from './errors';

export type Refresher = 'uac' | 'uas';

/** RFC 4028 §4 recommends 90 s as the smallest Min-SE (and forbids anything below). */
export const MIN_SE_FLOOR = 90;

export interface SessionExpires {
  readonly deltaSec: number;
  readonly refresher?: Refresher;
}

/** delta-seconds (RFC 3261 §25.1): digits only, at most 10 of them, below 2**32. */
function deltaSeconds(text: string, header: string): number {
  const t = text.trim();
  if (t.length === 0 || t.length > 10) throw new SessionTimerSyntaxError(header);
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) throw new SessionTimerSyntaxError(header);
  }
  const n = Number(t);
  if (n > 0xffffffff) throw new SessionTimerSyntaxError(header);
  return n;
}

/** Session-Expires = delta-seconds *(SEMI se-params); refresher-param = "refresher" EQUAL ("uas" / "uac") (§4). */
export function parseSessionExpires(value: string): SessionExpires {
  const [delta, ...params] = value.split(';');
  const deltaSec = deltaSeconds(delta ?? '', 'Session-Expires');
  let refresher: Refresher | undefined;
  for (const p of params.slice(0, 16)) {
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (name !== 'refresher') continue;
    const v = eq < 0 ? '' : p.slice(eq + 1).trim().toLowerCase();
    if (v !== 'uac' && v !== 'uas') throw new SessionTimerSyntaxError('Session-Expires');
    refresher = v;
  }
  return refresher === undefined ? { deltaSec } : { deltaSec, refresher };
}

export function formatSessionExpires(se: SessionExpires): string {
  return se.refresher === undefined ? String(se.deltaSec) : `${se.deltaSec};refresher=${se.refresher}`;
}

/** Min-SE = delta-seconds *(SEMI generic-param) (§5). */
export function parseMinSe(value: string): number {
  const semi = value.indexOf(';');
  return deltaSeconds(semi < 0 ? value : value.slice(0, semi), 'Min-SE');
}

/** Whether a message lists an option tag in Supported or Require (RFC 3261 §20.37, §20.32). */
export function hasOptionTag(headers: HeaderList, tag: string): boolean {
  for (const name of ['Supported', 'Require']) {
    for (const v of headers.getAll(name)) {
      for (const t of splitList(v, 64) ?? []) if (t.toLowerCase() === tag) return true;
    }
  }
  return false;
}

/** The first Session-Expires of a message (long or compact form `x`), undefined when absent. */
export function sessionExpiresOf(headers: HeaderList): SessionExpires | undefined {
  const v = headers.get('Session-Expires') ?? headers.get('x');
  return v === undefined ? undefined : parseSessionExpires(v);
}

export interface SessionTimerPolicy {
  /** Interval we ask for as UAC, and insert as UAS when the UAC supports timers but named none. */
  readonly intervalSec: number;
  /** Our Min-SE (≥ 90). */
  readonly minSeSec: number;
}

/** What a UAS answers a session-timer request with (§9). */
export type UasDecision =
  /** 422 Session Interval Too Small with Min-SE: minSe. */
  | { readonly kind: 'too-small'; readonly minSe: number }
  /** No session timer on this dialog. */
  | { readonly kind: 'none' }
  | { readonly kind: 'timer'; readonly intervalSec: number; readonly refresher: Refresher; readonly headers: Array<[string, string]> };

/**
 * RFC 4028 §9 for the UAS: a Session-Expires below our Min-SE gets 422; otherwise the interval is
 * kept and the refresher is the one the UAC named, else the UAC when it supports timers (it then
 * does the work), else us. A UAC that supports timers but asked for none gets our interval with
 * itself as refresher. The 2xx carries Session-Expires, and Require: timer when the UAC refreshes.
 */
export function negotiateAsUas(headers: HeaderList, policy: SessionTimerPolicy): UasDecision {
  const requested = sessionExpiresOf(headers);
  const uacSupports = hasOptionTag(headers, 'timer');
  if (requested === undefined) {
    if (!uacSupports) return { kind: 'none' };
    return decided(policy.intervalSec, 'uac');
  }
  if (requested.deltaSec < policy.minSeSec) return { kind: 'too-small', minSe: policy.minSeSec };
  const refresher: Refresher = requested.refresher ?? (uacSupports ? 'uac' : 'uas');
  // A UAC without the extension cannot be made to refresh (§9: the UAS becomes the refresher).
  return decided(requested.deltaSec, uacSupports ? refresher : 'uas');
}

function decided(intervalSec: number, refresher: Refresher): UasDecision {
  const headers: Array<[string, string]> = [['Session-Expires', formatSessionExpires({ deltaSec: intervalSec, refresher })]];
  if (refresher === 'uac') headers.push(['Require', 'timer']);
  return { kind: 'timer', intervalSec, refresher, headers };
}

/** The headers a UAC adds to an INVITE (§7.1): Supported: timer, Session-Expires, Min-SE. */
export function uacRequestHeaders(policy: SessionTimerPolicy, intervalSec = policy.intervalSec): Array<[string, string]> {
  return [
    ['Session-Expires', String(Math.max(intervalSec, policy.minSeSec))],
    ['Min-SE', String(policy.minSeSec)],
  ];
}

/**
 * RFC 4028 §7.2 for the UAC: the 2xx says whether a timer runs and who refreshes. A 2xx without
 * Session-Expires means the UAS does not do timers: none runs on this dialog. A missing refresher
 * parameter is read as the UAC (§7.2: the UAS "MUST" name it; being the refresher ourselves is the
 * side that keeps the session checked).
 */
export function uacOutcome(headers: HeaderList): { intervalSec: number; refresher: Refresher } | undefined {
  const se = sessionExpiresOf(headers);
  if (se === undefined || se.deltaSec === 0) return undefined;
  return { intervalSec: se.deltaSec, refresher: se.refresher ?? 'uac' };
}

export interface SessionTimerCallbacks {
  /** We are the refresher and half the interval passed: send a refresh (§10). */
  onRefresh(): void;
  /** The peer is the refresher and no refresh came in time: end the session with a BYE (§10). */
  onExpire(): void;
}

/** One dialog's timer: refresh at interval/2, or expire at interval − min(32, interval/3) (§10). */
export class SessionTimer {
  private timer: NodeJS.Timeout | undefined;
  private interval = 0;
  private refreshing = false;

  constructor(private readonly callbacks: SessionTimerCallbacks) {}

  /** Seconds of the interval last negotiated (0 before any). */
  get intervalSec(): number {
    return this.interval;
  }

  /** Whether the timer is armed. */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Whether we are the refresher. */
  get weRefresh(): boolean {
    return this.refreshing;
  }

  /** (Re)arms the timer after a successful INVITE, re-INVITE or UPDATE (§10). */
  start(intervalSec: number, weRefresh: boolean): void {
    this.stop();
    this.interval = intervalSec;
    this.refreshing = weRefresh;
    const ms = weRefresh ? (intervalSec * 1000) / 2 : (intervalSec - Math.min(32, intervalSec / 3)) * 1000;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (weRefresh) this.callbacks.onRefresh();
      else this.callbacks.onExpire();
    }, Math.max(1, Math.round(ms)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
