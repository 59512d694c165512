/**
 * The real gateway (`ciphergate start`) as a child process on a data directory the caller owns,
 * so it can be killed (SIGKILL: no shutdown code runs) and started again on the same files. Users
 * are provisioned before the first start. Every wait is bounded.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nodeArgsFrom, spawnUntilReady, startArgs } from '../helpers/gateway-process';

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
  const args = [...nodeArgsFrom('CIPHERGATE_CHILD_NODE_ARGS'), ...startArgs(dataDir, '127.0.0.1'), ...set.flatMap((s) => ['--set', s])];
  const { child, output } = await spawnUntilReady(args, timeoutMs);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const m = /sip tls \S+:(\d+)/.exec(output());
  if (m === null) throw new Error(`no TLS listen line in:\n${output()}`);
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
    output,
    kill: () => done('SIGKILL'),
    stop: () => done('SIGTERM'),
  };
}
