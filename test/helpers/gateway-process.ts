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

/** Node flags from an environment variable (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway). */
export function nodeArgsFrom(variable: string): string[] {
  return (process.env[variable] ?? '').split(' ').filter((a) => a !== '');
}

/** `ciphergate start` on `dataDir` with every SIP listener and the admin API on an ephemeral port of `host`. */
export function startArgs(dataDir: string, host: string): string[] {
  return [
    CLI, 'start',
    '--set', `dataDir=${dataDir}`,
    '--set', `sip.host=${host}`,
    '--set', 'sip.udpPort=0', '--set', 'sip.tcpPort=0', '--set', 'sip.tlsPort=0',
    '--set', 'admin.port=0',
    '--set', 'log.level=warn',
  ];
}

/**
 * Runs node with `args` and resolves once the gateway printed "Ciphergate ready"; rejects with
 * what it printed when it exits first or is not ready within `timeoutMs`.
 */
export async function spawnUntilReady(args: readonly string[], timeoutMs: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway not ready within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = (): void => {
      if (!out.includes('Ciphergate ready')) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before ready:\n${out}`));
    });
  });
  return { child, output: () => out };
}

export async function startGateway(extra: string[] = [], opts: { host?: string; timeoutMs?: number } = {}): Promise<GatewayProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-gw-'));
  // CIPHERGATE_GW_NODE_ARGS: extra node flags for the gateway process (e.g. --cpu-prof when profiling a benchmark).
  const args = [...nodeArgsFrom('CIPHERGATE_GW_NODE_ARGS'), ...startArgs(dataDir, opts.host ?? '127.0.0.1'), ...extra];
  const { child, output } = await spawnUntilReady(args, opts.timeoutMs ?? 20000);
  const out = output();

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
    output,
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
