/**
 * The C load generator (bench/loadgen/loadgen.c): compiled on demand with the system's cc, libc
 * only, cached as dist/bench/loadgen/loadgen and rebuilt only when the source is newer; then driven
 * over its stdin/stdout, one text line each way per run (the protocol is described in loadgen.c).
 * It knows nothing of SRTP: a Node child (bench/media-loadgen.ts --prepare) prepares the packets
 * before each run and verifies the engine's after it, so that neither counts as the engine's CPU
 * when the engine runs in the benchmark's own process.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { LoadResult, LoadSpec } from './media-loadgen';

/** The .c is not copied by tsc: from dist/bench/ back to the source tree. */
const SOURCE = path.join(__dirname, '..', '..', 'bench', 'loadgen', 'loadgen.c');
const BINARY = path.join(__dirname, 'loadgen', 'loadgen');
/** A cold build takes well under a second; this only stops a hung compiler. */
const BUILD_TIMEOUT_MS = 60_000;
/** The first-packet file's slot size (SLOT in loadgen.c): uint16 LE length, then the packet. */
export const NATIVE_SLOT = 256;

/** One run, as loadgen.c's `run` command takes it; the files are in `dir`. */
export interface NativeJob {
  readonly dir: string;
  readonly run: number;
  readonly calls: number;
  readonly frames: number;
  readonly firstMeasured: number;
  readonly aSize: number;
  readonly bSize: number;
  /** Write the first measured B→A packet of each call to dir/first.bin. */
  readonly verify: boolean;
}

/** What loadgen.c prints after a run (times in ms). */
export interface NativeResult {
  readonly sent: number;
  readonly received: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly sendLagMs: number;
  readonly cpuMs: number;
  readonly sendErrors: number;
  readonly abandoned: number;
  readonly firstSaved: number;
  /** Packets that came without a kernel timestamp (timed when read instead); expected 0. */
  readonly userStamps: number;
  /** Context switches of the generator during the run (its wake-ups, mostly). */
  readonly switches: number;
}

/** The binary, built first when missing or older than its source; throws with the compiler's message on failure. */
export function buildNative(): string {
  return compileC(SOURCE, BINARY);
}

/**
 * `source` compiled with the system's cc into `binary` (libc and pthreads only), unless `binary`
 * is already newer than `source`; throws with the compiler's last lines on failure.
 */
export function compileC(source: string, binary: string): string {
  const sourceTime = fs.statSync(source).mtimeMs;
  try {
    if (fs.statSync(binary).mtimeMs >= sourceTime) return binary;
  } catch {
    // not built yet
  }
  fs.mkdirSync(path.dirname(binary), { recursive: true });
  const tmp = `${binary}.${process.pid}.tmp`;
  const cc = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-pthread', '-o', tmp, source], { encoding: 'utf8', timeout: BUILD_TIMEOUT_MS });
  if (cc.error || cc.status !== 0) {
    fs.rmSync(tmp, { force: true });
    const why = cc.error ? cc.error.message : (cc.stderr || `exit ${cc.status}`).trim().split('\n').slice(-3).join(' | ');
    throw new Error(`cannot compile ${source}: ${why}`);
  }
  if (cc.stderr.trim()) console.error(cc.stderr.trim());
  fs.renameSync(tmp, binary); // atomic: a concurrent build never runs a half-written file
  return binary;
}

/** Messages to and from the packet preparer child. */
export type PreparerRequest = { type: 'prepare'; spec: LoadSpec } | { type: 'finish' } | { type: 'exit' };
export type PreparerReply =
  | { type: 'ready' }
  | { type: 'prepared'; job: NativeJob }
  | { type: 'finished'; verifyFailures: number }
  | { type: 'failed'; error: string };

/** The C generator with its packet preparer: LoadGenerator's driver when cc is there. */
export class NativeLoadGenerator {
  readonly kind = 'c';
  private warned = false;

  private constructor(
    private readonly native: NativeGenerator,
    private readonly preparer: ChildProcess,
  ) {}

  /** `preparerScript`: bench/media-loadgen.js, forked with --prepare; `rtPriority`: the C program at SCHED_FIFO (BENCH_LOADGEN_RT). */
  static async start(binary: string, preparerScript: string, rtPriority?: number): Promise<NativeLoadGenerator> {
    const preparer = fork(preparerScript, ['--prepare'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      await request(preparer, undefined, 'ready');
      return new NativeLoadGenerator(await NativeGenerator.start(binary, rtPriority), preparer);
    } catch (e) {
      preparer.kill('SIGKILL');
      throw e;
    }
  }

  get aPorts(): readonly number[] {
    return this.native.aPorts;
  }

  get bPorts(): readonly number[] {
    return this.native.bPorts;
  }

  get pid(): number {
    return this.native.pid;
  }

  async run(spec: LoadSpec): Promise<LoadResult> {
    const { job } = await request(this.preparer, { type: 'prepare', spec }, 'prepared');
    let r: NativeResult;
    try {
      r = await this.native.run(job);
    } catch (e) {
      await request(this.preparer, { type: 'finish' }, 'finished').catch(() => undefined); // removes the files
      throw e;
    }
    // Verifies the B → A packets C saved, and removes the files.
    const { verifyFailures } = await request(this.preparer, { type: 'finish' }, 'finished');
    if (r.userStamps > 0 && !this.warned) {
      this.warned = true;
      console.error(`media-loadgen: ${r.userStamps} packets without a kernel timestamp (timed when read)`);
    }
    return {
      calls: spec.calls.length,
      sent: r.sent,
      received: r.received,
      lost: r.sent - r.received,
      p50: r.p50,
      p99: r.p99,
      max: r.max,
      sendLagMs: r.sendLagMs,
      generatorBound: r.sendLagMs > 100 || r.sendErrors > 0 || r.abandoned > 0,
      verifyFailures,
      generator: 'c',
      generatorCpuMs: r.cpuMs,
      sendErrors: r.sendErrors,
    };
  }

  close(): void {
    this.native.close();
    if (this.preparer.connected) this.preparer.send({ type: 'exit' } satisfies PreparerRequest);
    setTimeout(() => this.preparer.kill('SIGKILL'), 2000).unref();
  }
}

/** Sends `msg` (if any) and waits for the reply of type `want`; 'failed' or an exit rejects. */
function request<T extends PreparerReply['type']>(
  proc: ChildProcess,
  msg: PreparerRequest | undefined,
  want: T,
): Promise<Extract<PreparerReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      proc.off('message', onMessage);
      proc.off('exit', onExit);
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`load generator's packet preparer exited (${code})`));
    };
    const onMessage = (m: PreparerReply): void => {
      if (m.type !== want && m.type !== 'failed') return;
      done();
      if (m.type === 'failed') reject(new Error(`load generator's packet preparer: ${m.error}`));
      else resolve(m as Extract<PreparerReply, { type: T }>);
    };
    proc.on('message', onMessage);
    proc.once('exit', onExit);
    if (msg) proc.send(msg);
  });
}

/** The running C generator: its 64 + 64 sockets' ports, and one run at a time. */
export class NativeGenerator {
  private readonly lines: string[] = [];
  private waiter: ((line: string | undefined) => void) | undefined;
  private exited = false;
  readonly aPorts: number[] = [];
  readonly bPorts: number[] = [];

  private constructor(private readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on('line', (line) => this.push(line));
    // 'close', not 'exit': its last line may still be in the pipe at 'exit'.
    const gone = (): void => {
      this.exited = true;
      this.push(undefined);
    };
    proc.once('close', gone);
    proc.once('error', gone); // could not start
    proc.stdin!.on('error', () => undefined); // EPIPE after it died: 'close' reports that
  }

  static async start(binary: string, rtPriority?: number): Promise<NativeGenerator> {
    const env = rtPriority === undefined ? process.env : { ...process.env, BENCH_LOADGEN_RT: String(rtPriority) };
    const g = new NativeGenerator(spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'], env }));
    const ready = parse(await g.next()) as { aPorts?: unknown; bPorts?: unknown };
    const ports = (x: unknown): number[] | undefined =>
      Array.isArray(x) && x.length === 64 && x.every((p) => Number.isInteger(p) && p > 0 && p < 65536) ? (x as number[]) : undefined;
    const a = ports(ready.aPorts);
    const b = ports(ready.bPorts);
    if (!a || !b) {
      g.close();
      throw new Error('C load generator: no ports');
    }
    g.aPorts.push(...a);
    g.bPorts.push(...b);
    return g;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  async run(job: NativeJob): Promise<NativeResult> {
    if (this.exited) throw new Error('C load generator has exited');
    if (/[\r\n]/.test(job.dir) || !path.isAbsolute(job.dir)) throw new RangeError('bad job directory');
    const v = job.verify ? 1 : 0;
    this.proc.stdin!.write(`run ${job.run} ${job.calls} ${job.frames} ${job.firstMeasured} ${job.aSize} ${job.bSize} ${v} ${job.dir}\n`);
    return parse(await this.next()) as unknown as NativeResult;
  }

  /** EOF on its stdin ends it; SIGKILL if it has not gone 2 s later. */
  close(): void {
    this.proc.stdin!.end();
    setTimeout(() => {
      if (!this.exited) this.proc.kill('SIGKILL');
    }, 2000).unref();
  }

  private push(line: string | undefined): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(line);
    } else if (line !== undefined) this.lines.push(line);
  }

  private next(): Promise<string | undefined> {
    const line = this.lines.shift();
    if (line !== undefined || this.exited) return Promise.resolve(line);
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

/** One JSON line from loadgen.c; its {"error":...} lines and its exit become exceptions. */
function parse(line: string | undefined): Record<string, unknown> {
  if (line === undefined) throw new Error('C load generator exited');
  const o = JSON.parse(line) as Record<string, unknown>;
  if (typeof o.error === 'string') throw new Error(`C load generator: ${o.error}`);
  return o;
}
