/**
 * Concurrent SRTP ↔ RTP bridged calls (issue "media plane", benchmarks): N calls, each with an
 * SRTP leg (AES_CM_128_HMAC_SHA1_80, SDES) and a plain RTP leg, 20 ms ptime both ways, driven by
 * the load generator in another process (bench/media-loadgen.ts: in C, the Node one as a fallback)
 * on loopback. Layout (`layout` below): by default the whole machine, the engine with one relay
 * worker per core sharing the cores with the generator; `--per-core` pins the generator to one core
 * and the engine to the other.
 *
 * Zero-loss capacity: the largest N tried (coarse steps, then halving the gap) at which every packet
 * of the measured window arrived AND the generator kept its schedule (a late generator offers less
 * than the nominal load; such a level counts as a failure, flagged `generator_limited`). A level
 * that fails is tried a second time, and the second verdict stands. Latency:
 * one-way generator → engine → generator, p50/p99, at 100% and 50% of that capacity (it includes
 * two loopback hops, so it bounds the added latency from above). CPU: the backend's CPU time per
 * call and second of media at the capacity level, and the calls one core would carry at that cost
 * (the figure to compare when the generator, sharing the machine, is the limit).
 * Targets: ≥ 1,000 calls, p99 ≤ 5 ms.
 *
 * When rtpengine is installed (Debian rtpengine-daemon), the same load runs against it in userspace
 * (--table=-1) and both figures are printed with their ratio. `--no-rtpengine` skips it.
 *
 * `--calls=N` runs the one level N instead of the search (each backend once, same load) and adds
 * what the relay threads did meanwhile (bench/threads.ts): CPU per thread and the share of the
 * time it was runnable (a thread runnable most of the time on less than a core waited for a core),
 * and for our engine the p99 of its own queue delay over the measured window (bench/queue-delay.ts).
 * `--floor` (with `--calls`) also runs the machine's floor on the same packet rate: a C relay that
 * only forwards, as many threads as the engine has workers (bench/floor-relay.ts).
 * `--nice=N` gives every backend's relay threads that nice value (media.nice for ours): the load
 * generator runs at nice -10 (bench/loadgen/loadgen.c), so by default the relays yield to it.
 * `--rt=N` puts every backend's relay threads under SCHED_FIFO at N (media.scheduling: fifo,
 * media.rtPriority: N for ours), and the generator at SCHED_FIFO N + 10 (bench/priority.ts).
 * `--fast=off` runs our engine with media.fastPath off (every packet through the JavaScript path).
 * `--repeat=N` (with `--calls`) runs the level N times, each backend in turn every round, and reports
 * per backend the p99 and CPU of every run, their medians and how many runs had p99 ≤ 5 ms: one run
 * on a shared 2-core machine is not a verdict (docs/BENCHMARKS.md, session 11).
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import os from 'node:os';
import { EmbeddedMediaEngine, type QueueDelayHistogram } from '../media/engine';
import { cryptoAttributeValues, mediaPort, parseCryptoAttribute, parseSdp } from '../media/sdp';
import { srtpBackend } from '../media/srtp';
import { udpIoFault } from '../media/relay/io/native';
import { LoadGenerator, type LoadCall, type LoadResult } from './media-loadgen';
import { FloorRelay } from './floor-relay';
import { RtpengineNg, rtpengineInstalled } from './rtpengine-ng';
import { pinGenerator } from './pin';
import { describeThreads, ThreadSampler, type ThreadReport } from './threads';
import { histogramDelta, histogramQuantile } from './queue-delay';
import { median } from './median';
import { describePriority, generatorRt, type RelayPriority } from './priority';

type BenchResult = Record<string, number | string | boolean>;

export interface Backend {
  readonly name: string;
  /** The process whose threads relay (bench/threads.ts), and a thread of it not to count (the caller's own). */
  readonly pid: number;
  readonly skipTid?: number;
  /** CPU time used by the backend so far (all its threads), µs. */
  cpuMicros(): number;
  offer(callId: string, sdp: string, transport: 'RTP/AVP' | 'pass-through'): Promise<string>;
  answer(callId: string, sdp: string): Promise<string>;
  delete(callId: string): Promise<void>;
  close(): Promise<void>;
  /** The engine's own queue-delay histogram (cumulative), when it keeps one (ours, batched sockets). */
  queueDelay?(): Promise<QueueDelayHistogram | undefined>;
}

/**
 * `workers`: media.workers (0 = the default, one per core minus one); `kernelForwarding`:
 * media.kernelForwarding; `batchedIo`: media.batchedIo (the default, 'auto', as deployed);
 * `priority`: media.nice, or media.scheduling fifo at media.rtPriority (none = unchanged, as deployed
 * by default); `fastPath`: media.fastPath (default 'auto').
 */
export async function ciphergateBackend(
  workers = 0,
  kernelForwarding: 'auto' | 'off' = 'off',
  batchedIo: 'auto' | 'off' = 'auto',
  priority: RelayPriority = {},
  fastPath: 'auto' | 'off' = 'auto',
): Promise<Backend & { engine: EmbeddedMediaEngine }> {
  const realtime = priority.rt === undefined ? {} : { scheduling: 'fifo' as const, rtPriority: priority.rt };
  const engine = new EmbeddedMediaEngine({
    media: {
      portMin: 30000, portMax: 49999, address: '127.0.0.1', advertisedAddress: null, inactivitySec: 3600,
      workers, inThread: false, allowDirectMedia: false, maxPacketsPerSec: 2000, kernelForwarding, batchedIo, nice: priority.nice, fastPath,
      ...realtime,
    },
  });
  return {
    name: 'ciphergate',
    pid: process.pid,
    skipTid: process.pid, // the main thread only waits for the generator
    engine,
    // The relay workers live in this process; its main thread only waits for the generator meanwhile.
    cpuMicros: () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    },
    offer: (callId, sdp, transport) => engine.offer(callId, 'a', sdp, { transport, rtcpMux: 'never' }),
    answer: (callId, sdp) => engine.answer(callId, 'a', 'b', sdp),
    delete: (callId) => engine.delete(callId),
    close: () => engine.close(),
    queueDelay: () => engine.queueDelay(),
  };
}

/** An end-to-end offer as plain RTP: what rtpengine relays without DTLS or SRTP work of its own. */
function asPlainRtp(sdp: string): string {
  return sdp.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP').split('\r\n').filter((l) => !l.startsWith('a=fingerprint') && !l.startsWith('a=setup')).join('\r\n');
}

/**
 * rtpengine in user space. `opaqueAsPlain`: pass-through offers are given to it as plain RTP, so it
 * relays the packets untouched (with their DTLS attributes it would terminate DTLS itself).
 * `priority`: its poller threads' (--scheduling, --priority), on the same terms as ours.
 */
export async function rtpengineBackend(opaqueAsPlain = false, priority: RelayPriority = {}): Promise<Backend> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  s.close();
  const ng = await RtpengineNg.start(port, 50000, 59999, priority);
  return {
    name: 'rtpengine',
    pid: ng.pid,
    cpuMicros: () => ng.cpuMicros(),
    offer: (callId, sdp, transport) => {
      if (transport !== 'pass-through') return ng.offer(callId, 'a', sdp, transport);
      return opaqueAsPlain ? ng.offer(callId, 'a', asPlainRtp(sdp), 'RTP/AVP') : ng.offer(callId, 'a', sdp, 'UDP/TLS/RTP/SAVPF');
    },
    answer: (callId, sdp) => ng.answer(callId, 'a', 'b', opaqueAsPlain ? asPlainRtp(sdp) : sdp),
    delete: (callId) => ng.delete(callId),
    close: () => ng.close(),
  };
}

const FINGERPRINT = 'a=fingerprint:SHA-256 5A:AA:D1:EF:89:4F:EE:46:8D:6A:DD:E7:2E:52:B7:CB:E2:69:4C:CE:8E:B5:3B:53:D8:A6:50:CD:E3:6E:AF:60';

function sdp(port: number, proto: string, extra: string[]): string {
  return ['v=0', `o=- ${port} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} ${proto} 0`,
    'a=rtpmap:0 PCMU/8000', 'a=sendrecv', 'a=ptime:20', ...extra, ''].join('\r\n');
}

/** Sets up `n` calls through `backend` for the generator's sockets. */
export async function setupCalls(backend: Backend, gen: LoadGenerator, n: number, mode: 'srtp' | 'opaque', tag: string): Promise<LoadCall[]> {
  const calls: LoadCall[] = new Array<LoadCall>(n);
  const one = async (i: number): Promise<void> => {
    const callId = `${tag}-${i}`;
    const aSock = i % gen.aPorts.length;
    const bSock = i % gen.bPorts.length;
    const aKey = randomBytes(30).toString('base64');
    const aSdp = mode === 'srtp'
      ? sdp(gen.aPorts[aSock]!, 'RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${aKey}`])
      : sdp(gen.aPorts[aSock]!, 'UDP/TLS/RTP/SAVPF', ['a=setup:actpass', FINGERPRINT]);
    const offer = await backend.offer(callId, aSdp, mode === 'srtp' ? 'RTP/AVP' : 'pass-through');
    const bSdp = mode === 'srtp' ? sdp(gen.bPorts[bSock]!, 'RTP/AVP', []) : sdp(gen.bPorts[bSock]!, 'UDP/TLS/RTP/SAVPF', ['a=setup:active', FINGERPRINT]);
    const answer = parseSdp(await backend.answer(callId, bSdp));
    const engineCrypto = mode === 'srtp' ? parseCryptoAttribute(cryptoAttributeValues(answer, 0)[0]!).keys[0]! : undefined;
    calls[i] = {
      aSock,
      bSock,
      aDst: mediaPort(answer, 0),
      bDst: mediaPort(parseSdp(offer), 0),
      aKey: mode === 'srtp' ? aKey : undefined,
      engineKey: engineCrypto && Buffer.concat([engineCrypto.masterKey, engineCrypto.masterSalt]).toString('base64'),
    };
  };
  for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => one(i + k)));
  return calls;
}

export interface CapacityReport {
  readonly capacity: number;
  readonly full: (LoadResult & { readonly cpuPerCallSecond: number }) | undefined;
  readonly half: (LoadResult & { readonly cpuPerCallSecond: number }) | undefined;
  readonly tried: string;
  /** The search stopped because the load generator could not go faster, not because of the backend. */
  readonly generatorLimit: boolean;
  /**
   * The most calls of any level tried that lost nothing AND kept p99 within the target's 5 ms: the
   * zero-loss capacity of a saturated machine hides seconds of queueing in socket buffers.
   */
  readonly withinP99Target: number;
}

/** The issue's latency target for bridged calls, ms. */
const P99_TARGET_MS = 5;

/**
 * Zero-loss capacity of `backend`: `levels` in order until one loses packets, then two halvings of
 * the gap to the last clean level; then a run at half of the capacity.
 */
export async function searchCapacity(
  makeBackend: () => Promise<Backend>,
  gen: LoadGenerator,
  mode: 'srtp' | 'opaque',
  levels: readonly number[],
  timing = { warmupMs: 1000, durationMs: 3000 },
): Promise<CapacityReport> {
  let run = 0;
  const tried: string[] = [];
  let withinP99Target = 0;
  const once = async (n: number): Promise<LevelResult> => {
    const { result: r, backend } = await measureLevel(makeBackend, gen, n, mode, `${run++}`, timing);
    tried.push(`${n}:${verdict(r)}`);
    if (verdict(r) === 'ok' && r.p99 <= P99_TARGET_MS) withinP99Target = Math.max(withinP99Target, n);
    console.error(`  ${backend.name} ${mode} ${n} calls: ${verdict(r)}; lost ${r.lost}/${r.sent} p50 ${r.p50} ms p99 ${r.p99} ms max ${r.max} ms; ${r.cpuPerCallSecond} µs CPU per call-second; generator lag ${r.sendLagMs} ms${r.verifyFailures ? `; ${r.verifyFailures} unverifiable` : ''}`);
    return r;
  };
  // A failed level is run once more (both verdicts are in `tried`): this VM stalls now and then for
  // ~100 ms (docs/BENCHMARKS.md), and one stall must not decide the capacity of either engine.
  const level = async (n: number): Promise<LevelResult> => {
    const r = await once(n);
    return verdict(r) === 'ok' ? r : once(n);
  };
  let best: LevelResult | undefined;
  let failed: number | undefined;
  let generatorLimit = false;
  for (const n of levels) {
    const r = await level(n);
    if (verdict(r) === 'ok') best = r;
    else {
      failed = n;
      generatorLimit = r.generatorBound;
      break;
    }
  }
  for (let i = 0; i < 2 && failed !== undefined; i++) {
    const low = best?.calls ?? 0;
    const mid = Math.round((low + failed) / 2 / 25) * 25;
    if (mid <= low || mid >= failed) break;
    const r = await level(mid);
    if (verdict(r) === 'ok') best = r;
    else {
      failed = mid;
      generatorLimit = r.generatorBound;
    }
  }
  const capacity = best?.calls ?? 0;
  const half = capacity >= 2 ? await level(Math.round(capacity / 2)) : undefined;
  return { capacity, full: best, half, tried: tried.join(' '), generatorLimit, withinP99Target };
}

type LevelResult = LoadResult & {
  readonly cpuPerCallSecond: number;
  /** p99 of the engine's own queue delay over the measured window, ms (undefined: it keeps none). */
  readonly queueDelayP99Ms?: number;
};

/**
 * One level on a fresh backend (an overloaded level must not slow the next one down with its
 * backlog): `n` calls set up, the load run, CPU per call and second of media over the whole run
 * (warm-up and drain included). `sample`: the backend's threads are sampled meanwhile (bench/threads.ts).
 */
async function measureLevel(
  makeBackend: () => Promise<Backend>,
  gen: LoadGenerator,
  n: number,
  mode: 'srtp' | 'opaque',
  tag: string,
  timing: { warmupMs: number; durationMs: number },
  sample = false,
): Promise<{ result: LevelResult; backend: Backend; threads: ThreadReport[] }> {
  const backend = await makeBackend();
  try {
    const calls = await setupCalls(backend, gen, n, mode, `${backend.name}-${tag}`);
    const cpu0 = backend.cpuMicros();
    const t0 = Date.now();
    const sampler = sample ? new ThreadSampler(backend.pid, backend.skipTid) : undefined;
    // The engine's queue delay over the measured window: read when the warm-up ends and at the end.
    let atWindow: Promise<QueueDelayHistogram | undefined> | undefined;
    const windowTimer = backend.queueDelay && setTimeout(() => (atWindow = backend.queueDelay!()), timing.warmupMs);
    let load: LoadResult;
    try {
      load = await gen.run({ mode, calls, ...timing });
    } finally {
      sampler?.stop();
      clearTimeout(windowTimer);
    }
    const cpuPerCallSecond = (backend.cpuMicros() - cpu0) / n / ((Date.now() - t0) / 1000);
    const before = await atWindow;
    const after = before && (await backend.queueDelay?.());
    const queueDelayP99 = before && after ? histogramQuantile(histogramDelta(before, after), 0.99) * 1000 : undefined;
    return {
      result: { ...load, cpuPerCallSecond: Math.round(cpuPerCallSecond * 10) / 10, queueDelayP99Ms: queueDelayP99 === undefined ? undefined : Math.round(queueDelayP99 * 100) / 100 },
      backend,
      threads: sampler?.report() ?? [],
    };
  } finally {
    await backend.close();
  }
}

/**
 * 'ok' only when nothing was lost AND the generator kept its schedule: a generator running late
 * offered less than the nominal load, so such a run proves nothing about the backend.
 */
function verdict(r: LoadResult): string {
  if (r.verifyFailures > 0) return 'unverifiable';
  if (r.generatorBound) return r.lost === 0 ? 'generator-bound' : `lost ${r.lost} (generator-bound)`;
  return r.lost === 0 ? 'ok' : `lost ${r.lost}`;
}

export function figures(prefix: string, r: CapacityReport): BenchResult {
  return {
    [`${prefix}_zero_loss_calls`]: r.capacity,
    [`${prefix}_calls_within_p99_5ms`]: r.withinP99Target,
    [`${prefix}_p50_ms_at_100`]: r.full?.p50 ?? -1,
    [`${prefix}_p99_ms_at_100`]: r.full?.p99 ?? -1,
    [`${prefix}_p50_ms_at_50`]: r.half?.p50 ?? -1,
    [`${prefix}_p99_ms_at_50`]: r.half?.p99 ?? -1,
    [`${prefix}_lost_at_50`]: r.half?.lost ?? -1,
    [`${prefix}_generator_limited`]: r.generatorLimit,
    [`${prefix}_cpu_us_per_call_second`]: r.full?.cpuPerCallSecond ?? -1,
    // One core's worth of CPU divided by the cost of a call: what a core carries if nothing else limits.
    [`${prefix}_projected_calls_per_core`]: r.full ? Math.floor(1e6 / r.full.cpuPerCallSecond) : -1,
    [`${prefix}_tried`]: r.tried,
  };
}

/** One level, `n` calls, with the relay threads sampled meanwhile (`--calls=N`). */
export async function singleLevel(makeBackend: () => Promise<Backend>, gen: LoadGenerator, n: number, mode: 'srtp' | 'opaque' = 'srtp', timing = { warmupMs: 1000, durationMs: 3000 }): Promise<BenchResult> {
  const { result: r, backend, threads } = await measureLevel(makeBackend, gen, n, mode, 'one', timing, true);
  const p = backend.name;
  const queue = r.queueDelayP99Ms === undefined ? '' : `; in our sockets' queues p99 ${r.queueDelayP99Ms} ms`;
  console.error(`  ${p} ${mode} ${n} calls: ${verdict(r)}; p50 ${r.p50} ms p99 ${r.p99} ms${queue}; threads: ${describeThreads(threads)}; generator lag ${r.sendLagMs} ms`);
  return {
    ...(r.queueDelayP99Ms === undefined ? {} : { [`${p}_queue_delay_p99_ms`]: r.queueDelayP99Ms }),
    [`${p}_calls`]: n,
    [`${p}_verdict`]: verdict(r),
    [`${p}_lost`]: r.lost,
    [`${p}_p50_ms`]: r.p50,
    [`${p}_p99_ms`]: r.p99,
    [`${p}_max_ms`]: r.max,
    [`${p}_cpu_us_per_call_second`]: Math.round(r.cpuPerCallSecond),
    [`${p}_relay_threads`]: describeThreads(threads),
    [`${p}_generator_cpu_ms`]: r.generatorCpuMs,
    // How late the generator sent its latest packet: the instrument's own delay (not counted in the latency).
    [`${p}_generator_lag_ms`]: r.sendLagMs,
  };
}

/** `--NAME=N`, an integer in min..max; undefined when not given. Throws RangeError naming the flag. */
function intArg(args: readonly string[], name: string, min: number, max: number): number | undefined {
  const flag = `--${name}=`;
  const a = args.find((x) => x.startsWith(flag));
  if (a === undefined) return undefined;
  const n = Number(a.slice(flag.length));
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`--${name} must be an integer ${min}..${max}`);
  return n;
}

/** `--calls=N`: one level instead of the capacity search; undefined when not given. */
export const callsArg = (args: readonly string[]): number | undefined => intArg(args, 'calls', 1, 5000);

/**
 * `--nice=N`: the relay threads' nice value for every backend (media.nice; rtpengine's --priority;
 * the floor run under nice(1)); undefined when not given. Below 0 needs root.
 */
export const niceArg = (args: readonly string[]): number | undefined => intArg(args, 'nice', -20, 19);

/**
 * `--rt=N`: the relay threads at SCHED_FIFO N for every backend, the generator at N + 10
 * (bench/priority.ts); undefined when not given. Up to 89, so the generator stays above. Needs root
 * or CAP_SYS_NICE.
 */
export const rtArg = (args: readonly string[]): number | undefined => intArg(args, 'rt', 1, 89);

/** `--repeat=N`: how many rounds of a `--calls` level; 1 when not given. */
export const repeatArg = (args: readonly string[]): number => intArg(args, 'repeat', 1, 50) ?? 1;

/**
 * A run whose generator sent its latest packet more than this late was not driven as specified: the
 * instrument itself was held back (on this VM that happens even at the machine's top real-time
 * priority), and its catch-up burst queues in the relay.
 */
export const GENERATOR_ON_TIME_MS = 5;

/**
 * The rounds of a repeated level, per backend (`ciphergate`, `rtpengine`, `floor`, whichever ran):
 * every run's p99 and CPU per call-second, their medians, the runs with p99 within 5 ms (the issue's
 * target) and the runs that lost packets; every run's generator lag, and the p99 median of the runs
 * whose generator kept to its schedule (GENERATOR_ON_TIME_MS), reported beside the whole, never
 * instead of it; and the ratio of the CPU medians, ours to rtpengine's.
 */
export function summariseRounds(rounds: readonly BenchResult[]): BenchResult {
  const out: BenchResult = { rounds: rounds.length };
  const cpuMedian: Record<string, number> = {};
  for (const p of ['ciphergate', 'rtpengine', 'floor']) {
    const ran = rounds.filter((r) => typeof r[`${p}_p99_ms`] === 'number');
    if (ran.length === 0) continue;
    const p99 = ran.map((r) => r[`${p}_p99_ms`] as number);
    const cpu = ran.map((r) => r[`${p}_cpu_us_per_call_second`] as number);
    cpuMedian[p] = median(cpu);
    Object.assign(out, {
      [`${p}_p99_ms_runs`]: p99.join(' / '),
      [`${p}_p99_ms_median`]: Math.round(median(p99) * 1000) / 1000,
      [`${p}_runs_p99_within_5ms`]: p99.filter((x) => x <= 5).length,
      [`${p}_runs_with_loss`]: ran.filter((r) => (r[`${p}_lost`] as number) > 0).length,
      [`${p}_cpu_us_per_call_second_runs`]: cpu.join(' / '),
      [`${p}_cpu_us_per_call_second_median`]: cpuMedian[p],
    });
    const lag = ran.map((r) => r[`${p}_generator_lag_ms`]);
    if (lag.every((x) => typeof x === 'number')) {
      const onTime = ran.filter((r) => (r[`${p}_generator_lag_ms`] as number) <= GENERATOR_ON_TIME_MS).map((r) => r[`${p}_p99_ms`] as number);
      Object.assign(out, {
        [`${p}_generator_lag_ms_runs`]: lag.join(' / '),
        [`${p}_runs_generator_on_time`]: onTime.length,
        [`${p}_p99_ms_median_generator_on_time`]: onTime.length > 0 ? Math.round(median(onTime) * 1000) / 1000 : -1,
        [`${p}_runs_generator_on_time_p99_within_5ms`]: onTime.filter((x) => x <= 5).length,
      });
    }
  }
  if (cpuMedian.ciphergate !== undefined && cpuMedian.rtpengine !== undefined && cpuMedian.rtpengine > 0) {
    out.cpu_median_ratio_ciphergate_to_rtpengine = Math.round((cpuMedian.ciphergate / cpuMedian.rtpengine) * 100) / 100;
  }
  return out;
}

/** `--workers=N` (media.workers); 0 when not given. */
export const workersArg = (args: readonly string[]): number => intArg(args, 'workers', 0, 64) ?? 0;

const LEVELS = [250, 500, 750, 1000, 1250, 1500];

export interface Layout {
  /** media.workers for the embedded engine. */
  readonly workers: number;
  readonly describe: string;
}

/**
 * Where the engine and the generator run. Default, "whole machine" (the issue's wording): the engine
 * gets one relay worker per core and shares every core with the load generator (and rtpengine its
 * own default, a thread per core); nothing is pinned. `--per-core`: the generator on core 0, the
 * engine (and rtpengine) on the other, with the engine's default workers (one per core minus one):
 * what one relay core carries, whatever the generator costs.
 */
export function layout(args: readonly string[], gen: LoadGenerator): Layout {
  const cores = os.cpus().length;
  if (!args.includes('--per-core')) {
    return { workers: workersArg(args) || cores, describe: `whole machine: ${cores} cores shared by the relay workers and the load generator, nothing pinned` };
  }
  const pinned = pinGenerator(gen.pid);
  return { workers: workersArg(args), describe: pinned ? 'per core: generator on core 0; engine (and rtpengine) on the other' : 'per core asked, but not pinned (BENCH_PIN=0, one core, or no taskset)' };
}

/** `--io=dgram`: media.batchedIo off (Node's dgram sockets), to compare with the default. */
export function batchedIoArg(args: readonly string[]): 'auto' | 'off' {
  return args.includes('--io=dgram') ? 'off' : 'auto';
}

/** `--fast=off`: media.fastPath off (every packet through the JavaScript path), to compare with the default. */
export function fastPathArg(args: readonly string[]): 'auto' | 'off' {
  return args.includes('--fast=off') ? 'off' : 'auto';
}

export async function run(args: string[] = []): Promise<BenchResult> {
  const calls = callsArg(args);
  const priority: RelayPriority = { nice: niceArg(args), rt: rtArg(args) };
  const gen = await LoadGenerator.start(priority.rt === undefined ? undefined : generatorRt(priority.rt));
  const io = batchedIoArg(args);
  const fast = fastPathArg(args);
  const { workers, describe } = layout(args, gen);
  const result: BenchResult = {
    ptime_ms: 20, srtp_profile: 'AES_CM_128_HMAC_SHA1_80', load_generator: `separate process (${gen.kind})`, cpus: os.cpus().length,
    layout: describe, srtp_backend: srtpBackend(), relay_thread_priority: describePriority(priority),
  };
  try {
    const probe = await ciphergateBackend(workers, 'off', io, priority, fast);
    result.ciphergate_workers = probe.engine.threads;
    result.ciphergate_socket_io = io === 'off' ? 'dgram' : udpIoFault() === undefined ? 'batched' : `dgram (${udpIoFault()})`;
    result.ciphergate_fast_path = result.ciphergate_socket_io === 'batched' && fast === 'auto' ? 'on' : 'off';
    await probe.close();
    console.error(`media-bridge: Ciphergate EmbeddedMediaEngine, ${result.ciphergate_workers} worker thread(s)`);
    if (calls !== undefined) {
      const repeat = repeatArg(args);
      const rounds: BenchResult[] = [];
      for (let round = 1; round <= repeat; round++) {
        if (repeat > 1) console.error(`media-bridge: round ${round} of ${repeat}`);
        const r: BenchResult = await singleLevel(() => ciphergateBackend(workers, 'off', io, priority, fast), gen, calls);
        if (!args.includes('--no-rtpengine') && rtpengineInstalled()) Object.assign(r, await singleLevel(() => rtpengineBackend(false, priority), gen, calls));
        // The machine's floor on the same packet rate: a C relay that only forwards (bench/floor-relay.ts).
        if (args.includes('--floor')) Object.assign(r, await singleLevel(() => Promise.resolve(FloorRelay.start(workers, priority)), gen, calls, 'opaque'));
        rounds.push(r);
      }
      // One round: its figures as they are; more: every run's p99 and CPU and their medians.
      return Object.assign(result, repeat === 1 ? rounds[0] : summariseRounds(rounds));
    }
    Object.assign(result, figures('ciphergate', await searchCapacity(() => ciphergateBackend(workers, 'off', io, priority, fast), gen, 'srtp', LEVELS)));
    if (args.includes('--no-rtpengine')) {
      result.rtpengine = 'skipped (--no-rtpengine)';
    } else if (!rtpengineInstalled()) {
      result.rtpengine = 'not installed (apt-get install -y rtpengine-daemon)';
    } else {
      console.error('media-bridge: rtpengine userspace (--table=-1)');
      Object.assign(result, figures('rtpengine', await searchCapacity(() => rtpengineBackend(false, priority), gen, 'srtp', LEVELS)));
      const r = Number(result.rtpengine_zero_loss_calls);
      result.capacity_ratio_ciphergate_to_rtpengine = r > 0 ? Math.round((Number(result.ciphergate_zero_loss_calls) / r) * 100) / 100 : -1;
      const cr = Number(result.rtpengine_cpu_us_per_call_second);
      result.cpu_per_call_ratio_ciphergate_to_rtpengine = cr > 0 ? Math.round((Number(result.ciphergate_cpu_us_per_call_second) / cr) * 100) / 100 : -1;
    }
  } finally {
    gen.close();
  }
  return result;
}
