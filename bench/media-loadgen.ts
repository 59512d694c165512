/**
 * The load generator of the media benchmarks, run in ANOTHER process so that it never shares an
 * event loop with the engine under test. It plays both endpoints of N calls at 20 ms ptime: side A
 * sends SRTP (srtp mode; packets pre-protected before the clock starts, with the key A offered) or
 * opaque SRTP-looking datagrams (opaque mode); side B sends RTP. Sends are spread evenly over each
 * 20 ms period. Every packet carries its frame number as sequence number and a per-call,
 * per-direction SSRC, both in clear (RFC 3711 §3.1), so that the receiving side knows which send
 * it is without decrypting: latency = receive time − send time, loss = sent − received.
 *
 * Two generators, same packets, same schedule, same figures:
 *   - 'c' (the default when `cc` builds bench/loadgen/loadgen.c; bench/loadgen-native.ts): sends
 *     with sendmmsg and times arrivals with the kernel's receive timestamps, so its own lag does
 *     not count as engine latency; a second Node child (`--prepare`, below) builds the packets
 *     and verifies the engine's SRTP, outside the engine's process and its CPU account;
 *   - 'node' (the fallback, or BENCH_LOADGEN=node): one Node child (`--loadgen`) does it all,
 *     timing arrivals when its event loop gets to them.
 * BENCH_LOADGEN=c makes a C build failure an error instead of a fallback.
 */
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SrtpContext } from '../media/srtp';
import { buildNative, NATIVE_SLOT, NativeLoadGenerator, type NativeJob, type PreparerReply, type PreparerRequest } from './loadgen-native';

export interface LoadCall {
  /** Index of the generator's A / B socket this call's endpoint uses (its SDP port). */
  readonly aSock: number;
  readonly bSock: number;
  /** The engine's port for each leg. */
  readonly aDst: number;
  readonly bDst: number;
  /** srtp mode: A's key (what it offered) and the engine's key for A (to verify its packets), base64 key||salt. */
  readonly aKey?: string;
  readonly engineKey?: string;
}

export interface LoadSpec {
  readonly mode: 'srtp' | 'opaque';
  readonly calls: readonly LoadCall[];
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface LoadResult {
  readonly calls: number;
  /** Packets sent / received in the measured window, both directions together. */
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  /** One-way latency through the engine (generator → engine → generator), milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** How late the generator itself sent, worst case (ms). */
  readonly sendLagMs: number;
  /**
   * The generator could not keep its own schedule (lag over 100 ms, or sends the kernel refused):
   * the run measured the generator, not the engine.
   */
  readonly generatorBound: boolean;
  /** srtp mode: packets from the engine that did not authenticate with its key (must be 0). */
  readonly verifyFailures: number;
  /** Which generator ran ('c': kernel receive timestamps; 'node': event-loop receive times). */
  readonly generator: 'c' | 'node';
  /** CPU the generator process used from the start of the schedule to the end of the drain, ms. */
  readonly generatorCpuMs: number;
  /** Sends the kernel refused (not counted in `sent`); always 0 from the Node generator. */
  readonly sendErrors: number;
}

/** Many sockets per side: each has its own kernel receive buffer, so a stall of the generator itself does not lose packets. */
export const SOCKETS_PER_SIDE = 64;
const PTIME = 20;
const RING = 64;
const CHUNK = 128;
const PROFILE = 'AES_CM_128_HMAC_SHA1_80';
const BUCKET_US = 10;
const BUCKETS = 200_000; // 2 s
/** The frame number is the 16-bit RTP sequence number (RFC 3550 §5.1): at most 65,536 frames (21 min). */
const MAX_FRAMES = 1 << 16;
/** Bytes per slab, whichever generator sends it. */
const MAX_SLAB = 2 ** 31;

// ---------------------------------------------------------------------------------------------------
// Packets (both generators)
// ---------------------------------------------------------------------------------------------------

/**
 * SSRC layout: direction (1 = A→B, 2 = B→A) in bits 31–28, the run number in bits 27–20 (late
 * packets of an earlier, overloaded run are not counted), the call index in bits 19–0.
 */
const ssrcOf = (dir: 1 | 2, run: number, call: number): number => ((dir << 28) | ((run & 0xff) << 20) | call) >>> 0;

function key(b64: string): SrtpContext {
  const k = Buffer.from(b64, 'base64');
  return new SrtpContext({ profile: PROFILE, masterKey: k.subarray(0, 16), masterSalt: k.subarray(16, 30), maxStreams: 4 });
}

function header(buf: Buffer, at: number, seq: number, ssrc: number): void {
  buf[at] = 0x80;
  buf[at + 1] = 0;
  buf.writeUInt16BE(seq, at + 2);
  buf.writeUInt32BE((seq * 160) >>> 0, at + 4);
  buf.writeUInt32BE(ssrc >>> 0, at + 8);
}

interface Packets {
  readonly frames: number;
  readonly firstMeasured: number;
  /** A → engine, and B → engine: call i, frame f at (i·frames + f)·size. */
  readonly slab: Buffer;
  readonly size: number;
  readonly bSlab: Buffer;
  readonly bSize: number;
}

/** Every packet of a run, prepared before the clock starts (SRTP is the generator's cost, not the engine's). */
function buildPackets(spec: LoadSpec, run: number): Packets {
  const n = spec.calls.length;
  if (n >= 1 << 20) throw new RangeError('too many calls');
  const frames = Math.ceil((spec.warmupMs + spec.durationMs) / PTIME);
  const firstMeasured = Math.ceil(spec.warmupMs / PTIME);
  if (!(frames >= 1 && frames <= MAX_FRAMES && firstMeasured < frames)) throw new RangeError('bad run length');
  const size = 12 + 160 + 10; // A → engine: SRTP with an 80-bit tag, or opaque of the same size
  const bSize = spec.mode === 'srtp' ? 12 + 160 : size;
  if (n * frames * size > MAX_SLAB) throw new RangeError('run too large');
  const payload = Buffer.alloc(160, 0xd5);
  const slab = Buffer.allocUnsafe(n * frames * size);
  const bSlab = Buffer.allocUnsafe(n * frames * bSize);
  spec.calls.forEach((c, i) => {
    const tx = spec.mode === 'srtp' ? key(c.aKey!) : undefined;
    const plain = Buffer.alloc(172);
    payload.copy(plain, 12);
    for (let f = 0; f < frames; f++) {
      const at = (i * frames + f) * size;
      if (tx) {
        header(plain, 0, f, ssrcOf(1, run, i));
        tx.protectRtp(plain).copy(slab, at);
      } else {
        header(slab, at, f, ssrcOf(1, run, i));
        slab.fill(0xa5, at + 12, at + size); // opaque: what an SRTP payload and tag look like
      }
      const bAt = (i * frames + f) * bSize;
      header(bSlab, bAt, f, ssrcOf(2, run, i));
      if (spec.mode === 'srtp') payload.copy(bSlab, bAt + 12);
      else bSlab.fill(0x5a, bAt + 12, bAt + bSize);
    }
    tx?.close();
  });
  return { frames, firstMeasured, slab, size, bSlab, bSize };
}

/** srtp mode: the engine's key per call, to authenticate its B → A packets. */
const verifiers = (spec: LoadSpec): (SrtpContext | undefined)[] =>
  spec.calls.map((c) => (spec.mode === 'srtp' && c.engineKey ? key(c.engineKey) : undefined));

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return Math.round((u.user + u.system) / 100) / 10;
};

// ---------------------------------------------------------------------------------------------------
// Node generator child (`--loadgen`)
// ---------------------------------------------------------------------------------------------------

type LoadMsg = { type: 'load'; spec: LoadSpec } | { type: 'exit' };
let runs = 0;

async function nodeChild(): Promise<void> {
  const bind = async (): Promise<dgram.Socket> => {
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    return s;
  };
  const a: dgram.Socket[] = [];
  const b: dgram.Socket[] = [];
  for (let i = 0; i < SOCKETS_PER_SIDE; i++) {
    a.push(await bind());
    b.push(await bind());
  }
  process.send!({ type: 'ready', aPorts: a.map((s) => s.address().port), bPorts: b.map((s) => s.address().port) });
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: LoadMsg) => {
    if (m.type === 'exit') process.exit(0);
    if (m.type === 'load') {
      runLoad(m.spec, a, b).then(
        (result) => process.send!({ type: 'result', result }),
        (e: unknown) => process.send!({ type: 'failed', error: e instanceof Error ? e.message : String(e) }),
      );
    }
  });
}

async function runLoad(spec: LoadSpec, a: dgram.Socket[], b: dgram.Socket[]): Promise<LoadResult> {
  const run = ++runs & 0xff;
  const n = spec.calls.length;
  const { frames, firstMeasured, slab, size, bSlab, bSize } = buildPackets(spec, run);
  const verify = verifiers(spec);
  const sentAt = [new Float64Array(n * RING), new Float64Array(n * RING)];
  const hist = new Uint32Array(BUCKETS);
  let received = 0;
  let verifyFailures = 0;
  let max = 0;
  const verified = new Uint8Array(n);
  const onMessage = (m: Buffer): void => {
    const t = performance.now();
    if (m.length < 12) return;
    const ssrc = m.readUInt32BE(8);
    const dir = (ssrc >>> 28) - 1;
    const call = ssrc & 0xfffff;
    if (((ssrc >>> 20) & 0xff) !== run) return;
    const seq = m.readUInt16BE(2);
    if ((dir !== 0 && dir !== 1) || call >= n || seq < firstMeasured || seq >= frames) return;
    if (dir === 1 && verified[call] === 0 && verify[call]) {
      verified[call] = 1;
      try {
        verify[call]!.unprotectRtp(m);
      } catch {
        verifyFailures++;
      }
    }
    received++;
    const us = (t - sentAt[dir]![call * RING + (seq % RING)]!) * 1000;
    if (us > max) max = us;
    hist[Math.min(BUCKETS - 1, Math.max(0, Math.floor(us / BUCKET_US)))]!++;
  };
  for (const s of [...a, ...b]) s.on('message', onMessage);
  // Send schedule: the k-th send (of each direction) is due at start + k·20/n ms.
  const total = n * frames;
  const step = PTIME / n;
  const start = performance.now() + 20;
  const cpu0 = process.cpuUsage();
  let k = 0;
  let sendLag = 0;
  await new Promise<void>((done) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - start) / step) + 1);
      if (k < due) sendLag = Math.max(sendLag, now - (start + k * step));
      // At most CHUNK sends, then let the poll phase read what came back (setImmediate runs after it).
      const until = Math.min(due, k + CHUNK);
      for (; k < until; k++) {
        const i = k % n;
        const f = (k / n) | 0;
        const c = spec.calls[i]!;
        const at = i * frames + f;
        const t = performance.now();
        sentAt[0]![i * RING + (f % RING)] = t;
        a[c.aSock]!.send(slab.subarray(at * size, (at + 1) * size), c.aDst, '127.0.0.1');
        sentAt[1]![i * RING + (f % RING)] = t;
        b[c.bSock]!.send(bSlab.subarray(at * bSize, (at + 1) * bSize), c.bDst, '127.0.0.1');
      }
      if (k < due) setImmediate(tick);
      else if (k < total) setTimeout(tick, 1);
      else setTimeout(done, 300); // drain
    };
    setTimeout(tick, 20);
  });
  const generatorCpuMs = cpuMs(cpu0);
  for (const s of [...a, ...b]) s.off('message', onMessage);
  for (const v of verify) v?.close();
  const sent = 2 * n * (frames - firstMeasured);
  const pct = (q: number): number => {
    const target = Math.ceil(received * q);
    let acc = 0;
    for (let i = 0; i < BUCKETS; i++) {
      acc += hist[i]!;
      if (acc >= target) return ((i + 0.5) * BUCKET_US) / 1000;
    }
    return Infinity;
  };
  return {
    calls: n,
    sent,
    received,
    lost: sent - received,
    p50: round3(pct(0.5)),
    p99: round3(pct(0.99)),
    max: round3(max / 1000),
    sendLagMs: round3(sendLag),
    generatorBound: sendLag > 100,
    verifyFailures,
    generator: 'node',
    generatorCpuMs,
    sendErrors: 0,
  };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

// ---------------------------------------------------------------------------------------------------
// Packet preparer child of the C generator (`--prepare`)
// ---------------------------------------------------------------------------------------------------

/** tmpfs when there is one: a slab written to a disk file would be written back during the measurement. */
function scratchBase(): string {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    if (fs.statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // no /dev/shm
  }
  return os.tmpdir();
}

function preparerChild(): void {
  let pending: { dir: string; verify: (SrtpContext | undefined)[] } | undefined;
  const cleanup = (): void => {
    if (!pending) return;
    for (const v of pending.verify) v?.close();
    fs.rmSync(pending.dir, { recursive: true, force: true });
    pending = undefined;
  };
  const reply = (m: PreparerReply): void => {
    process.send!(m);
  };
  process.on('exit', cleanup);
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: PreparerRequest) => {
    try {
      if (m.type === 'exit') process.exit(0);
      else if (m.type === 'prepare') {
        cleanup();
        reply({ type: 'prepared', job: prepareFiles(m.spec, (p) => (pending = p)) });
      } else if (m.type === 'finish') {
        const verifyFailures = pending ? verifyFirst(pending.dir, pending.verify) : 0;
        cleanup();
        reply({ type: 'finished', verifyFailures });
      }
    } catch (e) {
      cleanup();
      reply({ type: 'failed', error: e instanceof Error ? e.message : String(e) });
    }
  });
  process.send!({ type: 'ready' });
}

/** Writes calls.bin, a.bin and b.bin (layouts in loadgen.c) into a fresh directory. */
function prepareFiles(spec: LoadSpec, hold: (p: { dir: string; verify: (SrtpContext | undefined)[] }) => void): NativeJob {
  const run = ++runs & 0xff;
  const n = spec.calls.length;
  const table = Buffer.alloc(n * 8);
  spec.calls.forEach((c, i) => {
    const socks = c.aSock >= 0 && c.aSock < SOCKETS_PER_SIDE && c.bSock >= 0 && c.bSock < SOCKETS_PER_SIDE;
    const ports = [c.aDst, c.bDst].every((p) => Number.isInteger(p) && p > 0 && p < 65536);
    if (!socks || !ports) throw new RangeError(`call ${i}: bad socket index or port`);
    [c.aSock, c.bSock, c.aDst, c.bDst].forEach((v, x) => table.writeUInt16LE(v, i * 8 + 2 * x));
  });
  const p = buildPackets(spec, run);
  const dir = fs.mkdtempSync(path.join(scratchBase(), 'ciphergate-loadgen-'));
  hold({ dir, verify: verifiers(spec) });
  fs.writeFileSync(path.join(dir, 'calls.bin'), table);
  fs.writeFileSync(path.join(dir, 'a.bin'), p.slab);
  fs.writeFileSync(path.join(dir, 'b.bin'), p.bSlab);
  return { dir, run, calls: n, frames: p.frames, firstMeasured: p.firstMeasured, aSize: p.size, bSize: p.bSize, verify: spec.mode === 'srtp' };
}

/** srtp mode: authenticates the first measured B → A packet of each call that had one, with the engine's key. */
function verifyFirst(dir: string, verify: readonly (SrtpContext | undefined)[]): number {
  const file = path.join(dir, 'first.bin');
  if (!verify.some((v) => v) || !fs.existsSync(file)) return 0;
  const slots = fs.readFileSync(file);
  if (slots.length !== verify.length * NATIVE_SLOT) throw new Error('first.bin of the wrong size');
  let failures = 0;
  verify.forEach((v, i) => {
    const at = i * NATIVE_SLOT;
    const len = slots.readUInt16LE(at);
    if (!v || len === 0) return;
    try {
      v.unprotectRtp(slots.subarray(at + 2, at + 2 + len));
    } catch {
      failures++;
    }
  });
  return failures;
}

// ---------------------------------------------------------------------------------------------------
// Parent side
// ---------------------------------------------------------------------------------------------------

interface Driver {
  readonly kind: 'c' | 'node';
  readonly aPorts: readonly number[];
  readonly bPorts: readonly number[];
  readonly pid: number;
  run(spec: LoadSpec): Promise<LoadResult>;
  close(): void;
}

class NodeDriver implements Driver {
  readonly kind = 'node';
  private constructor(
    private readonly proc: ChildProcess,
    readonly aPorts: readonly number[],
    readonly bPorts: readonly number[],
  ) {}

  static async start(): Promise<NodeDriver> {
    const proc = fork(__filename, ['--loadgen'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = await new Promise<{ aPorts: number[]; bPorts: number[] }>((resolve, reject) => {
      proc.once('message', (m: { type: string; aPorts: number[]; bPorts: number[] }) => resolve(m));
      proc.once('exit', (code) => reject(new Error(`load generator exited (${code})`)));
    });
    return new NodeDriver(proc, ready.aPorts, ready.bPorts);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  run(spec: LoadSpec): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`load generator exited (${code})`));
      const onMessage = (m: { type: string; result?: LoadResult; error?: string }): void => {
        if (m.type !== 'result' && m.type !== 'failed') return;
        this.proc.off('message', onMessage);
        this.proc.off('exit', onExit);
        if (m.result) resolve(m.result);
        else reject(new Error(`load generator: ${m.error}`));
      };
      this.proc.on('message', onMessage);
      this.proc.once('exit', onExit);
      this.proc.send({ type: 'load', spec });
    });
  }

  close(): void {
    if (this.proc.connected) this.proc.send({ type: 'exit' });
    setTimeout(() => this.proc.kill('SIGKILL'), 2000).unref();
  }
}

export class LoadGenerator {
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly driver: Driver) {}

  /**
   * The C generator when it builds (unless BENCH_LOADGEN=node), else the Node one; BENCH_LOADGEN=c: C or an error.
   * `rtPriority`: the C generator at SCHED_FIFO (for relays that are real-time themselves); only the
   * C one can, so with it the C generator is required.
   */
  static async start(rtPriority?: number): Promise<LoadGenerator> {
    const want = process.env.BENCH_LOADGEN ?? '';
    if (!['', 'c', 'node'].includes(want)) throw new RangeError('BENCH_LOADGEN must be c or node');
    if (rtPriority !== undefined && want === 'node') throw new RangeError('a real-time generator needs the C one (BENCH_LOADGEN=node given)');
    if (want !== 'node') {
      try {
        const preparer = path.join(__dirname, 'media-loadgen.js');
        return new LoadGenerator(await NativeLoadGenerator.start(buildNative(), preparer, rtPriority));
      } catch (e) {
        if (want === 'c' || rtPriority !== undefined) throw e;
        console.error(`media-loadgen: C load generator unavailable (${e instanceof Error ? e.message : String(e)}); using the Node one`);
      }
    }
    return new LoadGenerator(await NodeDriver.start());
  }

  /** Which generator runs: the C one, or the Node fallback. */
  get kind(): 'c' | 'node' {
    return this.driver.kind;
  }

  get aPorts(): readonly number[] {
    return this.driver.aPorts;
  }

  get bPorts(): readonly number[] {
    return this.driver.bPorts;
  }

  /** The process that sends and receives (bench/pin.ts). */
  get pid(): number {
    return this.driver.pid;
  }

  /** One set of calls; runs queue one after the other. */
  run(spec: LoadSpec): Promise<LoadResult> {
    const result = this.tail.then(() => this.driver.run(spec));
    this.tail = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.driver.close();
  }
}

if (require.main === module && process.argv.includes('--loadgen')) void nodeChild();
if (require.main === module && process.argv.includes('--prepare')) preparerChild();
