/**
 * Wires the gateway together: transports → parser → transactions → UA core (gateway/sip/stack.ts).
 * Later issues hang the registrar, B2BUA and messaging off the core's handler registry here.
 */
import type { Config } from '../config/schema';
import type { Logger } from './log/logger';
import type { TlsMaterial } from './tls/certificate';
import { SipStack } from './sip/stack';
import { TransportLayer } from './sip/transport/transport-layer';
import { UserService } from './admin/users';
import { Registrar } from './registrar/registrar';
import { Defence } from './security/defence';
import { DEFAULT_SCANNER_USER_AGENTS } from './security/scanners';
import { openAccountStore, type SqliteStore } from './store';
import { SqliteRegistrationStore } from './store/sqlite/registrations';
import { openAuditLog, type AuditLog } from './admin/audit';
import { startAdminApi, type AdminApi } from './admin/http';
import { startMessaging, type MessagingService } from './messaging';
import { TrunkManager } from './trunk/manager';
import { Router } from './routing/router';
import { openCdrs, type OpenedCdrs } from './cdr';
import { B2bua } from './b2bua';
import { nativeFault, srtpBackend } from '../media/srtp';
import { EmbeddedMediaEngine } from '../media/engine';
import { BackupScheduler } from './ops';
import { Teardown } from './teardown';
import { createGatewayMetrics, serviceRoutes, ServiceLifecycle, type DrainResult, type GatewayMetrics } from './metrics';

export interface Gateway {
  /** Human-readable lines describing where the gateway listens, e.g. "sip tls 127.0.0.1:5061". */
  readonly listening: string[];
  /** Lines printed once on stdout after `listening`, e.g. the first start's admin API token. */
  readonly notices?: readonly string[];
  /**
   * Before stop() on SIGTERM/SIGINT: refuses new calls (503 + Retry-After, /readyz 503) and waits
   * up to config service.drainSec for calls in progress to end; stop() ends the rest with BYE.
   */
  drain?(): Promise<DrainResult>;
  stop(): Promise<void>;
}

/** The running gateway, with its parts exposed to in-process tests and tools. */
export interface RunningGateway extends Gateway {
  readonly stack: SipStack;
  readonly transport: TransportLayer;
  readonly store: SqliteStore;
  readonly users: UserService;
  readonly registrar: Registrar;
  /** The registrar's own connection for bindings (synchronous=NORMAL); closed at stop after the registrar. */
  readonly bindingStore: SqliteRegistrationStore;
  readonly defence: Defence;
  /** Append-only <dataDir>/audit.log (admin actions, authentication failures, bans). */
  readonly audit: AuditLog;
  /** The admin HTTPS API (gateway/admin/http). */
  readonly admin: AdminApi;
  /** SIP MESSAGE store-and-forward, groups, confidential mode (gateway/messaging). */
  readonly messaging: MessagingService;
  /** PBX trunks: keep-alive, registration, failover selection (gateway/trunk). */
  readonly trunks: TrunkManager;
  /** The dial plan: Request-URI → user devices, trunks or a refusal (gateway/routing). */
  readonly router: Router;
  /** Call detail records: `cdrs.sink` for the B2BUA, `cdrs.store` to read (gateway/cdr). */
  readonly cdrs: OpenedCdrs;
  /** The media relay the B2BUA anchors calls on (media/engine). */
  readonly media: EmbeddedMediaEngine;
  /** Calls: two legs each, forking, trunks, dialogs, limits (gateway/b2bua). */
  readonly b2bua: B2bua;
  /** Prometheus registry read by GET /metrics on the admin listener (gateway/metrics). */
  readonly metrics: GatewayMetrics;
  /** Readiness (/readyz) and the drain before a stop (gateway/metrics/lifecycle.ts). */
  readonly lifecycle: ServiceLifecycle;
}

export const PRODUCT = 'Ciphergate/0.1';

export async function startGateway(config: Config, log: Logger, tls: TlsMaterial): Promise<RunningGateway> {
  const sip = config.sip;
  const transport = await TransportLayer.listen({
    hosts: [...sip.hosts],
    udpPort: sip.udpPort,
    tcpPort: sip.tcpPort,
    tlsPort: sip.tlsPort,
    tls: {
      cert: tls.cert,
      key: tls.key,
      ...(tls.ca ? { ca: tls.ca } : {}),
      // Device certificates need the certificate asked for (tls.requireClientCert implies it).
      requestClientCert: config.tls.requestClientCert || config.tls.requireClientCert,
      rejectUnauthorizedClients: config.tls.rejectUnauthorizedClients,
    },
    limits: { maxMessageBytes: sip.limits.maxMessageSize, maxHeaderBytes: sip.limits.maxMessageSize },
    idleTimeoutMs: sip.idleTimeoutSec * 1000,
    maxConnections: sip.maxConnections,
  });
  transport.on('userError', (err: unknown) => log.error('SIP message handling failed', { error: err instanceof Error ? err.message : String(err) }));
  const teardown = new Teardown(log);
  teardown.add('transport', () => transport.close());
  try {
    return await assemble(config, log, tls, transport, teardown);
  } catch (err) {
    await teardown.run();
    throw err;
  }
}

/** Everything above the transport, each part registering its stop step as soon as it exists. */
async function assemble(config: Config, log: Logger, tls: TlsMaterial, transport: TransportLayer, teardown: Teardown): Promise<RunningGateway> {
  const sip = config.sip;
  const { store, masterKey } = await openAccountStore(config.dataDir);
  teardown.add('store', async () => {
    await store.close();
    masterKey.dispose();
  });
  const users = new UserService({ store, masterKey, realm: sip.realm });
  teardown.add('users', () => users.dispose());
  const audit = openAuditLog(config.dataDir, { onError: (err) => log.error('cannot write the audit log', { error: err }) });
  teardown.add('audit', () => audit.close());

  const security = config.security;
  const defence = new Defence({
    lockout: { maxFailures: security.lockout.maxFailures, windowMs: security.lockout.windowSec * 1000, lockMs: security.lockout.durationSec * 1000 },
    sources: {
      maxAuthFailures: security.ban.maxAuthFailures,
      authWindowMs: security.ban.authWindowSec * 1000,
      maxRequests: security.ban.maxRequests,
      requestWindowMs: security.ban.requestWindowSec * 1000,
      banMs: security.ban.durationSec * 1000,
      exemptLoopback: security.ban.exemptLoopback,
      // A configured PBX trunk is a known peer whose call rate must never get it banned.
      exempt: [...security.ban.exempt, ...config.trunks.flatMap((t) => [t.host, ...(t.inbound?.addresses ?? [])])],
    },
    scannerUserAgents: [...(security.scanners.dropKnown ? DEFAULT_SCANNER_USER_AGENTS : []), ...security.scanners.extraUserAgents],
    log: log.child({ component: 'security' }),
    // Authentication failures, lockouts and bans are audited (admin/audit.ts lists the actions).
    audit,
    closeFlow: (flowId) => transport.closeFlow(flowId),
  });
  teardown.add('defence', () => defence.stop());

  const stack = new SipStack(transport, {
    log: log.child({ component: 'sip' }),
    product: PRODUCT,
    parserLimits: sip.limits,
    transactions: { timers: { t1: sip.timers.t1, t2: sip.timers.t2, t4: sip.timers.t4 }, maxTransactions: sip.maxTransactions },
    filter: defence,
  });
  teardown.add('transactions', () => stack.transactions.close());

  const reg = config.registrar;
  // Bindings are written on a connection of their own with synchronous=NORMAL (no fsync per
  // REGISTER; gateway/registrar/persistence.ts). Closed after the registrar's stop has flushed them.
  const bindingStore = SqliteRegistrationStore.open(config.dataDir);
  teardown.add('binding store', () => bindingStore.close());
  const registrar = new Registrar({
    core: stack.core,
    transport,
    store,
    bindingStore,
    users,
    domain: sip.domain,
    realm: sip.realm,
    listenAddresses: sip.hosts,
    limits: { minExpires: reg.minExpires, maxExpires: reg.maxExpires, defaultExpires: reg.defaultExpires, maxContacts: reg.maxContacts },
    requireTls: reg.requireTls,
    md5OnlyUserAgents: reg.md5OnlyUserAgents,
    requireClientCert: config.tls.requireClientCert,
    // RFC 5626 §4.4.1: keep-alives well inside the idle timeout (120 s is its recommendation).
    flowTimerSec: Math.max(5, Math.min(120, Math.floor(sip.idleTimeoutSec / 2))),
    defence,
    log: log.child({ component: 'registrar' }),
    sweepIntervalMs: reg.sweepIntervalSec * 1000,
  });
  await registrar.start();
  teardown.add('registrar', () => registrar.stop());

  // Periodic encrypted backups with retention (ops.backup.*; idle when intervalHours is 0).
  const backups = new BackupScheduler({ config, log: log.child({ component: 'backup' }) });
  backups.start();
  teardown.add('backups', () => backups.stop());

  const messaging = startMessaging(config.dataDir, {
    core: stack.core, transactions: stack.transactions, registrar, users, masterKey, domain: sip.domain,
    listenAddresses: sip.hosts, requireTls: reg.requireTls, log: log.child({ component: 'messaging' }), limits: config.messaging,
  }, audit);
  teardown.add('messaging', () => messaging.service.stop());

  const cdrs = openCdrs(config.dataDir, config.cdr, { log: log.child({ component: 'cdr' }) });
  teardown.add('cdrs', () => cdrs.close());
  const media = new EmbeddedMediaEngine({ media: config.media, logger: log.child({ component: 'media' }) });
  teardown.add('media', () => media.close());
  const srtp = srtpBackend();
  if (srtp === 'native') log.info('media: SRTP on the native path (node\'s OpenSSL)');
  else log.warn('media: SRTP on the TypeScript path (slower)', { reason: nativeFault() });

  const trunks = await TrunkManager.create({
    trunks: config.trunks, transactions: stack.transactions, listening: transport.addresses(), numbering: config.routing,
    realm: sip.realm, userAgent: PRODUCT, log: log.child({ component: 'trunks' }),
  });
  trunks.start();
  // Stopped after the calls (their BYEs may go to a trunk) and before the transaction layer (un-REGISTERs).
  teardown.add('trunks', () => trunks.stop());
  const router = new Router({ config: config.routing, users, registrar, trunks, log: log.child({ component: 'routing' }) });

  const b2bua = new B2bua({
    core: stack.core, transactions: stack.transactions, registrar, users, router, trunks, engine: media, cdr: cdrs.sink,
    settings: config.calls, domain: sip.domain, product: PRODUCT, log: log.child({ component: 'b2bua' }),
  });
  b2bua.start();
  // Calls end with BYE/CANCEL while the transaction layer, the trunks and the media are still up.
  teardown.add('b2bua', () => b2bua.stop());

  const metrics = createGatewayMetrics({ stack, transport, registrar, defence, messaging: messaging.service, trunks, b2bua, media });
  teardown.add('metrics', () => metrics.dispose());
  const lifecycle = new ServiceLifecycle({ transport, store, b2bua, log: log.child({ component: 'service' }) });
  const admin = await startAdminApi({
    config, log, tls, store, masterKey, users, audit, registrar, messaging: messaging.admin,
    extraRoutes: serviceRoutes(metrics, lifecycle),
  });
  // Closed first: no account change may arrive while the rest shuts down.
  teardown.add('admin', () => admin.close());

  const listening = transport.addresses().map((a) => {
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `sip ${a.protocol.toLowerCase()} ${host}:${a.port}`;
  });

  return {
    listening: [...listening, admin.listening],
    notices: admin.notices,
    stack,
    transport,
    store,
    users,
    registrar,
    bindingStore,
    defence,
    audit,
    admin,
    messaging: messaging.service,
    trunks,
    router,
    cdrs,
    media,
    b2bua,
    metrics,
    lifecycle,
    drain: () => lifecycle.drain(config.service.drainSec * 1000),
    stop: () => teardown.run(),
  };
}
