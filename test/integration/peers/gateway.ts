/**
 * The real gateway (gateway/server.ts startGateway) in this process on a fixed TLS port, so that
 * a peer configured with that port finds it again after a restart on the same data directory.
 * Users are provisioned through UserService on the data directory before the first start.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../config/load';
import type { Config } from '../../../config/schema';
import { UserService } from '../../../gateway/admin/users';
import { nullLogger } from '../../../gateway/log/logger';
import { startGateway, type RunningGateway } from '../../../gateway/server';
import { openAccountStore } from '../../../gateway/store';
import { ensureCertificate, type TlsMaterial } from '../../../gateway/tls/certificate';
import { freePort } from './ports';

export interface PeerGateway {
  readonly dataDir: string;
  readonly tlsPort: number;
  readonly config: Config;
  gw: RunningGateway;
  tls: TlsMaterial;
  /** PEM of the gateway certificate (clients that verify use it as their root). */
  certPem(): string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Creates the accounts in a fresh data directory (before the gateway opens it). */
export async function provision(dataDir: string, realm: string, users: Record<string, string>): Promise<void> {
  const { store, masterKey } = await openAccountStore(dataDir);
  const service = new UserService({ store, masterKey, realm });
  try {
    for (const [name, password] of Object.entries(users)) await service.add(name, { password });
  } finally {
    service.dispose();
    await store.close();
    masterKey.dispose();
  }
}

export async function startPeerGateway(users: Record<string, string>, set: string[] = []): Promise<PeerGateway> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-peers-'));
  const tlsPort = await freePort();
  const config = loadConfig({
    env: {},
    set: [
      `dataDir=${dataDir}`, 'sip.host=127.0.0.1', 'sip.udpPort=0', 'sip.tcpPort=0', `sip.tlsPort=${tlsPort}`,
      'admin.port=0', 'sip.domain=127.0.0.1', ...set,
    ],
  });
  await provision(dataDir, config.sip.realm, users);
  const tls = await ensureCertificate(config, nullLogger);
  const pg: PeerGateway = {
    dataDir,
    tlsPort,
    config,
    tls,
    gw: await startGateway(config, nullLogger, tls),
    certPem: () => tls.cert.toString(),
    async restart() {
      await pg.gw.stop();
      pg.gw = await startGateway(config, nullLogger, tls);
    },
    async stop() {
      await pg.gw.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return pg;
}
