/**
 * An admin API with the service routes (/metrics, /readyz) on 127.0.0.1:<ephemeral>, over a fresh
 * store, real audit file, a capturing JSON logger and the CLI endpoint file: what the scope tests
 * (RFC 6750 §3.1) need on top of harness.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { AUDIT_FILE } from '../../../gateway/admin/audit';
import { readCliEndpoint } from '../../../gateway/admin/http';
import { AdminTokens, type MintedToken, type TokenScope } from '../../../gateway/admin/tokens';
import { serviceRoutes, ServiceLifecycle, type GatewayMetrics, type ServiceLifecycleOptions } from '../../../gateway/metrics';
import { captureLogger, type CapturedLogger } from '../../log/capture';
import { closeApiHarness, openApiHarness, type ApiHarness } from './harness';

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
  const captured = captureLogger();
  const registry = new Registry();
  new Gauge({ name: PROBE_METRIC, help: 'scope test probe', registers: [registry] }).set(1);
  const metrics: GatewayMetrics = { registry, dispose: () => undefined };
  // /readyz is not under test: a lifecycle with nothing listening (not ready) is enough.
  const lifecycle = new ServiceLifecycle({
    transport: { addresses: () => [] },
    store: { schemaVersion: () => 1 },
    b2bua: {} as ServiceLifecycleOptions['b2bua'],
  });
  const h = await openApiHarness({ cliEndpoint: true, log: captured.log, extraRoutes: serviceRoutes(metrics, lifecycle) });
  const { dataDir, store, masterKey } = h;
  const auditText = (): string => fs.readFileSync(path.join(dataDir, AUDIT_FILE), 'utf8');
  return {
    ...h,
    captured,
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
  await closeApiHarness(h);
  return h.captured.output();
}
