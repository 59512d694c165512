/**
 * The admin API, assembled: token check, routes, listener, the CLI endpoint file.
 *
 * startAdminApi() mints the operator's bearer token on the first start (the store holds none) and
 * returns it once in `notices` for the caller to print; afterwards only its HMAC exists. Each start
 * also mints an in-memory session token for the local CLI and writes it, with the address and the
 * certificate fingerprint, to <dataDir>/run/cli-endpoint.json (removed at close()).
 */
import type { AddressInfo } from 'node:net';
import type { AdminDocument } from '../../../config/schema';
import type { Logger } from '../../log/logger';
import type { MasterKey } from '../../store/keys';
import type { AccountStore } from '../../store/types';
import type { TlsMaterial } from '../../tls/certificate';
import type { AuditLog } from '../audit';
import { AdminTokens, SessionToken, type MintedToken } from '../tokens';
import type { UserService } from '../users';
import { AdminActions } from './actions';
import { Authenticator } from './auth';
import { removeCliEndpoint, writeCliEndpoint } from './cli-endpoint';
import { RateLimiter } from './rate-limit';
import { storeRegistrarControl, type RegistrarControl } from './registrar-control';
import { adminRoutes, type Route } from './routes';
import { AdminHttpServer } from './server';
import type { MessagingAdmin } from '../../messaging/admin';

export { AdminActions, type Actor } from './actions';
export { AdminClient, AdminClientError, type AdminResponse } from './client';
export { CliEndpointError, cliEndpointPath, readCliEndpoint, type CliEndpoint } from './cli-endpoint';
export { HttpError, httpErrorFor, type ErrorBody } from './errors';
export { storeRegistrarControl, type RegistrarControl } from './registrar-control';
export * from './views';

/** Bearer-token failures tolerated per source before 429 (per 5 minutes). */
const AUTH_FAILURES_PER_WINDOW = 20;
const AUTH_FAILURE_WINDOW_MS = 5 * 60 * 1000;

export interface AdminApiOptions {
  readonly config: { readonly dataDir: string; readonly admin: Readonly<AdminDocument> };
  readonly log: Logger;
  readonly tls: Pick<TlsMaterial, 'cert' | 'key' | 'fingerprint'>;
  readonly store: Pick<AccountStore, 'adminTokens' | 'registrations'>;
  readonly masterKey: MasterKey;
  readonly users: UserService;
  readonly audit: AuditLog;
  /** The running registrar; until one is attached, a store-only fallback (cannot close flows). */
  readonly registrar?: RegistrarControl;
  /** Write <dataDir>/run/cli-endpoint.json (default true). */
  readonly cliEndpoint?: boolean;
  /** Messaging administration (groups, policies, erasure on destroy-keys/remove). */
  readonly messaging?: MessagingAdmin;
  /** Further endpoints on this listener: /metrics and /readyz (gateway/metrics/routes.ts). */
  readonly extraRoutes?: readonly Route[];
}

export interface AdminApi {
  readonly address: AddressInfo;
  /** https URL with a loopback host when the API listens on a wildcard address. */
  readonly url: string;
  /** "admin https 127.0.0.1:8089", for the start-up listing. */
  readonly listening: string;
  /** Lines to print once on stdout: the first start's admin token. */
  readonly notices: readonly string[];
  /** The token minted by this start (first start only). */
  readonly initialToken?: MintedToken;
  readonly actions: AdminActions;
  /** Points block/destroy-keys/remove/registrations at the running registrar. */
  attachRegistrar(registrar: RegistrarControl): void;
  close(): Promise<void>;
}

export async function startAdminApi(options: AdminApiOptions): Promise<AdminApi> {
  const { config, log, audit } = options;
  const tokens = new AdminTokens(options.store.adminTokens, options.masterKey);
  const session = SessionToken.create();
  const fallback = storeRegistrarControl(options.store.registrations);
  let registrar = options.registrar;
  const control: RegistrarControl = {
    blockUser: (name) => (registrar ?? fallback).blockUser(name),
    registrations: (aor) => (registrar ?? fallback).registrations(aor),
  };
  const actions = new AdminActions({
    users: options.users, registrar: control, audit, otpTtlMs: config.admin.otpTtlSec * 1000,
    ...(options.messaging !== undefined && { messaging: options.messaging }),
  });
  const routes = [...adminRoutes({
    actions,
    audit,
    selfServiceLimit: new RateLimiter({ maxAttempts: config.admin.selfServiceAttempts, windowMs: config.admin.selfServiceWindowSec * 1000 }),
  }), ...(options.extraRoutes ?? [])];
  const server = new AdminHttpServer({
    tls: options.tls,
    routes,
    authenticator: new Authenticator(tokens, session),
    authFailureLimit: new RateLimiter({ maxAttempts: AUTH_FAILURES_PER_WINDOW, windowMs: AUTH_FAILURE_WINDOW_MS }),
    audit,
    log: log.child({ component: 'admin-api' }),
  });

  const initialToken = await tokens.ensureInitial();
  if (initialToken !== undefined) {
    audit.record({ action: 'token.mint', actor: 'gateway', source: 'local', result: 'ok', detail: { tokenId: initialToken.id } });
  }
  const address = await server.listen(config.admin.host, config.admin.port);
  const url = `https://${hostForUrl(loopbackFor(address.address))}:${address.port}`;
  const writeEndpoint = options.cliEndpoint ?? true;
  try {
    if (writeEndpoint) {
      writeCliEndpoint(config.dataDir, {
        pid: process.pid, url, fingerprint: options.tls.fingerprint, token: session.token, startedAt: new Date().toISOString(),
      });
    }
  } catch (err) {
    await server.close();
    tokens.dispose();
    throw err;
  }
  log.info('admin API listening', { url: `https://${hostForUrl(address.address)}:${address.port}` });

  return {
    address,
    url,
    listening: `admin https ${hostForUrl(address.address)}:${address.port}`,
    notices: initialToken === undefined ? [] : [
      `Admin API token (shown once): ${initialToken.token}`,
      'Keep it in a password manager; mint a new one with: ciphergate admin token rotate',
    ],
    ...(initialToken !== undefined && { initialToken }),
    actions,
    attachRegistrar(r: RegistrarControl): void {
      registrar = r;
    },
    async close(): Promise<void> {
      if (writeEndpoint) removeCliEndpoint(config.dataDir);
      await server.close();
      tokens.dispose();
    },
  };
}

/** The address a local client should connect to for a listener on `address`. */
export function loopbackFor(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::' || address === '::0') return '::1';
  return address;
}

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
