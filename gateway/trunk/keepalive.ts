/**
 * OPTIONS keep-alive for one trunk (RFC 3261 §11: OPTIONS asks a peer about itself; answering
 * proves it is there). Asterisk `qualify_frequency` and FreeSWITCH `ping` do the same toward us.
 *
 * - Every `intervalMs` a probe goes out, one at a time (a probe still pending skips a beat).
 * - A probe fails when no final response arrives within `timeoutMs`, or the answer is local (408
 *   from Timer F, 503 from a transport error: RFC 3261 §8.1.3.1), or it is a real 503 (§21.5.4:
 *   the peer says it cannot take requests). Any other response, 4xx included, proves it is alive.
 * - `failures` consecutive failures make the trunk `down`; the first success makes it `up`.
 * - Failures reported by the B2BUA (an INVITE timed out) count the same way, but only while
 *   probing runs: without keep-alive nothing could bring a trunk back up.
 *
 * Time comes from a Clock (transaction/clock.ts) so a test drives hours of probing at once.
 */
import type { Clock, TimerHandle } from '../sip/transaction/clock';
import type { TrunkStatus } from './types';

/** What one probe found. */
export type ProbeOutcome = 'alive' | 'failed';

export interface KeepAliveOptions {
  readonly clock: Clock;
  readonly intervalMs: number;
  /** A probe not answered within this is a failure. Default min(intervalMs, 5000). */
  readonly timeoutMs?: number;
  readonly failures: number;
  /** Sends one OPTIONS; resolves with its outcome (never rejects: a throw counts as failed). */
  readonly probe: () => Promise<ProbeOutcome>;
  readonly onStatus: (status: TrunkStatus) => void;
}

export class KeepAlive {
  private status: TrunkStatus = 'unknown';
  private consecutiveFailures = 0;
  private timer: TimerHandle | undefined;
  private pending = false;
  private running = false;
  /** Bumped per probe so a late answer to an abandoned probe is ignored. */
  private generation = 0;

  constructor(private readonly o: KeepAliveOptions) {}

  get current(): TrunkStatus {
    return this.status;
  }

  get failureCount(): number {
    return this.consecutiveFailures;
  }

  /** Probes at once, then every intervalMs. No-op when intervalMs is 0 (keep-alive off). */
  start(): void {
    if (this.running || this.o.intervalMs <= 0) return;
    this.running = true;
    this.tick();
  }

  stop(): void {
    this.running = false;
    this.pending = false;
    this.generation++;
    if (this.timer !== undefined) this.o.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** An outbound attempt failed (timeout, transport error, 503). */
  reportFailure(): void {
    if (this.running) this.record('failed');
  }

  private tick(): void {
    if (!this.running) return;
    this.timer = this.o.clock.setTimer(() => this.tick(), this.o.intervalMs);
    if (this.pending) return;
    this.pending = true;
    const generation = ++this.generation;
    let settled = false;
    const settle = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      this.o.clock.clearTimer(deadline);
      if (generation === this.generation) this.pending = false;
      if (this.running && generation === this.generation) this.record(outcome);
    };
    const deadline = this.o.clock.setTimer(() => settle('failed'), this.o.timeoutMs ?? Math.min(this.o.intervalMs, 5000));
    this.o.probe().then(settle, () => settle('failed'));
  }

  private record(outcome: ProbeOutcome): void {
    if (outcome === 'alive') {
      this.consecutiveFailures = 0;
      this.set('up');
      return;
    }
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.o.failures) this.set('down');
  }

  private set(status: TrunkStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.o.onStatus(status);
  }
}
