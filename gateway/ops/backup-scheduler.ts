/**
 * Scheduled backups inside the running gateway: every ops.backup.intervalHours, one backup into
 * ops.backup.dir encrypted with ops.backup.keyFile (nobody is there to type a passphrase), then
 * retention: only the newest ops.backup.keep scheduled backups ("ciphergate-auto-*.cgbk") stay.
 * Manual backups ("ciphergate-*.cgbk" from `backup create`) and other files are never deleted.
 *
 * The timer is unref'd (it never keeps the process alive) and re-armed after each run, so two
 * runs never overlap however long one takes. The key file is read at every run: replacing it takes
 * effect without a restart. A failed run is logged (error class and message, never key bytes) and
 * the next one is still scheduled.
 */
import { readdirSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log/logger';
import { createBackup, type BackupConfig, type BackupSummary } from './backup-create';
import { disposeSecret, readKeyFile } from './backup-secret';
import { fsyncDir } from './zeroize-erase';
import { BACKUP_SUFFIX } from './zeroize-plan';

export const SCHEDULED_PREFIX = 'ciphergate-auto';
/** setTimeout's largest delay (about 24.8 days); longer intervals are reached in several steps. */
const MAX_TIMER_MS = 0x7fffffff;

export interface BackupSchedulerOptions {
  readonly config: BackupConfig;
  readonly log: Logger;
  /** Configuration files in use, stored in each backup. */
  readonly configFiles?: readonly string[];
  /** Wall clock (tests). */
  readonly now?: () => Date;
}

export class BackupScheduler {
  private timer: NodeJS.Timeout | undefined;
  private due = 0;
  private current: Promise<unknown> | undefined;
  private stopped = true;

  constructor(private readonly options: BackupSchedulerOptions) {}

  /** Interval between runs in ms; 0 when scheduled backups are off. */
  get intervalMs(): number {
    return Math.round(this.options.config.ops.backup.intervalHours * 3_600_000);
  }

  /** Arms the timer (first backup one interval from now). Does nothing when intervalHours is 0. */
  start(): void {
    if (this.intervalMs === 0 || !this.stopped) return;
    this.stopped = false;
    this.arm(this.now() + this.intervalMs);
    this.options.log.info('scheduled backups on', {
      everyHours: this.options.config.ops.backup.intervalHours, keep: this.options.config.ops.backup.keep, dir: this.options.config.ops.backup.dir,
    });
  }

  /** Disarms the timer and waits for a backup under way to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.current?.catch(() => undefined);
  }

  /** One scheduled backup plus retention, now. Resolves to the summary; rejects on failure. */
  async runOnce(): Promise<BackupSummary> {
    const { config } = this.options;
    const secret = readKeyFile(config.ops.backup.keyFile);
    const run = (async () => {
      try {
        const summary = await createBackup({ config, secret, prefix: SCHEDULED_PREFIX, configFiles: this.options.configFiles ?? [], now: () => new Date(this.now()) });
        const removed = this.prune();
        this.options.log.info('backup written', { file: summary.file, bytes: summary.bytes, pruned: removed.length });
        return summary;
      } finally {
        disposeSecret(secret);
      }
    })();
    this.current = run;
    try {
      return await run;
    } finally {
      this.current = undefined;
    }
  }

  /** Deletes the oldest scheduled backups beyond `keep`; returns the deleted paths. */
  prune(): string[] {
    const { dir, keep } = this.options.config.ops.backup;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    // Time-stamped names sort chronologically; only our own scheduled files are candidates.
    const ours = names.filter((n) => n.startsWith(`${SCHEDULED_PREFIX}-`) && n.endsWith(BACKUP_SUFFIX)).sort();
    const doomed = ours.slice(0, Math.max(0, ours.length - keep)).map((n) => path.join(dir, n));
    for (const file of doomed) unlinkSync(file);
    if (doomed.length > 0) fsyncDir(dir);
    return doomed;
  }

  private arm(due: number): void {
    this.due = due;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, due - this.now()));
    this.timer = setTimeout(() => void this.fire(), delay);
    this.timer.unref();
  }

  private async fire(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    if (this.now() < this.due) {
      this.arm(this.due); // a long interval reached in steps
      return;
    }
    try {
      await this.runOnce();
    } catch (err) {
      this.options.log.error('scheduled backup failed', {
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
    }
    if (!this.stopped) this.arm(this.now() + this.intervalMs);
  }

  private now(): number {
    return (this.options.now ?? (() => new Date()))().getTime();
  }
}
