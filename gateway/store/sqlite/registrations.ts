/**
 * SQLite RegistrationStore (RFC 3261 §10.3, RFC 5626 §6, RFC 3327). See types.ts for the contract.
 *
 * It runs on the accounts connection (SqliteStore), or on a connection of its own
 * (`SqliteRegistrationStore.open`), which is how the gateway's registrar writes its bindings: that
 * connection commits with synchronous=NORMAL instead of FULL, and `writeBatch` puts a whole slice
 * of the write-behind in one transaction (gateway/registrar/persistence.ts says why both are safe).
 */
import type { Database, Statement, Transaction } from 'better-sqlite3';
import type { TransportProtocol } from '../../sip/transport/types';
import { StoreError, StoreNotFoundError } from '../errors';
import type { RegistrationBinding, RegistrationStore } from '../types';
import { openDatabase, type OpenDatabaseOptions } from './database';

/** One change of the registrar's write-behind. */
export type RegistrationChange =
  | { readonly kind: 'upsert'; readonly binding: RegistrationBinding }
  | { readonly kind: 'remove'; readonly aor: string; readonly contact: string };

/**
 * What became of each change of a batch, in order: undefined when written, else the error that
 * rolled that change (and only that change) back, e.g. StoreNotFoundError for a removed user.
 */
export type RegistrationBatchResult = ReadonlyArray<Error | undefined>;

/** SQLite `PRAGMA synchronous` values (https://sqlite.org/pragma.html#pragma_synchronous). */
const SYNCHRONOUS_NAMES: Readonly<Record<number, string>> = { 0: 'OFF', 1: 'NORMAL', 2: 'FULL', 3: 'EXTRA' };

interface BindingRow {
  aor: string;
  contact: string;
  user_name: string;
  call_id: string;
  cseq: number;
  expires_at: number;
  q_milli: number | null;
  instance_id: string | null;
  reg_id: number | null;
  transport: TransportProtocol;
  remote_address: string;
  remote_port: number;
  local_address: string | null;
  local_port: number | null;
  flow_id: string | null;
  path: string;
  user_agent: string | null;
  registered_at: number;
  updated_at: number;
}

const COLUMNS =
  'aor, contact, user_name, call_id, cseq, expires_at, q_milli, instance_id, reg_id, transport, remote_address, ' +
  'remote_port, local_address, local_port, flow_id, path, user_agent, registered_at, updated_at';
const ORDER = 'ORDER BY aor, coalesce(q_milli, 1000) DESC, registered_at';
/** Path has a handful of entries in practice; the bound keeps a stored row from growing without limit. */
const MAX_PATH_ENTRIES = 32;

function toBinding(row: BindingRow): RegistrationBinding {
  return {
    aor: row.aor,
    contact: row.contact,
    user: row.user_name,
    callId: row.call_id,
    cseq: row.cseq,
    expiresAt: row.expires_at,
    ...(row.q_milli !== null && { qMilli: row.q_milli }),
    ...(row.instance_id !== null && { instanceId: row.instance_id }),
    ...(row.reg_id !== null && { regId: row.reg_id }),
    transport: row.transport,
    remoteAddress: row.remote_address,
    remotePort: row.remote_port,
    ...(row.local_address !== null && { localAddress: row.local_address }),
    ...(row.local_port !== null && { localPort: row.local_port }),
    ...(row.flow_id !== null && { flowId: row.flow_id }),
    path: parsePath(row.path),
    ...(row.user_agent !== null && { userAgent: row.user_agent }),
    registeredAt: row.registered_at,
    updatedAt: row.updated_at,
  };
}

function parsePath(text: string): string[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw new StoreError('a registration row has a malformed path column');
  }
  return value;
}

export class SqliteRegistrationStore implements RegistrationStore {
  private readonly byAor: Statement<[string], BindingRow>;
  private readonly all: Statement<[], BindingRow>;
  private readonly upsertRow: Statement<[BindingRow]>;
  private readonly userExists: Statement<[string]>;
  private readonly dropSameFlow: Statement<[string, string, number | undefined, string]>;
  private readonly removeRow: Statement<[string, string]>;
  /** One change; nested in `batch` it runs in a SAVEPOINT, so its failure undoes only itself. */
  private readonly applyOne: Transaction<(change: RegistrationChange) => void>;
  private readonly batch: Transaction<(changes: readonly RegistrationChange[]) => Array<Error | undefined>>;

  /**
   * On `db`, which the caller keeps and closes (SqliteStore), unless `ownsConnection`: then
   * `close()` closes it.
   */
  constructor(private readonly db: Database, private readonly ownsConnection = false) {
    this.byAor = db.prepare(`SELECT ${COLUMNS} FROM registrations WHERE aor = ? ${ORDER}`);
    this.all = db.prepare(`SELECT ${COLUMNS} FROM registrations ${ORDER}`);
    this.userExists = db.prepare('SELECT 1 FROM users WHERE name = ?');
    this.dropSameFlow = db.prepare(
      'DELETE FROM registrations WHERE aor = ? AND instance_id = ? AND reg_id = ? AND contact <> ?',
    );
    // registered_at is kept from the first REGISTER of this contact; everything else is the latest.
    this.upsertRow = db.prepare(
      `INSERT INTO registrations (${COLUMNS}) VALUES (@aor, @contact, @user_name, @call_id, @cseq, @expires_at,
         @q_milli, @instance_id, @reg_id, @transport, @remote_address, @remote_port, @local_address, @local_port,
         @flow_id, @path, @user_agent, @registered_at, @updated_at)
       ON CONFLICT (aor, contact) DO UPDATE SET user_name = excluded.user_name, call_id = excluded.call_id,
         cseq = excluded.cseq, expires_at = excluded.expires_at, q_milli = excluded.q_milli,
         instance_id = excluded.instance_id, reg_id = excluded.reg_id, transport = excluded.transport,
         remote_address = excluded.remote_address, remote_port = excluded.remote_port,
         local_address = excluded.local_address, local_port = excluded.local_port, flow_id = excluded.flow_id,
         path = excluded.path, user_agent = excluded.user_agent, updated_at = excluded.updated_at`,
    );
    this.removeRow = db.prepare('DELETE FROM registrations WHERE aor = ? AND contact = ?');
    this.applyOne = db.transaction((change: RegistrationChange) => {
      if (change.kind === 'upsert') this.writeRow(change.binding);
      else this.removeRow.run(change.aor, change.contact);
    });
    this.batch = db.transaction((changes: readonly RegistrationChange[]) =>
      changes.map((change) => {
        try {
          this.applyOne(change);
          return undefined;
        } catch (err) {
          // A statement error that ends the whole transaction (disk full, I/O error) leaves no
          // transaction to go on in: the later changes would each autocommit and the COMMIT fail.
          // Give up the slice instead; the caller counts every change of it as failed.
          if (!this.db.inTransaction) throw err;
          return err instanceof Error ? err : new StoreError('a registration change failed');
        }
      }),
    );
  }

  /**
   * A connection of its own to <dataDir>/ciphergate.db (openDatabase: WAL, secure_delete,
   * foreign_keys, migrations) that commits with synchronous=NORMAL: in WAL mode a commit then
   * appends to the log without an fsync, which comes at the next checkpoint. A process crash loses
   * nothing; a power loss can lose the last commits, which for bindings means a UA re-registers.
   * Never use it for credentials or wipes. `close()` closes the connection.
   */
  static open(dataDir: string, options?: OpenDatabaseOptions): SqliteRegistrationStore {
    const db = openDatabase(dataDir, options);
    try {
      db.pragma('synchronous = NORMAL');
      return new SqliteRegistrationStore(db, true);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** The connection's `PRAGMA synchronous`, read back: 'NORMAL' for `open`, 'FULL' on the accounts connection. */
  synchronous(): string {
    const value = this.db.pragma('synchronous', { simple: true });
    return typeof value === 'number' ? SYNCHRONOUS_NAMES[value] ?? String(value) : String(value);
  }

  /** Whether the connection is still open. */
  get open(): boolean {
    return this.db.open;
  }

  /** Closes the connection if this store opened it (`open`); otherwise its owner closes it. */
  close(): void {
    if (this.ownsConnection && this.db.open) this.db.close();
  }

  /**
   * Writes `changes` in ONE transaction (one commit for the lot), each change in a savepoint of
   * its own: a change that fails (StoreNotFoundError for a removed user, a constraint) is rolled
   * back alone and reported in its slot, the others commit. Rejects, with nothing written, when
   * the transaction itself fails (the write lock stays busy past the busy timeout, disk full, I/O).
   * Synchronous underneath: the caller bounds the batch to bound the time the event loop blocks.
   */
  async writeBatch(changes: readonly RegistrationChange[]): Promise<RegistrationBatchResult> {
    if (changes.length === 0) return [];
    // IMMEDIATE: take the write lock first, so a concurrent writer (the CLI) makes us wait at
    // BEGIN, not fail at the first write with a lock upgrade that cannot be retried.
    return this.batch.immediate(changes);
  }

  async upsert(b: RegistrationBinding): Promise<void> {
    this.applyOne.immediate({ kind: 'upsert', binding: b });
  }

  /** Validates and writes one binding; inside a transaction (the user check and the RFC 5626 replacement go with it). */
  private writeRow(b: RegistrationBinding): void {
    if ((b.instanceId === undefined) !== (b.regId === undefined)) {
      throw new StoreError('a binding carries +sip.instance and reg-id together or neither (RFC 5626 §4.2)');
    }
    if (b.path.length > MAX_PATH_ENTRIES) throw new StoreError(`a binding holds at most ${MAX_PATH_ENTRIES} Path entries`);
    const row: BindingRow = {
      aor: b.aor,
      contact: b.contact,
      user_name: b.user,
      call_id: b.callId,
      cseq: b.cseq,
      expires_at: b.expiresAt,
      q_milli: b.qMilli ?? null,
      instance_id: b.instanceId ?? null,
      reg_id: b.regId ?? null,
      transport: b.transport,
      remote_address: b.remoteAddress,
      remote_port: b.remotePort,
      local_address: b.localAddress ?? null,
      local_port: b.localPort ?? null,
      flow_id: b.flowId ?? null,
      path: JSON.stringify(b.path),
      user_agent: b.userAgent ?? null,
      registered_at: b.registeredAt,
      updated_at: b.updatedAt,
    };
    if (this.userExists.get(b.user) === undefined) {
      throw new StoreNotFoundError(`no user "${b.user}" to register for`);
    }
    if (b.instanceId !== undefined) {
      // RFC 5626 §6 step 3: the same instance and reg-id replace the old flow's binding, even
      // when the Contact URI changed (new IP address or port after a reconnect).
      this.dropSameFlow.run(b.aor, b.instanceId, b.regId, b.contact);
    }
    this.upsertRow.run(row);
  }

  async remove(aor: string, contact: string): Promise<boolean> {
    return this.removeRow.run(aor, contact).changes === 1;
  }

  async removeAll(aor: string): Promise<number> {
    return this.db.prepare('DELETE FROM registrations WHERE aor = ?').run(aor).changes;
  }

  async list(aor?: string): Promise<RegistrationBinding[]> {
    return (aor === undefined ? this.all.all() : this.byAor.all(aor)).map(toBinding);
  }

  async expire(now: number): Promise<number> {
    return this.db.prepare('DELETE FROM registrations WHERE expires_at <= ?').run(now).changes;
  }
}
