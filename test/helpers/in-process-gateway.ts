/**
 * The real gateway started in this process on loopback with ephemeral ports and a temporary data
 * directory, for tests that need its parts (stack, transport) as well as its sockets.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/load';
import type { Config } from '../../config/schema';
import { nullLogger } from '../../gateway/log/logger';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { ensureCertificate, type TlsMaterial } from '../../gateway/tls/certificate';

export interface TestGateway {
  gw: RunningGateway;
  config: Config;
  tls: TlsMaterial;
  dataDir: string;
  port(protocol: 'UDP' | 'TCP' | 'TLS'): number;
  stop(): Promise<void>;
}

export async function startTestGateway(set: string[] = [], dataDir?: string): Promise<TestGateway> {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cg-inproc-'));
  const config = loadConfig({
    env: {},
    set: [
      `dataDir=${dir}`, 'sip.host=127.0.0.1', 'sip.udpPort=0', 'sip.tcpPort=0', 'sip.tlsPort=0', 'admin.port=0',
      ...set,
    ],
  });
  const tls = await ensureCertificate(config, nullLogger);
  const gw = await startGateway(config, nullLogger, tls);
  return {
    gw,
    config,
    tls,
    dataDir: dir,
    port(protocol) {
      const a = gw.transport.addresses().find((x) => x.protocol === protocol);
      if (!a) throw new Error(`no ${protocol} listener`);
      return a.port;
    },
    async stop() {
      await gw.stop();
      if (!dataDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
