/**
 * An admin API on 127.0.0.1:<ephemeral> over a fresh store in a temp data dir: real UserService,
 * real audit file, a generated certificate, a fake registrar that records what it is told.
 */
import { request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { FileAuditLog } from '../../../gateway/admin/audit';
import { startAdminApi, type AdminApi, type AdminApiOptions, type RegistrarControl } from '../../../gateway/admin/http';
import { UserService } from '../../../gateway/admin/users';
import { nullLogger, type Logger } from '../../../gateway/log/logger';
import { openAccountStore, type MasterKey, type RegistrationBinding, type SqliteStore } from '../../../gateway/store';
import { ensureCertificate, type TlsMaterial } from '../../../gateway/tls/certificate';
import { makeDataDir, removeDataDir } from '../../store/fixtures';

export const REALM = 'ciphergate.local';
export const STRONG_PASSWORD = 'Vq7#mLp2-Xr9!zTw';

export class FakeRegistrar implements RegistrarControl {
  readonly blocked: string[] = [];
  bindings: RegistrationBinding[] = [];

  async blockUser(name: string): Promise<void> {
    this.blocked.push(name);
    this.bindings = this.bindings.filter((b) => b.user !== name);
  }

  async registrations(aor?: string): Promise<readonly RegistrationBinding[]> {
    return aor === undefined ? this.bindings : this.bindings.filter((b) => b.aor === aor);
  }
}

export interface ApiHarness {
  dataDir: string;
  store: SqliteStore;
  masterKey: MasterKey;
  users: UserService;
  audit: FileAuditLog;
  registrar: FakeRegistrar;
  tls: TlsMaterial;
  api: AdminApi;
  clock: { now: number };
  /** The operator token minted at this (first) start. */
  token: string;
}

export interface HarnessOptions {
  selfServiceAttempts?: number;
  cliEndpoint?: boolean;
  /** The API's logger (default: nothing logged). */
  log?: Logger;
  /** Routes served next to /api (e.g. /metrics). */
  extraRoutes?: AdminApiOptions['extraRoutes'];
}

export async function openApiHarness(options: HarnessOptions = {}): Promise<ApiHarness> {
  const dataDir = makeDataDir();
  const { store, masterKey } = await openAccountStore(dataDir);
  const clock = { now: Date.now() };
  const users = new UserService({ store, masterKey, realm: REALM, now: () => clock.now });
  const audit = FileAuditLog.open(dataDir);
  const registrar = new FakeRegistrar();
  const tls = await ensureCertificate({ dataDir, sip: { domain: 'localhost' }, tls: { cert: '', key: '', ca: '' } }, nullLogger);
  const api = await startAdminApi({
    config: {
      dataDir,
      admin: { host: '127.0.0.1', port: 0, selfServiceAttempts: options.selfServiceAttempts ?? 50, selfServiceWindowSec: 900, otpTtlSec: 86_400 },
    },
    log: options.log ?? nullLogger, tls, store, masterKey, users, audit, registrar,
    cliEndpoint: options.cliEndpoint ?? false,
    ...(options.extraRoutes !== undefined && { extraRoutes: options.extraRoutes }),
  });
  if (api.initialToken === undefined) throw new Error('first start must mint a token');
  return { dataDir, store, masterKey, users, audit, registrar, tls, api, clock, token: api.initialToken.token };
}

export async function closeApiHarness(h: ApiHarness | undefined): Promise<void> {
  if (h === undefined) return;
  await h.api.close();
  await h.audit.close();
  h.users.dispose();
  h.masterKey.dispose();
  await h.store.close();
  removeDataDir(h.dataDir);
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Parsed JSON body (undefined when empty). */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience: bodies are asserted field by field
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent as-is instead of JSON.stringify(body). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

/** One HTTPS request to the harness' API, trusting exactly its certificate. */
export function call(h: ApiHarness, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: h.api.address.port,
      method,
      path,
      ca: h.tls.cert,
      // The generated certificate names "localhost"; the connection is to the address.
      checkServerIdentity: () => undefined,
      agent: false,
      timeout: 10_000,
      headers: {
        ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
        ...(payload !== undefined && { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
        ...options.headers,
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => {
        let json: unknown;
        try { json = text === '' ? undefined : JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A binding for the fake registrar. */
export function binding(user: string, contact: string): RegistrationBinding {
  const now = Date.now();
  return {
    aor: `sip:${user}@${REALM}`, contact, user, callId: 'c1', cseq: 1, expiresAt: now + 3600_000,
    transport: 'TLS', remoteAddress: '192.0.2.10', remotePort: 50_000, path: [], registeredAt: now, updatedAt: now,
  };
}
