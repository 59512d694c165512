/** SQLite RegistrationStore (RFC 3261 §10.3, RFC 5626 §6, RFC 3327). See types.ts for the contract. */
import type { Database, Statement } from 'better-sqlite3';
import type { TransportProtocol } from '../../sip/transport/types';
import { StoreError, StoreNotFoundError } from '../errors';
import type { RegistrationBinding, RegistrationStore } from '../types';

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

  constructor(private readonly db: Database) {
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
  }

  async upsert(b: RegistrationBinding): Promise<void> {
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
    this.db.transaction(() => {
      if (this.userExists.get(b.user) === undefined) {
        throw new StoreNotFoundError(`no user "${b.user}" to register for`);
      }
      if (b.instanceId !== undefined) {
        // RFC 5626 §6 step 3: the same instance and reg-id replace the old flow's binding, even
        // when the Contact URI changed (new IP address or port after a reconnect).
        this.dropSameFlow.run(b.aor, b.instanceId, b.regId, b.contact);
      }
      this.upsertRow.run(row);
    }).immediate();
  }

  async remove(aor: string, contact: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM registrations WHERE aor = ? AND contact = ?').run(aor, contact).changes === 1;
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
