/**
 * Write-behind of bindings to the store (gateway/store: RegistrationStore).
 *
 * Why not write in the request path: the SQLite backend commits with synchronous=FULL (one fsync,
 * about a millisecond, during which the event loop is blocked) and offers no batch. Writing every
 * REGISTER there would cap the registrar near 1,000 registrations/s and stall every other message
 * behind each fsync. Instead:
 *
 * - changes are queued per (AOR, Contact) and coalesced: only the latest state of a binding is
 *   written, however often it changed since the last write;
 * - the queue drains in small slices on later turns of the event loop, so one slice blocks it
 *   for a few milliseconds at most;
 * - `flush()` drains everything (at stop).
 *
 * What a crash can lose: the changes of the last few milliseconds. What a restart loses anyway:
 * every TCP/TLS flow, so those bindings come back unreachable until their UA registers again.
 */
import type { Logger } from '../log/logger';
import { StoreNotFoundError } from '../store/errors';
import type { RegistrationBinding, RegistrationStore } from '../store/types';
import type { Binding } from './types';

type Op = { kind: 'upsert'; binding: RegistrationBinding } | { kind: 'remove'; aor: string; contact: string };

export interface BindingWriterOptions {
  /** Writes per slice. Default 8 (about 10 ms of fsyncs on an ordinary disk). */
  sliceSize?: number;
  /** Told about every failed write (the registrar counts them). */
  onFailure?: () => void;
}

export class BindingWriter {
  private readonly queue = new Map<string, Op>();
  private readonly sliceSize: number;
  private scheduled = false;
  private running: Promise<void> | undefined;
  private closed = false;
  /** Writes done, for tests and metrics. */
  writes = 0;

  constructor(
    private readonly store: RegistrationStore,
    private readonly log: Logger,
    private readonly options: BindingWriterOptions = {},
  ) {
    this.sliceSize = Math.max(1, Math.floor(options.sliceSize ?? 8));
  }

  /** Changes waiting to be written. */
  get pending(): number {
    return this.queue.size;
  }

  upsert(binding: RegistrationBinding): void {
    this.enqueue(`${binding.aor}\0${binding.contact}`, { kind: 'upsert', binding: storable(binding) });
  }

  remove(aor: string, contact: string): void {
    this.enqueue(`${aor}\0${contact}`, { kind: 'remove', aor, contact });
  }

  /** Resolves once everything queued before and during the call is written. */
  async flush(): Promise<void> {
    for (let guard = 0; guard < 1_000_000 && (this.queue.size > 0 || this.running !== undefined); guard++) {
      if (this.running !== undefined) await this.running;
      else await this.drain(Infinity);
    }
  }

  /** Writes what is queued, then refuses new work. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private enqueue(key: string, op: Op): void {
    if (this.closed) return;
    // Later state replaces earlier state for the same binding (only the newest matters).
    this.queue.delete(key);
    this.queue.set(key, op);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        if (this.running === undefined) void this.drain(this.sliceSize);
      });
    }
  }

  private drain(limit: number): Promise<void> {
    const run = (async () => {
      let n = 0;
      for (const [key, op] of this.queue) {
        if (n++ >= limit) break;
        this.queue.delete(key);
        await this.write(op);
      }
    })().finally(() => {
      this.running = undefined;
      if (this.queue.size > 0 && !this.scheduled && limit !== Infinity) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          if (this.running === undefined) void this.drain(this.sliceSize);
        });
      }
    });
    this.running = run;
    return run;
  }

  private async write(op: Op): Promise<void> {
    try {
      if (op.kind === 'upsert') await this.store.upsert(op.binding);
      else await this.store.remove(op.aor, op.contact);
      this.writes++;
    } catch (err) {
      // The user was removed meanwhile (its rows went with it): nothing to keep.
      if (err instanceof StoreNotFoundError) return;
      this.options.onFailure?.();
      this.log.error('registration binding not stored', {
        aor: op.kind === 'upsert' ? op.binding.aor : op.aor,
        error: err instanceof Error ? err.name : 'error',
      });
    }
  }
}

/** Only the fields the store keeps (a Binding carries the parsed URI and reachability too). */
function storable(b: RegistrationBinding): RegistrationBinding {
  return {
    aor: b.aor,
    contact: b.contact,
    user: b.user,
    callId: b.callId,
    cseq: b.cseq,
    expiresAt: b.expiresAt,
    ...(b.qMilli !== undefined && { qMilli: b.qMilli }),
    ...(b.instanceId !== undefined && b.regId !== undefined && { instanceId: b.instanceId, regId: b.regId }),
    transport: b.transport,
    remoteAddress: b.remoteAddress,
    remotePort: b.remotePort,
    ...(b.localAddress !== undefined && { localAddress: b.localAddress }),
    ...(b.localPort !== undefined && { localPort: b.localPort }),
    ...(b.flowId !== undefined && { flowId: b.flowId }),
    path: b.path,
    ...(b.userAgent !== undefined && { userAgent: b.userAgent }),
    registeredAt: b.registeredAt,
    updatedAt: b.updatedAt,
  };
}

/**
 * Whether a refresh must reach the store now: anything about where or who changed, or the stored
 * expiry lags by more than a quarter of the binding's remaining life (at least a minute): a UA that
 * refreshes at half-life is written every time, one that re-registers every few seconds once in a
 * while. Call-ID and CSeq alone do not count: after a restart they only guard against requests
 * older than the restart.
 */
export function worthWriting(b: Binding, prev: Binding, persistedExpiresAt: number, now: number): boolean {
  if (
    b.flowId !== prev.flowId || b.transport !== prev.transport || b.remoteAddress !== prev.remoteAddress ||
    b.remotePort !== prev.remotePort || b.localAddress !== prev.localAddress || b.localPort !== prev.localPort ||
    b.qMilli !== prev.qMilli || b.instanceId !== prev.instanceId || b.regId !== prev.regId ||
    b.user !== prev.user || b.userAgent !== prev.userAgent || !prev.reachable
  ) {
    return true;
  }
  return b.expiresAt - persistedExpiresAt > Math.max(60_000, (b.expiresAt - now) / 4);
}
