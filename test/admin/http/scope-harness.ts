/**
 * An admin API with the service routes (/metrics, /readyz) on 127.0.0.1:<ephemeral>, over a fresh
 * store, real audit file, a capturing JSON logger and the CLI endpoint file: what the scope tests
 * (RFC 6750 §3.1) need on top of harness.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { AUDIT_FILE, FileAuditLog } from '../../../gateway/admin/audit';
import { readCliEndpoint, startAdminApi } from '../../../gateway/admin/http';
import { AdminTokens, type MintedToken, type TokenScope } from '../../../gateway/admin/tokens';
import { UserService } from '../../../gateway/admin/users';
import { nullLogger } from '../../../gateway/log/logger';
import { serviceRoutes, ServiceLifecycle, type GatewayMetrics, type ServiceLifecycleOptions } from '../../../gateway/metrics';
import { openAccountStore } from '../../../gateway/store';
import { ensureCertificate } from '../../../gateway/tls/certificate';
import { captureLogger, type CapturedLogger } from '../../log/capture';
import { makeDataDir, removeDataDir } from '../../store/fixtures';
import { FakeRegistrar, REALM, type ApiHarness } from './harness';

/** A sample the fake registry exposes, to tell a real exposition from an error body. */
export const PROBE_METRIC = 'ciphergate_scope_probe';

export interface ScopeHarness extends ApiHarness {
  captured: CapturedLogger;
  /** Mints a stored token of `scope` through the same AdminTokens the CLI uses. */
  mint(scope: TokenScope): Promise<MintedToken>;
  /** The CLI's session token, from <dataDir>/run/cli-endpoint.json. */
  sessionToken(): string;
  /**
   * The audit file's entries once at least `count` of them satisfy `wanted` (the file transport
   * writes asynchronously); polls for up to 3 s, then returns what is there.
   */
  auditEntries(wanted: (entry: Record<string, unknown>) => boolean, count?: number): Promise<Record<string, unknown>[]>;
  auditText(): string;
}

export async function openScopeHarness(): Promise<ScopeHarness> {
  const dataDir = makeDataDir();
  const { store, masterKey } = await openAccountStore(dataDir);
  const clock = { now: Date.now() };
  const users = new UserService({ store, masterKey, realm: REALM, now: () => clock.now });
  const audit = FileAuditLog.open(dataDir);
  const registrar = new FakeRegistrar();
  const captured = captureLogger();
  const tls = await ensureCertificate({ dataDir, sip: { domain: 'localhost' }, tls: { cert: '', key: '', ca: '' } }, nullLogger);
  const registry = new Registry();
  new Gauge({ name: PROBE_METRIC, help: 'scope test probe', registers: [registry] }).set(1);
  const metrics: GatewayMetrics = { registry, dispose: () => undefined };
  // /readyz is not under test: a lifecycle with nothing listening (not ready) is enough.
  const lifecycle = new ServiceLifecycle({
    transport: { addresses: () => [] },
    store: { schemaVersion: () => 1 },
    b2bua: {} as ServiceLifecycleOptions['b2bua'],
  });
  const api = await startAdminApi({
    config: {
      dataDir,
      admin: { host: '127.0.0.1', port: 0, selfServiceAttempts: 50, selfServiceWindowSec: 900, otpTtlSec: 86_400 },
    },
    log: captured.log, tls, store, masterKey, users, audit, registrar,
    cliEndpoint: true,
    extraRoutes: serviceRoutes(metrics, lifecycle),
  });
  if (api.initialToken === undefined) throw new Error('first start must mint a token');
  const auditText = (): string => fs.readFileSync(path.join(dataDir, AUDIT_FILE), 'utf8');
  return {
    dataDir, store, masterKey, users, audit, registrar, tls, api, clock, token: api.initialToken.token, captured,
    async mint(scope) {
      const tokens = new AdminTokens(store.adminTokens, masterKey);
      try {
        return await tokens.mint(scope);
      } finally {
        tokens.dispose();
      }
    },
    sessionToken() {
      const endpoint = readCliEndpoint(dataDir);
      if (endpoint === undefined) throw new Error('no CLI endpoint file');
      return endpoint.token;
    },
    auditText,
    async auditEntries(wanted, count = 1) {
      const parse = (): Record<string, unknown>[] => auditText().split('\n').filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const deadline = Date.now() + 3000;
      let entries = parse();
      while (entries.filter(wanted).length < count && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        entries = parse();
      }
      return entries;
    },
  };
}

/** Closes everything; returns the captured log output. */
export async function closeScopeHarness(h: ScopeHarness | undefined): Promise<string> {
  if (h === undefined) return '';
  await h.api.close();
  await h.audit.close();
  h.users.dispose();
  h.masterKey.dispose();
  await h.store.close();
  const output = await h.captured.output();
  removeDataDir(h.dataDir);
  return output;
}
