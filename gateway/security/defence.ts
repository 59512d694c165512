/**
 * The gateway's defences in one place, in front of the SIP stack (as its MessageFilter) and beside
 * the registrar (which reports authentication outcomes):
 *
 * - source bans (source-guard.ts): request floods and password guessing from one source;
 * - account lockout (lockout.ts): password guessing against one account name, from anywhere;
 * - scanner User-Agents (scanners.ts): dropped unanswered.
 *
 * Everything it drops is dropped silently and counted; lockouts and bans go to the audit log.
 */
import type { Logger } from '../log/logger';
import type { SipRequest } from '../sip/message/message';
import type { MessageFilter } from '../sip/stack';
import type { ReceivedInfo } from '../sip/transport/types';
import { AccountLockout, type LockoutOptions } from './lockout';
import { ScannerDetector } from './scanners';
import { SourceGuard, type SourceBan, type SourceGuardOptions } from './source-guard';
import { newDefenceCounters, positiveInt, type AuditSink, type DefenceCounters } from './types';

export interface DefenceOptions {
  lockout?: Omit<LockoutOptions, 'now'>;
  sources?: Omit<SourceGuardOptions, 'now' | 'onBan'>;
  /** Scanner User-Agent signatures; default DEFAULT_SCANNER_USER_AGENTS, [] disables. */
  scannerUserAgents?: readonly string[];
  log?: Logger;
  audit?: AuditSink;
  /** Closes a TCP/TLS connection (TransportLayer.closeFlow): a banned source's flows are closed. */
  closeFlow?: (flowId: string) => void;
  /** How often finished bans, locks and windows are forgotten. Default 60 s. */
  sweepIntervalMs?: number;
  now?: () => number;
}

export class Defence implements MessageFilter {
  readonly lockout: AccountLockout;
  readonly sources: SourceGuard;
  readonly scanners: ScannerDetector;
  private readonly counts: DefenceCounters = newDefenceCounters();
  private readonly log: Logger | undefined;
  private readonly audit: AuditSink | undefined;
  private readonly closeFlow: ((flowId: string) => void) | undefined;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(options: DefenceOptions = {}) {
    const now = options.now ?? Date.now;
    this.now = now;
    this.log = options.log;
    this.audit = options.audit;
    this.closeFlow = options.closeFlow;
    this.lockout = new AccountLockout({ ...options.lockout, now });
    this.sources = new SourceGuard({ ...options.sources, now, onBan: (ban) => this.banned(ban) });
    this.scanners = new ScannerDetector(options.scannerUserAgents);
    const every = positiveInt(options.sweepIntervalMs ?? 60_000, 'sweep interval');
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  /** A snapshot of the counters, for metrics. */
  get counters(): DefenceCounters {
    return { ...this.counts };
  }

  /** MessageFilter: drops everything from a banned source, and counts the source's rate. */
  acceptSource(info: ReceivedInfo): boolean {
    if (this.sources.admit(info.remote.address, info.protocol)) return true;
    this.counts.bannedDrops++;
    // A connection from a banned source has nothing more to say: free its resources now.
    if (info.flowId !== undefined && this.sources.isBanned(info.remote.address, info.protocol)) this.closeFlow?.(info.flowId);
    return false;
  }

  /** MessageFilter: drops requests from known scanners. */
  acceptRequest(request: SipRequest, info: ReceivedInfo): boolean {
    const signature = this.scanners.match(request.headers.get('User-Agent'));
    if (signature === undefined) return true;
    this.counts.scannerDrops++;
    this.log?.debug('scanner request dropped', { signature, remote: info.remote.address, method: request.method });
    return false;
  }

  /**
   * Whether `name` is locked. The registrar asks only after it has done the same work for every
   * request, so the answer never shows in the timing.
   */
  isLocked(name: string): boolean {
    return this.lockout.isLocked(name);
  }

  /** Counts a refused lockout-protected attempt (for metrics). */
  lockedAttempt(): void {
    this.counts.lockedAttempts++;
  }

  /**
   * A digest response for `name` did not verify (unknown user or wrong password: one case on
   * purpose). Counts against the account name and the source.
   */
  authFailed(name: string | undefined, info: ReceivedInfo): void {
    this.counts.authFailures++;
    const source = info.remote.address;
    this.audit?.record({
      action: 'sip.auth-failure', actor: 'sip', source, ...(name !== undefined && { target: name }), result: 'denied',
      detail: { transport: info.protocol },
    });
    if (name !== undefined && this.lockout.failure(name)) {
      this.counts.lockouts++;
      this.log?.warn('account name locked after repeated authentication failures', { user: name, remote: source });
      this.audit?.record({
        action: 'sip.lockout', actor: 'sip', source, target: name, result: 'denied',
        detail: { attempts: this.lockout.maxFailures, durationSec: Math.round(this.lockout.lockMs / 1000) },
      });
    }
    this.sources.authFailure(source, info.protocol);
  }

  /** A digest response for `name` verified: its pending failures are forgotten. */
  authSucceeded(name: string): void {
    this.lockout.success(name);
  }

  /** Forgets finished bans, locks and counting windows. */
  sweep(): void {
    this.lockout.sweep();
    this.sources.sweep();
  }

  stop(): void {
    clearInterval(this.sweepTimer);
  }

  private banned(ban: SourceBan): void {
    this.counts.bans++;
    if (ban.reason === 'rate') this.counts.rateBans++;
    if (ban.reason === 'auth') this.counts.authBans++;
    const durationSec = Math.max(0, Math.round((ban.until - this.now()) / 1000));
    this.log?.warn('source banned', { source: ban.source, reason: ban.reason, scope: ban.scope });
    this.audit?.record({
      action: 'sip.ban', actor: 'sip', source: ban.source, result: 'denied', reason: ban.reason,
      detail: { transport: ban.scope === 'udp' ? 'UDP' : 'any', durationSec },
    });
  }
}
