/**
 * The B2BUA's vocabulary: its settings (config key `calls`), who is at each end of a leg, the
 * events a Call and the B2BUA emit, and its errors.
 */
import type { CdrDisposition } from '../cdr/types';
import type { Trunk, TrunkMediaPolicy } from '../trunk/types';
import type { Endpoint, SendTarget, TransportProtocol } from '../sip/transport/types';
import type { CallLimitSettings } from './limits';

/** Config key `calls` (config/schema.ts CallsDocument), in the units the B2BUA works in. */
export interface CallsSettings {
  readonly limits: CallLimitSettings;
  /** INVITEs from users over UDP/TCP get 403 (trunks are identified by address and exempt). */
  readonly requireTls: boolean;
  /** A user's leg must carry SRTP (SDES) or DTLS-SRTP/ZRTP end to end; else 488. */
  readonly requireSrtp: boolean;
  /** The media engine may transcode when the two ends share no codec (media.ts); false: 488. */
  readonly transcode: boolean;
  /** Unanswered calls are given up after this long (caller: 480 / 408). Seconds. */
  readonly ringTimeoutSec: number;
  /** Answered calls are ended after this long (0 = never). Seconds. */
  readonly maxDurationSec: number;
  /** RFC 4028: interval asked for and Min-SE; enabled = offered on callee legs and accepted on caller legs. */
  readonly sessionTimer: { readonly enabled: boolean; readonly intervalSec: number; readonly minSeSec: number };
  /** Headers copied from one leg to the other (topology hiding allow-list, see headers.ts). */
  readonly passHeaders: readonly string[];
  /** A user may transfer a call with a trunk party (REFER, blind transfer: transfer.ts); false: 501. */
  readonly transfer: boolean;
}

export const DEFAULT_CALLS_SETTINGS: CallsSettings = Object.freeze({
  limits: Object.freeze({ maxConcurrent: 2000, maxPerUser: 4, cpsPerSource: 50, retryAfterSec: 5 }),
  requireTls: true,
  requireSrtp: true,
  transcode: true,
  ringTimeoutSec: 120,
  maxDurationSec: 4 * 3600,
  sessionTimer: Object.freeze({ enabled: true, intervalSec: 1800, minSeSec: 90 }),
  passHeaders: Object.freeze(['P-Asserted-Identity', 'Privacy', 'Diversion', 'User-to-User']),
  transfer: true,
});

/** Who is at the far end of a leg. */
export type LegPeer =
  /** A registered device of a local user (caller: the device that sent the INVITE). */
  | { readonly kind: 'user'; readonly user: string }
  | { readonly kind: 'trunk'; readonly trunk: Trunk };

/** What media a leg's peer gets (see media.ts). */
export type MediaProfile = { readonly kind: 'user' } | { readonly kind: 'trunk'; readonly policy: TrunkMediaPolicy };

/** How a leg reaches its peer. */
export interface LegPath {
  /**
   * Where requests go: the device's own TLS flow, or the trunk's configured address (the first
   * INVITE, and the fallback for in-dialog requests, which follow the dialog: next-hop.ts).
   */
  hop: SendTarget;
  /** Our sent-by (Via) and Contact address toward the peer. */
  local: Endpoint;
  readonly protocol: TransportProtocol;
}

export type CallState =
  /** INVITE received, routing or waiting for the first provisional. */
  | 'proceeding'
  /** A callee rings (180/183 relayed). */
  | 'early'
  /** 2xx relayed to the caller. */
  | 'confirmed'
  /** BYEs / CANCELs on their way. */
  | 'ending'
  | 'ended';

export type CallDirection = 'on-net' | 'outbound' | 'inbound';

/** How a call ended, for CDRs, logs and tests. */
export interface CallEnd {
  /** Final status of the call setup: 200 when answered, else what the caller got (487 when cancelled). */
  readonly status: number;
  readonly disposition: CdrDisposition;
  readonly endedBy: 'caller' | 'callee' | 'gateway';
  /** Why, in a few words (for logs): "bye", "cancel", "session-timer", "media-timeout", "blocked"... */
  readonly cause: string;
  readonly answered: boolean;
}

export interface CallEvents {
  /** A callee device rings (first 180/183 relayed). */
  ringing: [];
  /** The 2xx was relayed to the caller. */
  answered: [];
  /** A blind transfer completed (transfer.ts): the call now joins the transferee and the target. */
  transferred: [transfer: CallTransfer];
  /** Both legs are over. */
  ended: [end: CallEnd];
}

/** What a completed blind transfer changed (RFC 5589 §6), for CDRs and logs. */
export interface CallTransfer {
  /** The transferor's part in the call it left, and its user name. */
  readonly transferor: 'caller' | 'callee';
  readonly transferredBy: string;
  /** The transferee: the caller of the transferred call (its number or caller id). */
  readonly caller: string;
  /** The transfer target's number (E.164 or short code). */
  readonly callee: string;
  /** The trunk that answered for the target. */
  readonly trunk: string;
}

/** Summary of a call for listings and tests. No SIP identifiers, no addresses. */
export interface CallInfo {
  readonly id: string;
  /** The media engine's id for the call (differs from `id` after a transfer: transfer-media.ts). */
  readonly mediaId: string;
  readonly direction: CallDirection;
  readonly caller: string;
  readonly callee: string;
  readonly state: CallState;
  readonly trunk?: string;
  readonly startedAt: number;
  readonly answeredAt?: number;
}

export interface B2buaStats {
  invites: number;
  answered: number;
  failed: number;
  rejectedLimits: number;
  challenges: number;
  active: number;
}

/** A B2BUA configuration value it cannot work with. */
export class CallsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CallsConfigError';
  }
}

/** Sanity checks of CallsSettings (done at construction, never at run time). */
export function checkCallsSettings(s: CallsSettings): CallsSettings {
  const nonNegative = (v: number, what: string): void => {
    if (!Number.isFinite(v) || v < 0) throw new CallsConfigError(`${what} must be ≥ 0`);
  };
  nonNegative(s.limits.maxConcurrent, 'calls.maxConcurrent');
  nonNegative(s.limits.maxPerUser, 'calls.maxPerUser');
  nonNegative(s.limits.cpsPerSource, 'calls.cpsPerSource');
  nonNegative(s.maxDurationSec, 'calls.maxDurationSec');
  if (s.ringTimeoutSec <= 0) throw new CallsConfigError('calls.ringTimeoutSec must be > 0');
  // The schema enforces RFC 4028 §4's 90 s floor; tests construct shorter timers directly.
  if (s.sessionTimer.minSeSec < 1) throw new CallsConfigError('calls.sessionTimer.minSeSec must be ≥ 1');
  if (s.sessionTimer.intervalSec < s.sessionTimer.minSeSec) throw new CallsConfigError('calls.sessionTimer.intervalSec must be ≥ minSeSec');
  return s;
}
