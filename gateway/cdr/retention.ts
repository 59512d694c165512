/**
 * CDR retention: records started more than `retentionDays` ago are deleted, at start and then every
 * `sweepIntervalSec`. Deleted rows are overwritten in the file (the database runs with
 * secure_delete=ON), so retention is a real limit on how much call metadata the gateway holds.
 */
import type { Logger } from '../log/logger';
import type { CdrStore } from './types';

const DAY_MS = 86_400_000;

export interface CdrRetentionOptions {
  readonly store: Pick<CdrStore, 'deleteBefore'>;
  /** 0: keep forever (no sweep). */
  readonly retentionDays: number;
  readonly sweepIntervalSec: number;
  readonly now?: () => number;
  readonly log?: Logger;
}

export class CdrRetention {
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly o: CdrRetentionOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Sweeps now and then periodically (the timer does not hold the process). */
  start(): void {
    if (this.timer !== undefined || this.o.retentionDays <= 0) return;
    this.sweep();
    this.timer = setInterval(() => this.sweep(), Math.max(1, this.o.sweepIntervalSec) * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Deletes what is past retention; returns how many records went. Never throws. */
  sweep(): number {
    if (this.o.retentionDays <= 0) return 0;
    try {
      const removed = this.o.store.deleteBefore(this.now() - this.o.retentionDays * DAY_MS);
      if (removed > 0) this.o.log?.info('CDRs past retention deleted', { count: removed });
      return removed;
    } catch (err) {
      this.o.log?.error('CDR retention sweep failed', { error: err instanceof Error ? err.message : String(err) });
      return 0;
    }
  }
}
