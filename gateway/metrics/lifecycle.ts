/**
 * The gateway as a service: readiness (/readyz) and the graceful drain before a stop (SIGTERM).
 *
 * Drain: /readyz turns 503 and new INVITEs are refused 503 with Retry-After at once (RFC 3261
 * §21.5.4: the caller, or the load balancer in front, retries elsewhere), while calls in progress
 * go on until they end or `service.drainSec` passes. The stop that follows ends the rest with BYE
 * (B2bua.stop()).
 */
import type { B2bua } from '../b2bua';
import type { Logger } from '../log/logger';
import type { TransportLayer } from '../sip/transport/transport-layer';

export type Readiness =
  | { readonly ready: true }
  | { readonly ready: false; readonly reason: 'draining' | 'sip-not-listening' | 'store-unavailable' };

export interface ServiceLifecycleOptions {
  readonly transport: Pick<TransportLayer, 'addresses'>;
  /** A cheap query of the account database (SqliteStore.schemaVersion): throws when it is closed. */
  readonly store: { schemaVersion(): number };
  readonly b2bua: Pick<B2bua, 'stats' | 'on' | 'off' | 'refusingNewCalls'>;
  readonly log?: Logger;
}

export interface DrainResult {
  /** Calls still in progress when the drain ended (the stop ends them with BYE). */
  readonly remaining: number;
  readonly elapsedMs: number;
}

export class ServiceLifecycle {
  private drainingSince: number | undefined;
  private drained: Promise<DrainResult> | undefined;

  constructor(private readonly o: ServiceLifecycleOptions) {}

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Ready to take traffic: SIP listeners bound, the store answers, not draining. */
  readiness(): Readiness {
    if (this.draining) return { ready: false, reason: 'draining' };
    if (this.o.transport.addresses().length === 0) return { ready: false, reason: 'sip-not-listening' };
    try {
      if (this.o.store.schemaVersion() < 1) return { ready: false, reason: 'store-unavailable' };
    } catch {
      return { ready: false, reason: 'store-unavailable' };
    }
    return { ready: true };
  }

  /**
   * Stops taking calls and waits up to `drainMs` for those in progress to end. Idempotent: a
   * second call returns the first one's result.
   */
  drain(drainMs: number): Promise<DrainResult> {
    this.drained ??= this.run(Math.max(0, drainMs));
    return this.drained;
  }

  private run(drainMs: number): Promise<DrainResult> {
    const b2bua = this.o.b2bua;
    const since = Date.now();
    this.drainingSince = since;
    b2bua.refusingNewCalls = true;
    this.o.log?.info('draining: new calls refused', { calls: b2bua.stats.active, drainSec: Math.round(drainMs / 1000) });
    return new Promise<DrainResult>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        b2bua.off('callEnded', onEnded);
        const result = { remaining: b2bua.stats.active, elapsedMs: Date.now() - since };
        this.o.log?.info('drain over', { remaining: result.remaining, elapsedMs: result.elapsedMs });
        resolve(result);
      };
      // The B2BUA removes an ended call before it emits callEnded, so the count is current here.
      const onEnded = (): void => { if (b2bua.stats.active === 0) finish(); };
      const timer = setTimeout(finish, drainMs);
      b2bua.on('callEnded', onEnded);
      if (b2bua.stats.active === 0) finish();
    });
  }
}
