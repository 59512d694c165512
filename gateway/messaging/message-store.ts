/**
 * The stored messages in SQLite (tables of migration 2), written with group commit.
 *
 * Durability: the 202 Accepted of RFC 3428 §7 promises delivery, so `insert` resolves only after
 * the transaction holding the row has committed. The connection runs with synchronous=FULL
 * (store/sqlite/database.ts), so a commit is an fsync of the write-ahead log: once `insert`
 * resolves, the message survives kill -9 and power loss.
 *
 * Group commit: writes are queued and run together in one transaction, so one fsync covers every
 * message that arrived meanwhile. An insert (a sender waits for its 202) is committed on the next
 * turn of the event loop; the driver is synchronous, so while one commit waits for the disk the
 * next batch gathers in the socket buffers and batches grow with the load. Device states and
 * removals wait up to `lazyCommitMs` (default 20 ms) for company, or ride along with the next
 * insert: a crash in that window means a delivered message is delivered once more, never lost.
 *
 * Erasure: a removed message's ciphertext is overwritten with zeros of the same length, then the
 * row is deleted (secure_delete=ON zeroes the freed page space). The write-ahead log is truncated
 * after erasures (`wal_checkpoint(TRUNCATE)`) at most every `checkpointIntervalMs`, and at once by
 * `eraseRecipient`, so old frames holding ciphertext do not linger in the -wal file.
 */
import type { Database, Statement } from 'better-sqlite3';
import { truncateWal } from '../store/sqlite/database';
import type { Logger } from '../log/logger';
import type { DeviceDelivery, DeviceDeliveryState, StoredMessageMeta } from './types';

type Op =
  | { readonly kind: 'insert'; readonly meta: StoredMessageMeta; readonly sealed: Buffer; readonly done: (err?: unknown) => void }
  | { readonly kind: 'device'; readonly seq: number; readonly device: string; readonly d: DeviceDelivery }
  | { readonly kind: 'remove'; readonly seq: number };

interface MessageRow {
  seq: number;
  id: string;
  recipient: string;
  group_name: string | null;
  size: number;
  created_at: number;
  expires_at: number;
}

interface DeliveryRow {
  seq: number;
  device: string;
  required: number;
  state: DeviceDeliveryState;
}

export interface MessageStoreOptions {
  readonly log: Logger;
  /** A write that did not reach the disk (counted by the service). */
  readonly onFailure?: (err: unknown) => void;
  /** Least time between two WAL truncations after erasures (default 10 s). */
  readonly checkpointIntervalMs?: number;
  /** Longest wait of a device state or removal before its commit (default 20 ms). */
  readonly lazyCommitMs?: number;
}

/** A constraint failure affects one row only; any other error ends the whole batch. */
function isConstraintError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT');
}

export class MessageStore {
  private ops: Op[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private lazy: NodeJS.Timeout | undefined;
  private readonly lazyCommitMs: number;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private erasedSinceCheckpoint = false;
  private lastCheckpoint = 0;
  private readonly checkpointIntervalMs: number;
  private readonly s: {
    insert: Statement;
    device: Statement;
    zero: Statement;
    remove: Statement;
    sealed: Statement<[number], { sealed: Buffer }>;
  };

  constructor(private readonly db: Database, private readonly o: MessageStoreOptions) {
    this.checkpointIntervalMs = o.checkpointIntervalMs ?? 10_000;
    this.lazyCommitMs = o.lazyCommitMs ?? 20;
    this.s = {
      insert: db.prepare(
        'INSERT INTO messages (seq, id, recipient, group_name, size, created_at, expires_at, sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      device: db.prepare(
        'INSERT INTO message_deliveries (seq, device, required, state) VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT (seq, device) DO UPDATE SET required = excluded.required, state = excluded.state',
      ),
      zero: db.prepare('UPDATE messages SET sealed = zeroblob(length(sealed)) WHERE seq = ?'),
      remove: db.prepare('DELETE FROM messages WHERE seq = ?'),
      sealed: db.prepare<[number], { sealed: Buffer }>('SELECT sealed FROM messages WHERE seq = ?'),
    };
  }

  /** Every stored message in arrival order, with its device states (at start). */
  loadAll(): StoredMessageMeta[] {
    const bySeq = new Map<number, StoredMessageMeta>();
    const rows = this.db.prepare<[], MessageRow>(
      'SELECT seq, id, recipient, group_name, size, created_at, expires_at FROM messages ORDER BY seq',
    ).all();
    for (const r of rows) {
      bySeq.set(r.seq, {
        seq: r.seq, id: r.id, recipient: r.recipient, size: r.size, createdAt: r.created_at, expiresAt: r.expires_at,
        ...(r.group_name !== null && { group: r.group_name }),
        devices: new Map(),
      });
    }
    for (const d of this.db.prepare<[], DeliveryRow>('SELECT seq, device, required, state FROM message_deliveries').all()) {
      bySeq.get(d.seq)?.devices.set(d.device, { required: d.required === 1, state: d.state });
    }
    return [...bySeq.values()];
  }

  /** The highest seq ever stored (0 for none): new messages continue after it. */
  maxSeq(): number {
    return this.db.prepare<[], { m: number | null }>('SELECT max(seq) AS m FROM messages').get()?.m ?? 0;
  }

  /** The sealed envelope of a committed message, or undefined once it is gone. */
  readSealed(seq: number): Buffer | undefined {
    return this.s.sealed.get(seq)?.sealed;
  }

  /** Stores a message with its initial device rows; resolves once the commit is on disk. */
  insert(meta: StoredMessageMeta, sealed: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'insert', meta, sealed, done: (err) => (err === undefined ? resolve() : reject(err)) });
    });
  }

  /** Records a device's state for a message (queued; no effect once the message is removed). */
  setDevice(seq: number, device: string, d: DeviceDelivery): void {
    this.enqueue({ kind: 'device', seq, device, d: { ...d } });
  }

  /** Overwrites then deletes a message and its device rows (queued). */
  remove(seq: number): void {
    this.enqueue({ kind: 'remove', seq });
  }

  /**
   * Erases every message waiting for `recipient` now (destroy-keys, account removal): pending
   * writes are committed first, then the rows are overwritten and deleted and the WAL truncated.
   * Returns how many were erased. WalCheckpointError when another connection kept the WAL busy.
   */
  eraseRecipient(recipient: string): number {
    this.commitNow();
    const erase = this.db.transaction((): number => {
      this.db.prepare('UPDATE messages SET sealed = zeroblob(length(sealed)) WHERE recipient = ?').run(recipient);
      return this.db.prepare('DELETE FROM messages WHERE recipient = ?').run(recipient).changes;
    });
    const n = erase.immediate();
    truncateWal(this.db);
    this.lastCheckpoint = Date.now();
    this.erasedSinceCheckpoint = false;
    return n;
  }

  /** Commits everything queued now (tests, shutdown). */
  flush(): void {
    this.commitNow();
  }

  /** Writes pending changes, truncates the WAL once more, and closes the connection. */
  close(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.lazy !== undefined) clearTimeout(this.lazy);
    this.lazy = undefined;
    if (this.checkpointTimer !== undefined) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    if (!this.db.open) return;
    this.commitNow();
    try {
      truncateWal(this.db);
    } catch (err) {
      this.o.log.warn('message store: WAL not truncated at close', { error: err instanceof Error ? err.name : 'error' });
    }
    this.db.close();
  }

  /** Queued writes not yet committed. */
  get pending(): number {
    return this.ops.length;
  }

  private enqueue(op: Op): void {
    this.ops.push(op);
    if (op.kind === 'insert') {
      this.scheduled ??= setImmediate(() => {
        this.scheduled = undefined;
        this.commitNow();
      });
    } else if (this.scheduled === undefined && this.lazy === undefined) {
      this.lazy = setTimeout(() => {
        this.lazy = undefined;
        this.commitNow();
      }, this.lazyCommitMs);
      this.lazy.unref();
    }
  }

  private commitNow(): void {
    const ops = this.ops;
    if (ops.length === 0 || !this.db.open) return;
    this.ops = [];
    const failed = new Map<Op, unknown>();
    let erased = false;
    try {
      this.db.transaction(() => {
        for (const op of ops) {
          try {
            this.apply(op);
            if (op.kind === 'remove') erased = true;
          } catch (err) {
            if (!isConstraintError(err)) throw err;
            failed.set(op, err);
          }
        }
      }).immediate();
    } catch (err) {
      this.o.onFailure?.(err);
      this.o.log.error('message store: batch not committed', { writes: ops.length, error: err instanceof Error ? err.message : 'error' });
      for (const op of ops) if (op.kind === 'insert') op.done(err);
      return;
    }
    for (const op of ops) {
      const err = failed.get(op);
      // A device row for a message removed meanwhile fails its foreign key: nothing was lost.
      if (err !== undefined && op.kind === 'insert') this.o.onFailure?.(err);
      if (op.kind === 'insert') op.done(err);
    }
    if (erased) this.afterErasure();
  }

  private apply(op: Op): void {
    switch (op.kind) {
      case 'insert': {
        const m = op.meta;
        this.s.insert.run(m.seq, m.id, m.recipient, m.group ?? null, m.size, m.createdAt, m.expiresAt, op.sealed);
        for (const [device, d] of m.devices) this.s.device.run(m.seq, device, d.required ? 1 : 0, d.state);
        return;
      }
      case 'device':
        this.s.device.run(op.seq, op.device, op.d.required ? 1 : 0, op.d.state);
        return;
      case 'remove':
        this.s.zero.run(op.seq);
        this.s.remove.run(op.seq);
        return;
    }
  }

  /** Truncates the WAL after erasures, at most once per interval (timer unref'd). */
  private afterErasure(): void {
    this.erasedSinceCheckpoint = true;
    if (this.checkpointTimer !== undefined) return;
    const wait = Math.max(0, this.lastCheckpoint + this.checkpointIntervalMs - Date.now());
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      if (!this.erasedSinceCheckpoint || !this.db.open) return;
      this.commitNow();
      try {
        truncateWal(this.db);
        this.erasedSinceCheckpoint = false;
      } catch {
        // A reader kept the WAL busy: the next erasure tries again.
      }
      this.lastCheckpoint = Date.now();
    }, wait);
    this.checkpointTimer.unref();
  }
}
