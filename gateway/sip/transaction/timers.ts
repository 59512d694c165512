/**
 * Transaction timer values (RFC 3261 §17.1.1.1, Table 4 in Appendix A; RFC 6026 §8.11).
 *
 *   Timer  Value                         Meaning
 *   T1     500 ms default                RTT estimate
 *   T2     4 s                           maximum retransmit interval for non-INVITE requests / INVITE responses
 *   T4     5 s                           maximum duration a message will remain in the network
 *   A      initially T1, doubling        INVITE request retransmit interval, unreliable only
 *   B      64*T1                         INVITE transaction timeout
 *   D      > 32 s unreliable, 0 reliable wait time for response retransmits (ICT Completed)
 *   E      initially T1, capped at T2    non-INVITE request retransmit interval, unreliable only
 *   F      64*T1                         non-INVITE transaction timeout
 *   G      initially T1, capped at T2    INVITE response retransmit interval, unreliable only
 *   H      64*T1                         wait time for ACK receipt
 *   I      T4 unreliable, 0 reliable     wait time for ACK retransmits
 *   J      64*T1 unreliable, 0 reliable  wait time for non-INVITE request retransmits
 *   K      T4 unreliable, 0 reliable     wait time for response retransmits (NICT Completed)
 *   L      64*T1                         wait time for accepted INVITE request retransmits (RFC 6026)
 *   M      64*T1                         wait time for retransmission of 2xx to INVITE (RFC 6026)
 *
 * Timer C is a proxy timer in RFC 3261 (§16.6 step 11, > 3 min); it is borrowed here for the
 * INVITE client transaction so a peer that sent a provisional and then went silent cannot keep a
 * transaction alive forever.
 */

export interface TimerSettings {
  /** RTT estimate, ms (RFC 3261 §17.1.1.1). */
  t1: number;
  /** Maximum retransmit interval, ms. */
  t2: number;
  /** Maximum message lifetime in the network, ms. */
  t4: number;
  /** Timer D on unreliable transports, ms. Default max(32 s, 64*T1). */
  timerD?: number;
  /** Timer C (ICT Proceeding guard), ms; 0 disables it. Default 180 s. */
  timerC?: number;
}

export const DEFAULT_TIMER_SETTINGS: Readonly<Required<Omit<TimerSettings, 'timerD'>>> = {
  t1: 500,
  t2: 4_000,
  t4: 5_000,
  timerC: 180_000,
};

/** Upper bound accepted for any base timer: a misconfiguration, not a network, would need more. */
const MAX_BASE_MS = 60_000;

/** A timer setting outside its valid range. */
export class TimerSettingsError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'TimerSettingsError';
  }
}

function checkMs(name: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new TimerSettingsError(`${name} must be between ${min} and ${max} ms (got ${value})`);
  }
  return value;
}

/** Validated timer values. Durations that depend on reliability take `reliable` (RFC 3261 §18.2.1 isReliable). */
export class TransactionTimers {
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  private readonly d: number;
  private readonly c: number;

  constructor(settings: Partial<TimerSettings> = {}) {
    this.t1 = checkMs('T1', settings.t1 ?? DEFAULT_TIMER_SETTINGS.t1, 1, MAX_BASE_MS);
    this.t2 = checkMs('T2', settings.t2 ?? DEFAULT_TIMER_SETTINGS.t2, this.t1, MAX_BASE_MS);
    this.t4 = checkMs('T4', settings.t4 ?? DEFAULT_TIMER_SETTINGS.t4, 1, MAX_BASE_MS);
    this.d = checkMs('Timer D', settings.timerD ?? Math.max(32_000, 64 * this.t1), 0, 64 * MAX_BASE_MS);
    this.c = checkMs('Timer C', settings.timerC ?? DEFAULT_TIMER_SETTINGS.timerC, 0, 3_600_000);
  }

  /** 64*T1: Timers B, F, H, L, M, J (unreliable) and the 2xx retransmission give-up (§13.3.1.4). */
  get t1x64(): number {
    return 64 * this.t1;
  }

  /** Timer A's first interval (§17.1.1.2); each firing doubles it, without cap. */
  get timerA(): number {
    return this.t1;
  }
  nextTimerA(previous: number): number {
    return previous * 2;
  }

  get timerB(): number {
    return this.t1x64;
  }

  /** Timer C (borrowed from §16.6 step 11); 0 when disabled. */
  get timerC(): number {
    return this.c;
  }

  timerD(reliable: boolean): number {
    return reliable ? 0 : this.d;
  }

  /** Timer E's first interval (§17.1.2.2). */
  get timerE(): number {
    return this.t1;
  }
  /** Trying: doubles up to T2. Proceeding: T2 (§17.1.2.2). */
  nextTimerE(previous: number, proceeding: boolean): number {
    return proceeding ? this.t2 : Math.min(previous * 2, this.t2);
  }

  get timerF(): number {
    return this.t1x64;
  }

  /** Timer G's first interval (§17.2.1); doubles up to T2. Also the 2xx retransmission schedule (§13.3.1.4). */
  get timerG(): number {
    return this.t1;
  }
  nextTimerG(previous: number): number {
    return Math.min(previous * 2, this.t2);
  }

  get timerH(): number {
    return this.t1x64;
  }

  timerI(reliable: boolean): number {
    return reliable ? 0 : this.t4;
  }

  timerJ(reliable: boolean): number {
    return reliable ? 0 : this.t1x64;
  }

  timerK(reliable: boolean): number {
    return reliable ? 0 : this.t4;
  }

  /** RFC 6026 §8.7: IST Accepted lifetime. */
  get timerL(): number {
    return this.t1x64;
  }

  /** RFC 6026 §8.4: ICT Accepted lifetime. */
  get timerM(): number {
    return this.t1x64;
  }
}
