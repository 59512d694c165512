/**
 * The floor of the media benchmarks as a backend (bench/floor/relay.c): a C relay that only moves
 * datagrams between the two sockets of a pair, latched to where each last heard from. It does less
 * than any engine can (no parsing, no SRTP, no checks), so what it achieves on a load is the most
 * the machine allows on that load with the generator sharing it: if even the floor misses a latency
 * target, the target is out of reach of every user-space relay on this machine.
 * Used by `media-bridge --calls=N --floor`, in opaque mode (it cannot terminate SRTP).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Backend } from './media-bridge';
import { compileC } from './loadgen-native';
import { processCpuMicros } from './threads';
import { underPriority, type RelayPriority } from './priority';

const SOURCE = path.join(__dirname, '..', '..', 'bench', 'floor', 'relay.c');
const BINARY = path.join(__dirname, 'floor', 'relay');

/** Rewrites the port of the first m= line of `sdp` (the benchmark's SDPs have one, c= on 127.0.0.1). */
function withPort(sdp: string, port: number): string {
  return sdp.replace(/^m=(\S+) \d+ /m, `m=$1 ${port} `);
}

export class FloorRelay implements Backend {
  readonly name = 'floor';
  private readonly lines: Interface;
  private readonly waiting: ((line: string) => void)[] = [];
  /** Per call: [port A sends to, port B sends to]. */
  private readonly pairs = new Map<string, [number, number]>();

  private constructor(private readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! });
    this.lines.on('line', (l) => this.waiting.shift()?.(l));
  }

  /**
   * Builds (when needed) and starts the relay with `threads` threads, under the same scheduler terms
   * as the engines it is compared with (bench/priority.ts: nice(1) or chrt(1), which exec, so the
   * pid is the relay's, and its threads inherit them).
   */
  static start(threads: number, priority: RelayPriority = {}): FloorRelay {
    const binary = compileC(SOURCE, BINARY);
    const argv = underPriority(priority, [binary, String(threads)]);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    return new FloorRelay(child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The main thread only reads stdin. */
  get skipTid(): number {
    return this.pid;
  }

  cpuMicros(): number {
    return processCpuMicros(this.pid);
  }

  private pair(): Promise<[number, number]> {
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const m = /^(\d+) (\d+)$/.exec(line);
        if (m) resolve([Number(m[1]), Number(m[2])]);
        else reject(new Error(`floor relay: ${line}`));
      });
      this.child.stdin!.write('pair\n');
    });
  }

  /** The offer goes to B: B sends to the pair's second socket. */
  async offer(callId: string, sdp: string): Promise<string> {
    const ports = await this.pair();
    this.pairs.set(callId, ports);
    return withPort(sdp, ports[1]);
  }

  /** The answer goes to A: A sends to the pair's first socket. */
  answer(callId: string, sdp: string): Promise<string> {
    const ports = this.pairs.get(callId);
    if (ports === undefined) return Promise.reject(new Error(`floor relay: no offer for ${callId}`));
    return Promise.resolve(withPort(sdp, ports[0]));
  }

  delete(callId: string): Promise<void> {
    this.pairs.delete(callId);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.lines.close();
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
  }
}
