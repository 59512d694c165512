/**
 * Write-behind of bindings to the store (gateway/store: RegistrationStore).
 *
 * Why not write in the request path: a commit blocks the event loop (better-sqlite3 is
 * synchronous), and every other message waits behind it. Instead:
 *
 * - changes are queued per (AOR, Contact) and coalesced: only the latest state of a binding is
 *   written, however often it changed since the last write;
 * - the queue drains in small slices on later turns of the event loop, one slice in ONE
 *   transaction (`writeBatch`, SqliteRegistrationStore) with each change in a savepoint of its own:
 *   a change that fails is rolled back alone, the rest of its slice commits. A store without
 *   batches (another backend, a test double) gets one call per change;
 * - `flush()` drains everything, slice by slice (at stop, and when a user is blocked).
 *
 * Durability, deliberately below the accounts data: the gateway gives the writer a connection of
 * its own that commits with synchronous=NORMAL (like the CDR store, gateway/cdr/index.ts), where
 * the accounts connection uses FULL (a wipe or a consumed one-time password must survive a power
 * loss). In WAL mode NORMAL appends the commit to the log without an fsync; the sync comes at the
 * next checkpoint. So a process crash loses at most the changes still queued (a few milliseconds);
 * a power loss can also lose the last commits. Either way a lost binding costs one re-registration,
 * and a restart loses every TCP/TLS flow anyway: those bindings come back unreachable until their
 * UA registers again (RFC 5626 §5.3). The fsync per REGISTER this avoids was ~7% of the gateway's
 * CPU at registration load.
 */
import type { Logger } from '../log/logger';
import { StoreNotFoundError } from '../store/errors';
import type { RegistrationChange, RegistrationBatchResult } from '../store/sqlite/registrations';
import type { RegistrationBinding, RegistrationStore } from '../store/types';
import type { Binding } from './types';

/** A RegistrationStore that can also write a slice in one transaction (SqliteRegistrationStore). */
export interface BatchingRegistrationStore extends RegistrationStore {
  writeBatch(changes: readonly RegistrationChange[]): Promise<RegistrationBatchResult>;
}

function canBatch(store: RegistrationStore): store is BatchingRegistrationStore {
  return typeof (store as Partial<BatchingRegistrationStore>).writeBatch === 'function';
}

export interface BindingWriterOptions {
  /**
   * Changes per slice (per transaction). Default 64: with synchronous=NORMAL a change costs tens
   * of microseconds and the commit no fsync, so a slice blocks the event loop for a few ms at most.
   */
  sliceSize?: number;
  /** Told about every change that could not be written (the registrar counts them). */
  onFailure?: () => void;
}

/** Yields to the event loop (I/O included), unlike `await` of a settled promise. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class BindingWriter {
  private readonly queue = new Map<string, RegistrationChange>();
  private readonly sliceSize: number;
  private scheduled = false;
  private running: Promise<void> | undefined;
  private closed = false;
  /** Changes written, for tests and metrics. */
  writes = 0;
  /** Transactions (slices) committed, or store calls without batches; for tests and metrics. */
  commits = 0;

  constructor(
    private readonly store: RegistrationStore,
    private readonly log: Logger,
    private readonly options: BindingWriterOptions = {},
  ) {
    this.sliceSize = Math.max(1, Math.floor(options.sliceSize ?? 64));
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

  /**
   * Resolves once everything queued before and during the call is written. Slice by slice, with a
   * turn of the event loop between two, so a long queue does not stall signalling at runtime.
   */
  async flush(): Promise<void> {
    for (let guard = 0; guard < 1_000_000 && (this.queue.size > 0 || this.running !== undefined); guard++) {
      if (this.running !== undefined) {
        await this.running;
      } else {
        await this.drain();
        if (this.queue.size > 0) await nextTurn();
      }
    }
  }

  /** Writes what is queued, then refuses new work. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private enqueue(key: string, change: RegistrationChange): void {
    if (this.closed) return;
    // Later state replaces earlier state for the same binding (only the newest matters).
    this.queue.delete(key);
    this.queue.set(key, change);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.running === undefined) void this.drain();
    });
  }

  /** Takes one slice off the queue and writes it; schedules the next slice if more is queued. */
  private drain(): Promise<void> {
    const slice: RegistrationChange[] = [];
    for (const [key, change] of this.queue) {
      if (slice.length >= this.sliceSize) break;
      this.queue.delete(key);
      slice.push(change);
    }
    const run = this.write(slice).finally(() => {
      this.running = undefined;
      if (this.queue.size > 0) this.schedule();
    });
    this.running = run;
    return run;
  }

  private async write(slice: readonly RegistrationChange[]): Promise<void> {
    if (slice.length === 0) return;
    if (!canBatch(this.store)) {
      for (const change of slice) await this.writeOne(change);
      return;
    }
    let results: RegistrationBatchResult;
    try {
      results = await this.store.writeBatch(slice);
    } catch (err) {
      // The transaction itself failed: nothing of the slice was written.
      for (let i = 0; i < slice.length; i++) this.options.onFailure?.();
      this.log.error('registration bindings not stored', { changes: slice.length, error: errorName(err) });
      return;
    }
    this.commits++;
    slice.forEach((change, i) => this.settle(change, results[i]));
  }

  private async writeOne(change: RegistrationChange): Promise<void> {
    let error: unknown;
    try {
      if (change.kind === 'upsert') await this.store.upsert(change.binding);
      else await this.store.remove(change.aor, change.contact);
      this.commits++;
    } catch (err) {
      error = err;
    }
    this.settle(change, error);
  }

  private settle(change: RegistrationChange, error: unknown): void {
    if (error === undefined) {
      this.writes++;
      return;
    }
    // The user was removed meanwhile (its rows went with it): nothing to keep.
    if (error instanceof StoreNotFoundError) return;
    this.options.onFailure?.();
    this.log.error('registration binding not stored', {
      aor: change.kind === 'upsert' ? change.binding.aor : change.aor,
      error: errorName(error),
    });
  }
}

/** Only the error's class name: a message could quote a Contact or user name into the log. */
function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'error';
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
