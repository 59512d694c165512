/**
 * Call detail records: public surface, and `openCdrs`, which the gateway wiring calls.
 *
 * The CDR connection is its own (like messaging's): the table lives in the accounts database file
 * (one file to back up and to zeroize), WAL lets the CLI read while the gateway writes.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from '../log/logger';
import { openDatabase } from '../store/sqlite/database';
import { CdrRetention } from './retention';
import { SqliteCdrStore } from './store';
import type { CdrConfig, CdrSink } from './types';
import { CdrWriter, NullCdrWriter } from './writer';

export * from './types';
export { CdrRetention, type CdrRetentionOptions } from './retention';
export { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, SqliteCdrStore } from './store';
export { CdrWriter, NullCdrWriter, cleanText, type CdrWriterOptions, type CdrWriterStats } from './writer';
export { cdrSchema, resolveCdr, type CdrDocument } from './config';

export interface OpenedCdrs {
  /** What the B2BUA calls: a CdrWriter, or a NullCdrWriter when `cdr.enabled` is false. */
  readonly sink: CdrSink;
  readonly store: SqliteCdrStore;
  /** Commits pending records now (they otherwise wait up to 250 ms). */
  flush(): void;
  /** Commits pending records, stops the sweep, closes the connection. */
  close(): void;
}

export interface OpenCdrsOptions {
  readonly log?: Logger;
  readonly now?: () => number;
  /** An already open database (tests); otherwise <dataDir>/ciphergate.db is opened. */
  readonly db?: Database;
}

/**
 * Opens the CDR store and starts retention. With CDRs disabled nothing new is written, but the
 * retention sweep still runs: records kept from before still age out.
 */
export function openCdrs(dataDir: string, config: CdrConfig, options: OpenCdrsOptions = {}): OpenedCdrs {
  const db = options.db ?? openDatabase(dataDir);
  const ownDb = options.db === undefined;
  // This connection only writes CDRs, on the signalling thread: an fsync per batch (synchronous=FULL,
  // right for credentials and wipes) stalled call setup. In WAL mode NORMAL syncs at checkpoints: a
  // process crash loses nothing, a power loss at most the last batches of call records.
  if (ownDb) db.pragma('synchronous = NORMAL');
  const store = new SqliteCdrStore(db);
  const writer = config.enabled ? new CdrWriter(store, { log: options.log, ...(options.now !== undefined && { now: options.now }) }) : undefined;
  const retention = new CdrRetention({
    store,
    retentionDays: config.retentionDays,
    sweepIntervalSec: config.sweepIntervalSec,
    ...(options.now !== undefined && { now: options.now }),
    ...(options.log !== undefined && { log: options.log }),
  });
  retention.start();
  return {
    sink: writer ?? new NullCdrWriter(),
    store,
    flush() {
      writer?.flush();
    },
    close() {
      retention.stop();
      writer?.close();
      if (ownDb && db.open) db.close();
    },
  };
}
