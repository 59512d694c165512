/**
 * Starts the real gateway (`ciphergate start`) as a child process on loopback with ephemeral ports,
 * waits for "Ciphergate ready" and reads back the addresses it printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = findRepoRoot(__dirname);
export const CLI = path.join(REPO_ROOT, 'dist', 'gateway', 'cli.js');

function findRepoRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + from);
    dir = up;
  }
  return dir;
}

export interface Listen {
  address: string;
  port: number;
}

export interface GatewayProcess {
  child: ChildProcess;
  dataDir: string;
  udp: Listen;
  tcp: Listen;
  tls: Listen;
  output: () => string;
  stop(): Promise<number | null>;
}

export async function startGateway(extra: string[] = [], opts: { host?: string; timeoutMs?: number } = {}): Promise<GatewayProcess> {
  const host = opts.host ?? '127.0.0.1';
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-gw-'));
  const args = [
    CLI, 'start',
    '--set', `dataDir=${dataDir}`,
    '--set', `sip.host=${host}`,
    '--set', 'sip.udpPort=0', '--set', 'sip.tcpPort=0', '--set', 'sip.tlsPort=0',
    '--set', 'admin.port=0',
    '--set', 'log.level=warn',
    ...extra,
  ];
  // CIPHERGATE_GW_NODE_ARGS: extra node flags for the gateway process (e.g. --cpu-prof when profiling a benchmark).
  const nodeArgs = (process.env.CIPHERGATE_GW_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gateway did not become ready:\n' + out)), opts.timeoutMs ?? 20000);
    const check = (): void => {
      if (out.includes('Ciphergate ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before ready:\n${out}`));
    });
  });

  const find = (proto: string): Listen => {
    const m = new RegExp(`sip ${proto} (\\S+):(\\d+)`).exec(out);
    if (!m) throw new Error(`no ${proto} listen line in:\n${out}`);
    return { address: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  };

  return {
    child,
    dataDir,
    udp: find('udp'),
    tcp: find('tcp'),
    tls: find('tls'),
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        const kill = setTimeout(() => child.kill('SIGKILL'), 10000);
        child.once('exit', (code) => {
          clearTimeout(kill);
          fs.rmSync(dataDir, { recursive: true, force: true });
          resolve(code);
        });
        child.kill('SIGTERM');
      }),
  };
}
