/**
 * An in-process registrar on loopback for the registrar and security tests: the real transport
 * layer (UDP/TCP/TLS, ephemeral ports), SIP stack with the Defence filter, accounts store and
 * UserService in a temporary data directory, and the Registrar with a controllable clock.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserService } from '../../gateway/admin/users';
import { nullLogger } from '../../gateway/log/logger';
import { Registrar, type RegistrarLimits } from '../../gateway/registrar';
import { Defence, type DefenceOptions } from '../../gateway/security';
import { SipStack } from '../../gateway/sip/stack';
import { TransportLayer } from '../../gateway/sip/transport/transport-layer';
import { openAccountStore, type MasterKey, type SqliteStore } from '../../gateway/store';
import { generateSelfSigned } from '../../gateway/tls/certificate';

export const REALM = 'ciphergate.test';
export const DOMAIN = 'ciphergate.test';
export const PASSWORDS: Readonly<Record<string, string>> = { alice: 'Tr0ub4dor&3x!', bob: 'correct-Horse-7-battery' };

export interface HarnessOptions {
  dataDir?: string;
  limits?: Partial<RegistrarLimits>;
  requireTls?: boolean;
  requireClientCert?: boolean;
  /** Device CA for mutual TLS (PEM). */
  clientCa?: string;
  defence?: Omit<DefenceOptions, 'now' | 'closeFlow'>;
}

export interface Harness {
  dataDir: string;
  store: SqliteStore;
  users: UserService;
  transport: TransportLayer;
  stack: SipStack;
  registrar: Registrar;
  defence: Defence;
  /** Registrar and Defence clock (ms); advance it to expire bindings and locks. */
  clock: { now: number };
  ports: { UDP: number; TCP: number; TLS: number };
  /** The server certificate, to verify it. */
  ca: string;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

let serverPems: Promise<{ cert: string; key: string }> | undefined;

export async function openHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cg-registrar-'));
  const opened = await openAccountStore(dataDir);
  const store = opened.store;
  const masterKey: MasterKey = opened.masterKey;
  const clock = { now: Date.now() };
  const users = new UserService({ store, masterKey, realm: REALM });
  for (const [name, password] of Object.entries(PASSWORDS)) {
    if ((await users.get(name)) === undefined) await users.add(name, { password });
  }
  serverPems ??= generateSelfSigned('localhost');
  const pems = await serverPems;
  const transport = await TransportLayer.listen({
    hosts: ['127.0.0.1'],
    udpPort: 0,
    tcpPort: 0,
    tlsPort: 0,
    tls: {
      cert: pems.cert,
      key: pems.key,
      ...(opts.clientCa !== undefined && { ca: opts.clientCa, requestClientCert: true, rejectUnauthorizedClients: true }),
    },
  });
  const defence = new Defence({ ...opts.defence, now: () => clock.now, closeFlow: (id) => transport.closeFlow(id) });
  const stack = new SipStack(transport, { log: nullLogger, product: 'Ciphergate/test', filter: defence });
  const registrar = new Registrar({
    core: stack.core,
    transport,
    store,
    users,
    domain: DOMAIN,
    realm: REALM,
    listenAddresses: ['127.0.0.1'],
    ...(opts.limits !== undefined && { limits: opts.limits }),
    requireTls: opts.requireTls ?? true,
    requireClientCert: opts.requireClientCert ?? false,
    flowTimerSec: 60,
    md5OnlyUserAgents: ['baresip v0.', 'baresip v1.'],
    defence,
    log: nullLogger,
    now: () => clock.now,
  });
  await registrar.start();
  const port = (p: 'UDP' | 'TCP' | 'TLS'): number => transport.addresses().find((a) => a.protocol === p)?.port ?? 0;
  return {
    dataDir, store, users, transport, stack, registrar, defence, clock,
    ports: { UDP: port('UDP'), TCP: port('TCP'), TLS: port('TLS') },
    ca: pems.cert,
    async close(o = {}) {
      stack.transactions.close();
      await transport.close();
      await registrar.stop();
      defence.stop();
      users.dispose();
      await store.close();
      masterKey.dispose();
      if (!o.keepData) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 5 ms until it holds; rejects after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
