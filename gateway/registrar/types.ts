/**
 * The registrar's public vocabulary: a binding as the rest of the gateway sees it, the limits it
 * enforces, and the events it emits.
 */
import type { SipUri } from '../sip/message/types';
import type { RegistrationBinding } from '../store/types';

/**
 * One registration binding (RFC 3261 §10.3): AOR → Contact, with the flow it was registered over
 * (RFC 5626 §5.2). Immutable: an update replaces the object, so a reference handed out stays a
 * consistent snapshot.
 */
export interface Binding extends RegistrationBinding {
  /** The Contact URI, parsed (its text is `contact`). */
  readonly uri: SipUri;
  /**
   * Whether requests can reach the UA: UDP bindings always; TCP/TLS bindings while the flow they
   * were registered over is up (RFC 5626 §5.3). False after that connection closed or after a
   * restart, until the UA registers again; such bindings are kept (and listed) until they expire.
   */
  readonly reachable: boolean;
}

/** The bounds of RFC 3261 §10.3 step 7 and the per-AOR contact limit. */
export interface RegistrarLimits {
  /** Shorter non-zero requests get 423 Interval Too Brief (RFC 3261 §10.3 step 7). Seconds. */
  readonly minExpires: number;
  /** Longer requests are shortened to this (RFC 3261 §10.3 step 7). Seconds. */
  readonly maxExpires: number;
  /** Used when neither the Contact nor the request has an expiry (RFC 3261 §10.2.1.1). Seconds. */
  readonly defaultExpires: number;
  /** Most bindings per AOR. */
  readonly maxContacts: number;
}

export const DEFAULT_LIMITS: RegistrarLimits = Object.freeze({
  minExpires: 60,
  maxExpires: 3600,
  defaultExpires: 3600,
  maxContacts: 10,
});

/** Why a binding went away. */
export type UnregisterReason = 'removed' | 'expired' | 'replaced' | 'evicted' | 'blocked';

export interface RegistrarEvents {
  /** A binding was added or refreshed (`refresh` true when one with that Contact existed). */
  registered: [binding: Binding, refresh: boolean];
  unregistered: [binding: Binding, reason: UnregisterReason];
  /** The flow a binding lived on closed (RFC 5626 §5.3): requests to it now fail with 430. */
  unreachable: [binding: Binding];
  /**
   * `blockUser(name)` ran: its bindings are gone and its connections closed. The B2BUA listens to
   * tear down the user's calls.
   */
  userBlocked: [name: string];
}

/** Counters for metrics; `Registrar.stats` returns a snapshot. */
export interface RegistrarStats {
  requests: number;
  challenges: number;
  /** 200 responses (including fetches without Contact). */
  accepted: number;
  /** 4xx/5xx responses other than 401. */
  rejected: number;
  bindingsAdded: number;
  bindingsRemoved: number;
  bindingsExpired: number;
  /** Store writes that failed (the binding still works in memory until restart). */
  storeFailures: number;
}

/** The registrar was configured with values it cannot work with. */
export class RegistrarConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistrarConfigError';
  }
}

/** Checks limits (called at construction). */
export function checkLimits(l: RegistrarLimits): RegistrarLimits {
  const int = (v: number, what: string, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new RegistrarConfigError(`${what} must be an integer >= ${min}`);
  };
  int(l.minExpires, 'minExpires', 1);
  int(l.maxExpires, 'maxExpires', 1);
  int(l.defaultExpires, 'defaultExpires', 1);
  int(l.maxContacts, 'maxContacts', 1);
  if (l.minExpires > l.maxExpires) throw new RegistrarConfigError('minExpires must not exceed maxExpires');
  if (l.defaultExpires < l.minExpires || l.defaultExpires > l.maxExpires) {
    throw new RegistrarConfigError('defaultExpires must lie between minExpires and maxExpires');
  }
  return l;
}
