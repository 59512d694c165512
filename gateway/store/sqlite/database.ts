/**
 * Opening the SQLite file and the settings every connection runs with.
 *
 * - journal_mode=WAL: readers (the CLI) do not block the writer (the registrar) and vice versa.
 * - synchronous=FULL, not NORMAL: in WAL mode NORMAL can lose the last commits on power loss. For
 *   most data that is a lost REGISTER refresh, but here it could also undo a wipe (destroyed keys
 *   reappearing) or a consumed one-time password (usable twice). Durability of those is a security
 *   property; one fsync per commit is cheap at registration rates (a refresh per UA per minutes).
 * - secure_delete=ON: deleted content is overwritten with zeros in the pages, not just unlinked.
 * - foreign_keys=ON: a user's rows go with it (ON DELETE CASCADE).
 * - trusted_schema=OFF, temp_store=MEMORY: no SQL functions run from schema content, and no
 *   temporary files holding row data on disk.
 *
 * The file and its -wal/-shm companions are 0600 (SQLite gives the companions the database
 * file's mode), the data directory 0700 when we create it.
 */
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { constants as FS, closeSync, fchmodSync, fstatSync, mkdirSync, openSync } from 'node:fs';
import * as path from 'node:path';
import { StoreError, WalCheckpointError } from '../errors';
import { migrate, MIGRATIONS, type Migration } from './migrations';

export const DATABASE_FILE = 'ciphergate.db';

export function databasePath(dataDir: string): string {
  return path.join(dataDir, DATABASE_FILE);
}

export interface OpenDatabaseOptions {
  /** For tests of the migration runner; defaults to MIGRATIONS. */
  migrations?: readonly Migration[];
  /** Wall clock for schema_version.applied_at. */
  now?: () => number;
  /** How long a statement waits for another connection's lock (default 5 s). */
  busyTimeoutMs?: number;
}

export function openDatabase(dataDir: string, options: OpenDatabaseOptions = {}): Database {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = databasePath(dataDir);
  createPrivateFile(file);
  const db = new BetterSqlite3(file, { timeout: options.busyTimeoutMs ?? 5000 });
  try {
    db.pragma('trusted_schema = OFF');
    db.pragma('foreign_keys = ON');
    db.pragma('secure_delete = ON');
    db.pragma('temp_store = MEMORY');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StoreError(`${file}: SQLite refused WAL journal mode (got ${String(mode)})`);
    db.pragma('synchronous = FULL');
    if (db.pragma('foreign_keys', { simple: true }) !== 1 || db.pragma('secure_delete', { simple: true }) !== 1) {
      throw new StoreError(`${file}: this SQLite build does not honour foreign_keys/secure_delete`);
    }
    migrate(db, (options.now ?? Date.now)(), options.migrations ?? MIGRATIONS);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Creates the file 0600 before SQLite does (SQLite would apply the umask, typically 0644), and
 * tightens an existing file that others could read: it holds the user list and registrations.
 */
function createPrivateFile(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, FS.O_RDWR | FS.O_CREAT | FS.O_NOFOLLOW, 0o600);
  } catch (err) {
    throw new StoreError(`cannot open database ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new StoreError(`database ${file} must be a regular file`);
    if ((st.mode & 0o077) !== 0) fchmodSync(fd, st.mode & 0o700);
  } finally {
    closeSync(fd);
  }
}

/**
 * Destroys blob column values: overwrite with zeros of the same length (so the row stays where it
 * is and the zeros land on the old bytes), then delete the rows. Run inside a transaction and
 * follow with `truncateWal` once committed. `table`, `column` and `where` are constants of this
 * package, never caller input.
 */
export function wipeRows(db: Database, table: string, column: string, where: string, params: readonly unknown[]): number {
  db.prepare(`UPDATE ${table} SET ${column} = zeroblob(length(${column})) WHERE ${where}`).run(...params);
  return db.prepare(`DELETE FROM ${table} WHERE ${where}`).run(...params).changes;
}

/**
 * Copies every WAL frame into the database and truncates the -wal file to zero bytes, so the
 * frames holding the pre-wipe pages are gone (SQLite `wal_checkpoint(TRUNCATE)`). It waits for
 * readers through the busy handler; if one still blocks it, the wipe is reported incomplete.
 */
export function truncateWal(db: Database): void {
  const rows = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>;
  const row = rows[0];
  if (row === undefined || row.busy !== 0) {
    throw new WalCheckpointError(
      'secrets were deleted, but another connection kept the write-ahead log busy, so the old bytes ' +
        'may remain in ciphergate.db-wal until the next checkpoint; stop other ciphergate processes and retry',
    );
  }
}
