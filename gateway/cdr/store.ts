/**
 * CDR rows in SQLite (table `cdrs`, migration 3). Reads are synchronous (better-sqlite3); the
 * writer batches its changes into one transaction (writer.ts).
 */
import type { Database, Statement } from 'better-sqlite3';
import type { CallDirection, CdrDisposition, CdrListQuery, CdrRecord, CdrStore } from './types';

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 10_000;

interface CdrRow {
  id: string;
  direction: CallDirection;
  caller: string;
  callee: string;
  trunk: string | null;
  started_at: number;
  answered_at: number | null;
  ended_at: number | null;
  disposition: CdrDisposition | null;
  status: number | null;
  ended_by: 'caller' | 'callee' | 'gateway' | null;
}

/** A row as a record; billable seconds are derived, not stored. */
function toRecord(r: CdrRow): CdrRecord {
  const billable = r.ended_at === null ? undefined : r.answered_at === null ? 0 : Math.max(0, Math.floor((r.ended_at - r.answered_at) / 1000));
  return {
    id: r.id,
    direction: r.direction,
    caller: r.caller,
    callee: r.callee,
    ...(r.trunk !== null && { trunk: r.trunk }),
    startedAt: r.started_at,
    ...(r.answered_at !== null && { answeredAt: r.answered_at }),
    ...(r.ended_at !== null && { endedAt: r.ended_at }),
    ...(r.disposition !== null && { disposition: r.disposition }),
    ...(r.status !== null && { status: r.status }),
    ...(r.ended_by !== null && { endedBy: r.ended_by }),
    ...(billable !== undefined && { billableSec: billable }),
  };
}

/** Statements the writer runs (all bound by name, no string building). */
export interface CdrStatements {
  readonly insert: Statement<{ id: string; direction: string; caller: string; callee: string; trunk: string | null; started_at: number }>;
  readonly answer: Statement<{ id: string; answered_at: number; trunk: string | null }>;
  readonly end: Statement<{ id: string; ended_at: number; disposition: string; status: number | null; ended_by: string | null; trunk: string | null }>;
}

export class SqliteCdrStore implements CdrStore {
  readonly statements: CdrStatements;
  private readonly listSince: Statement<[number, number], CdrRow>;
  private readonly remove: Statement<[number]>;

  constructor(readonly db: Database) {
    this.statements = {
      insert: db.prepare('INSERT INTO cdrs (id, direction, caller, callee, trunk, started_at) VALUES (@id, @direction, @caller, @callee, @trunk, @started_at)'),
      answer: db.prepare('UPDATE cdrs SET answered_at = @answered_at, trunk = coalesce(@trunk, trunk) WHERE id = @id AND answered_at IS NULL'),
      end: db.prepare(
        'UPDATE cdrs SET ended_at = @ended_at, disposition = @disposition, status = @status, ended_by = @ended_by, ' +
          'trunk = coalesce(@trunk, trunk) WHERE id = @id AND ended_at IS NULL',
      ),
    };
    this.listSince = db.prepare<[number, number], CdrRow>(
      'SELECT id, direction, caller, callee, trunk, started_at, answered_at, ended_at, disposition, status, ended_by ' +
        'FROM cdrs WHERE started_at >= ? ORDER BY started_at DESC, id LIMIT ?',
    );
    this.remove = db.prepare<[number]>('DELETE FROM cdrs WHERE started_at < ?');
  }

  list(query: CdrListQuery = {}): CdrRecord[] {
    const limit = Math.min(Math.max(1, Math.floor(query.limit ?? DEFAULT_LIST_LIMIT)), MAX_LIST_LIMIT);
    return this.listSince.all(query.since ?? 0, limit).map(toRecord);
  }

  deleteBefore(before: number): number {
    return this.remove.run(before).changes;
  }
}
