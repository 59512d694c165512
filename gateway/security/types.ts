/**
 * Shared vocabulary of the gateway's defences (gateway/security/): what they count, how they
 * report to the audit log, and the errors their configuration can raise.
 */

/**
 * Where security events go. Structurally the `AuditLog` of gateway/admin/audit.ts, declared here so
 * that the defences do not depend on the admin layer (any object with this `record` fits).
 */
export interface AuditSink {
  record(event: {
    readonly action: string;
    readonly actor: string;
    readonly source: string;
    readonly target?: string;
    readonly result: 'ok' | 'denied' | 'failed';
    readonly reason?: string;
    readonly detail?: Readonly<Record<string, string | number | boolean | undefined>>;
  }): void;
}

/** Monotonic counters for metrics; `Defence.counters` returns a snapshot. */
export interface DefenceCounters {
  /** Digest responses that did not verify (unknown user and wrong password alike). */
  authFailures: number;
  /** Accounts locked (the failure that locked counts once). */
  lockouts: number;
  /** Requests refused because their account name was locked. */
  lockedAttempts: number;
  /** Sources banned, for any reason. */
  bans: number;
  /** ... of which for their request rate. */
  rateBans: number;
  /** ... of which for their authentication failures. */
  authBans: number;
  /** Messages dropped because their source was banned. */
  bannedDrops: number;
  /** Requests dropped because their User-Agent names a known scanner. */
  scannerDrops: number;
}

export function newDefenceCounters(): DefenceCounters {
  return { authFailures: 0, lockouts: 0, lockedAttempts: 0, bans: 0, rateBans: 0, authBans: 0, bannedDrops: 0, scannerDrops: 0 };
}

/** A defence was configured with values it cannot work with (caught at start, never at run time). */
export class SecurityConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecurityConfigError';
  }
}

/** Checks a duration/limit option: a positive integer. */
export function positiveInt(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new SecurityConfigError(`${what} must be a positive integer`);
  return value;
}
