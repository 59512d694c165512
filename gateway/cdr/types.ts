/**
 * Call detail records: who called whom, when, how it ended, over which trunk. Deliberately
 * nothing else: no SDP, no media keys, no addresses, no SIP Call-IDs (they are metadata an operator
 * who wants less can switch off entirely: `cdr.enabled: false`).
 *
 * Contract with the B2BUA (gateway/b2bua/):
 *   const id = cdr.start({ direction, caller, callee, ... });   // when the INVITE is routed
 *   cdr.answer(id, { trunk });                                   // on the 2xx relayed to the caller
 *   cdr.end(id, { disposition, status, trunk });                 // exactly once, when the call is over
 * Each method returns at once and never throws on a storage failure (a call is never failed
 * because of its CDR): writes are batched and committed on the next event-loop turn; failures are
 * logged and counted. Unknown ids and repeated `end` calls are ignored.
 */

/** How the call came in and went out. */
export type CallDirection =
  /** user → user on this gateway. */
  | 'on-net'
  /** user → trunk. */
  | 'outbound'
  /** trunk → user. */
  | 'inbound';

/**
 * How the call ended (the classic CDR dispositions):
 * - answered: a 2xx reached the caller (the final status is then the 2xx's, whatever ended the call);
 * - busy: 486 Busy Here, 600 Busy Everywhere;
 * - no-answer: 408/480 from the callee side, or the caller cancelled (487) before answer;
 * - failed: anything else (404, 403, 488, 503 after failover, internal error...);
 * - transferred: an answered call its user handed on with a blind transfer (REFER, RFC 3515); the
 *   transferee's call to the target has a record of its own.
 */
export type CdrDisposition = 'answered' | 'busy' | 'no-answer' | 'failed' | 'transferred';

export interface CdrStartInput {
  readonly direction: CallDirection;
  /** Caller identity: the user name for local users, the E.164 number (or as received) from a trunk. */
  readonly caller: string;
  /** Callee identity: user name, or the normalised number dialled. */
  readonly callee: string;
  /** Trunk name when known at start (inbound; outbound: the first trunk tried). */
  readonly trunk?: string;
  /** Wall-clock ms; default now. */
  readonly at?: number;
}

export interface CdrAnswerInput {
  /** The trunk that answered (after failover). */
  readonly trunk?: string;
  readonly at?: number;
}

export interface CdrEndInput {
  readonly disposition: CdrDisposition;
  /**
   * Final SIP status of the call setup (RFC 3261 §21): 200 for answered calls, else the final
   * response sent to the caller (487 when cancelled).
   */
  readonly status: number;
  /** Who ended it: caller BYE/CANCEL, callee BYE/rejection, or the gateway (timer, block, limit). */
  readonly endedBy?: 'caller' | 'callee' | 'gateway';
  /** The last trunk tried (outbound failures after failover). */
  readonly trunk?: string;
  readonly at?: number;
}

/** One stored record (times in ms since the epoch). */
export interface CdrRecord {
  readonly id: string;
  readonly direction: CallDirection;
  readonly caller: string;
  readonly callee: string;
  readonly trunk?: string;
  readonly startedAt: number;
  readonly answeredAt?: number;
  /** Absent while the call is in progress (or if the gateway stopped before it ended). */
  readonly endedAt?: number;
  readonly disposition?: CdrDisposition;
  readonly status?: number;
  readonly endedBy?: 'caller' | 'callee' | 'gateway';
  /** Seconds from answer to end (0 for unanswered calls), rounded down. */
  readonly billableSec?: number;
}

/** What the B2BUA calls. `CdrWriter` (cdr/writer.ts); `NullCdrWriter` when `cdr.enabled` is false. */
export interface CdrSink {
  /** Opens a record; returns its id (random, not derived from any SIP identifier). */
  start(input: CdrStartInput): string;
  answer(id: string, input?: CdrAnswerInput): void;
  end(id: string, input: CdrEndInput): void;
}

export interface CdrListQuery {
  /** Only records started at or after this time (ms since the epoch). */
  readonly since?: number;
  /** At most this many, newest first (default 100, at most 10 000). */
  readonly limit?: number;
}

/** Storage of CDRs (SQLite table `cdrs`, migration in store/sqlite/migrations.ts). */
export interface CdrStore {
  list(query?: CdrListQuery): CdrRecord[];
  /** Deletes records started before `before`; returns how many. */
  deleteBefore(before: number): number;
}

/** Configuration key `cdr`. */
export interface CdrConfig {
  readonly enabled: boolean;
  /** Records older than this are deleted by the sweep (0: kept forever). */
  readonly retentionDays: number;
  /** How often the retention sweep runs (default 3600 s). */
  readonly sweepIntervalSec: number;
}

/** The CDR maps a final status to a disposition the same way everywhere (see CdrDisposition). */
export function dispositionFor(status: number, answered: boolean): CdrDisposition {
  if (answered || (status >= 200 && status < 300)) return 'answered';
  if (status === 486 || status === 600) return 'busy';
  if (status === 408 || status === 480 || status === 487) return 'no-answer';
  return 'failed';
}
