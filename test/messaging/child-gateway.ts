/**
 * The real gateway (`ciphergate start`) as a child process on a data directory the caller owns,
 * so it can be killed (SIGKILL: no shutdown code runs) and started again on the same files. Users
 * are provisioned before the first start. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI } from '../helpers/gateway-process';

export interface ChildGateway {
  readonly child: ChildProcess;
  readonly tlsPort: number;
  /** PEM of the gateway's certificate (<dataDir>/tls/cert.pem). */
  readonly ca: Buffer;
  output(): string;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (orderly shutdown), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export async function startChildGateway(dataDir: string, set: readonly string[] = [], timeoutMs = 20_000): Promise<ChildGateway> {
  // CIPHERGATE_CHILD_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the child.
  const nodeArgs = (process.env.CIPHERGATE_CHILD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const args = [
    ...nodeArgs, CLI, 'start',
    '--set', `dataDir=${dataDir}`, '--set', 'sip.host=127.0.0.1',
    '--set', 'sip.udpPort=0', '--set', 'sip.tcpPort=0', '--set', 'sip.tlsPort=0', '--set', 'admin.port=0',
    '--set', 'log.level=warn',
    ...set.flatMap((s) => ['--set', s]),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
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
  const m = /sip tls \S+:(\d+)/.exec(out);
  if (m === null) throw new Error(`no TLS listen line in:\n${out}`);
  const done = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const hard = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    if (hard !== undefined) clearTimeout(hard);
  };
  return {
    child,
    tlsPort: Number(m[1]),
    ca: fs.readFileSync(path.join(dataDir, 'tls', 'cert.pem')),
    output: () => out,
    kill: () => done('SIGKILL'),
    stop: () => done('SIGTERM'),
  };
}
