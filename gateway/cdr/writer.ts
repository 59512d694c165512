/**
 * The CDR writer the B2BUA calls (CdrSink). Calls must never wait for, or fail because of, their
 * records, so every method returns at once: changes are queued and committed together, in one
 * transaction, after `flushDelayMs` or when `maxBatch` are waiting. At 500 call attempts per
 * second that is a handful of commits per second instead of 1500 fsyncs.
 *
 * What is written is only what the typed inputs carry (parties, trunk name, times, disposition,
 * status). Party strings come from the network (a trunk's caller number): control characters are
 * dropped and the length capped, so a record cannot forge lines in `cdr list` or exceed the
 * table's CHECKs.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log/logger';
import type { SqliteCdrStore } from './store';
import type { CdrAnswerInput, CdrEndInput, CdrSink, CdrStartInput } from './types';

export interface CdrWriterOptions {
  readonly now?: () => number;
  readonly log?: Logger;
  /** Longest a change waits for its commit, ms (default 250). */
  readonly flushDelayMs?: number;
  /** Pending changes that trigger a commit at once (default 500). */
  readonly maxBatch?: number;
  /** Calls tracked in memory between start and end (default 100 000; the oldest is forgotten beyond). */
  readonly maxOpen?: number;
}

export interface CdrWriterStats {
  readonly written: number;
  readonly failures: number;
  readonly pending: number;
  readonly open: number;
}

const PARTY_MAX = 128;
const TRUNK_MAX = 64;

/** Printable text only (no C0/C1 controls, no lone surrogates), at most `max` characters. */
export function cleanText(value: string, max: number): string {
  let out = '';
  let n = 0;
  for (const ch of value) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff)) continue;
    if (n++ >= max) break;
    out += ch;
  }
  return out;
}

function party(value: string): string {
  const s = cleanText(value, PARTY_MAX);
  return s === '' ? 'unknown' : s;
}

function trunkName(value: string | undefined): string | null {
  if (value === undefined) return null;
  const s = cleanText(value, TRUNK_MAX);
  return s === '' ? null : s;
}

function validStatus(status: number): number | null {
  return Number.isInteger(status) && status >= 100 && status <= 699 ? status : null;
}

/** Does nothing: `cdr.enabled: false`. Ids are still handed out so callers need no branch. */
export class NullCdrWriter implements CdrSink {
  start(_input: CdrStartInput): string {
    return randomUUID();
  }
  answer(_id: string, _input?: CdrAnswerInput): void {}
  end(_id: string, _input: CdrEndInput): void {}
}

export class CdrWriter implements CdrSink {
  private readonly now: () => number;
  private readonly flushDelayMs: number;
  private readonly maxBatch: number;
  private readonly maxOpen: number;
  private readonly open = new Map<string, { answered: boolean }>();
  private queue: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private counts = { written: 0, failures: 0 };

  constructor(private readonly store: SqliteCdrStore, private readonly o: CdrWriterOptions = {}) {
    this.now = o.now ?? Date.now;
    this.flushDelayMs = o.flushDelayMs ?? 250;
    this.maxBatch = o.maxBatch ?? 500;
    this.maxOpen = o.maxOpen ?? 100_000;
  }

  start(input: CdrStartInput): string {
    const id = randomUUID();
    if (this.closed) return id;
    if (this.open.size >= this.maxOpen) this.open.delete(this.open.keys().next().value as string);
    this.open.set(id, { answered: false });
    const row = {
      id,
      direction: input.direction,
      caller: party(input.caller),
      callee: party(input.callee),
      trunk: trunkName(input.trunk),
      started_at: input.at ?? this.now(),
    };
    this.enqueue(() => this.store.statements.insert.run(row));
    return id;
  }

  answer(id: string, input: CdrAnswerInput = {}): void {
    const call = this.open.get(id);
    if (call === undefined || call.answered || this.closed) return;
    call.answered = true;
    const row = { id, answered_at: input.at ?? this.now(), trunk: trunkName(input.trunk) };
    this.enqueue(() => this.store.statements.answer.run(row));
  }

  end(id: string, input: CdrEndInput): void {
    if (!this.open.delete(id) || this.closed) return;
    const row = {
      id,
      ended_at: input.at ?? this.now(),
      disposition: input.disposition,
      status: validStatus(input.status),
      ended_by: input.endedBy ?? null,
      trunk: trunkName(input.trunk),
    };
    this.enqueue(() => this.store.statements.end.run(row));
  }

  /** Commits every pending change now. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    let written = 0;
    let refused = 0;
    try {
      this.store.db.transaction(() => {
        for (const op of batch) {
          // A failed statement is undone alone (SQLite ABORT); the rest of the batch still commits.
          try {
            op();
            written++;
          } catch (err) {
            refused++;
            this.fail(err);
          }
        }
      }).immediate();
      this.counts.written += written;
    } catch (err) {
      // The transaction itself failed (disk full, database closed): the whole batch is lost.
      this.fail(err, batch.length - refused);
    }
  }

  /** Commits what is pending; later calls are ignored. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  get stats(): CdrWriterStats {
    return { ...this.counts, pending: this.queue.length, open: this.open.size };
  }

  private enqueue(op: () => void): void {
    this.queue.push(op);
    if (this.queue.length >= this.maxBatch) {
      this.flush();
      return;
    }
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.flushDelayMs);
      this.timer.unref();
    }
  }

  private fail(err: unknown, count = 1): void {
    this.counts.failures += count;
    this.o.log?.error('CDR write failed', { error: err instanceof Error ? err.message : String(err), records: count });
  }
}
