/**
 * Transcoding cost: Opus ↔ PCMU (and G.722 ↔ PCMU) call legs per core.
 *
 * One call is two transcoders, PCMU → Opus and Opus → PCMU, each fed one 20 ms RTP payload per
 * frame: a "frame pair" is one frame each way, which is what a call costs every 20 ms. The figure
 * is the median over ROUNDS of the mean µs per frame pair while CALLS calls are served round-robin
 * (state of many calls in the caches, as in a worker), on one thread; calls per core =
 * 20 000 µs / cost. Target ≥ 150 per core (rtpengine managed about 53 here).
 *
 * Input is speech-like: three partials with a syllabic (4 Hz) envelope plus low noise, so Opus
 * works as on voice, not on a steady tone or silence. Variants: Opus at 8 kHz (the default
 * next to G.711, no resampler) and Opus at 48 kHz (resampler 8 ↔ 48 kHz in the path); and the
 * per-packet cost of each stage. `_us` is wall time; `_cpu_us` is process CPU time.
 */
import { performance } from 'node:perf_hooks';
import { G711Codec, OpusCodec, createCodec, createTranscoder, type CodecOptions, type Transcoder } from '../media/codecs';
import { median } from './median';

const ROUNDS = 7;
const CALLS = 200;
const FRAMES_PER_ROUND = 50; // per call: 1 s of audio each way
const SIGNAL_FRAMES = 250; // 5 s of distinct input, reused cyclically

type BenchResult = Record<string, number | string | boolean>;

const round2 = (n: number): number => Math.round(n * 100) / 100;


/** Deterministic speech-like PCM at `rate`, `frames` × 20 ms. */
function speechLike(rate: number, frames: number): Int16Array[] {
  const n = rate / 50;
  let seed = 0x2545f491;
  const noise = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return ((seed >>> 0) / 2 ** 32 - 0.5) * 400;
  };
  const out: Int16Array[] = [];
  for (let f = 0; f < frames; f++) {
    const pcm = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      const t = (f * n + i) / rate;
      const env = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
      const v = env * (5000 * Math.sin(2 * Math.PI * 220 * t) + 3000 * Math.sin(2 * Math.PI * 660 * t) + 1500 * Math.sin(2 * Math.PI * 1900 * t));
      pcm[i] = Math.round(v + noise());
    }
    out.push(pcm);
  }
  return out;
}

/** Median over ROUNDS of the mean wall and CPU µs per `unit` of `round()` (which does `units` units). */
function measure(round: () => void, units: number): { wall: number; cpu: number } {
  round(); // warm-up: JIT, codec state, caches
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    round();
    const t1 = performance.now();
    const c = process.cpuUsage(c0);
    wall.push(((t1 - t0) * 1000) / units);
    cpu.push((c.user + c.system) / units);
  }
  return { wall: round2(median(wall)), cpu: round2(median(cpu)) };
}

interface Call {
  up: Transcoder; // PCMU → the other codec
  down: Transcoder; // the other codec → PCMU
  seq: number;
}

/** The non-G.711 side of a benchmarked call: Opus at 8 or 48 kHz, or G.722 (16 kHz audio). */
type Wideband = { name: 'opus'; rate: 8000 | 48000 } | { name: 'G722' };

/** µs per frame pair for CALLS `other` ↔ PCMU calls. */
function benchCalls(other: Wideband): { wall: number; cpu: number } {
  const spec = other.name === 'opus' ? { name: 'opus' as const, options: { sampleRate: other.rate } as CodecOptions } : { name: 'G722' as const };
  const pcmRate = other.name === 'opus' ? other.rate : 16000;
  // RTP timestamp step per 20 ms frame: Opus always counts 48 kHz (RFC 7587 §4.1), G.722 8 kHz (RFC 3551 §4.5.2).
  const tsStep = other.name === 'opus' ? 960 : 160;
  const pcmu = new G711Codec('PCMU');
  const codec = createCodec(spec.name, 'options' in spec ? spec.options : {});
  const pcmuIn = speechLike(8000, SIGNAL_FRAMES).map((f) => pcmu.encode(f));
  const otherIn = speechLike(pcmRate, SIGNAL_FRAMES).map((f) => codec.encode(f));
  codec.close();
  const calls: Call[] = Array.from({ length: CALLS }, () => ({
    up: createTranscoder('PCMU', spec),
    down: createTranscoder(spec, 'PCMU'),
    seq: 0,
  }));
  let sink = 0;
  const round = (): void => {
    for (let f = 0; f < FRAMES_PER_ROUND; f++) {
      for (let c = 0; c < CALLS; c++) {
        const call = calls[c];
        const i = (call.seq + c) % SIGNAL_FRAMES; // calls out of phase with each other
        const seq = call.seq & 0xffff;
        sink += call.up.push({ payload: pcmuIn[i], sequenceNumber: seq, timestamp: call.seq * 160 }).length;
        sink += call.down.push({ payload: otherIn[i], sequenceNumber: seq, timestamp: call.seq * tsStep }).length;
        call.seq++;
      }
    }
  };
  const m = measure(round, FRAMES_PER_ROUND * CALLS);
  for (const call of calls) {
    call.up.close();
    call.down.close();
  }
  if (sink === 0) throw new Error('transcode bench produced no frames');
  return m;
}

/** Per-packet cost of each stage alone (µs). */
function benchStages(): Record<string, number> {
  const frames = speechLike(8000, SIGNAL_FRAMES);
  const pcmu = new G711Codec('PCMU');
  const enc = new OpusCodec({ sampleRate: 8000 });
  const dec = new OpusCodec({ sampleRate: 8000 });
  const opusPkts = frames.map((f) => enc.encode(f));
  const pcmuPkts = frames.map((f) => pcmu.encode(f));
  const n = 2000;
  let k = 0;
  const stage = (fn: (i: number) => void): number =>
    measure(() => {
      for (let i = 0; i < n; i++) fn(k++ % SIGNAL_FRAMES);
    }, n).cpu;
  return {
    opus8k_encode_cpu_us: stage((i) => enc.encode(frames[i])),
    opus8k_decode_cpu_us: stage((i) => dec.decode(opusPkts[i])),
    opus8k_plc_cpu_us: stage(() => dec.decodeLost()),
    pcmu_encode_cpu_us: stage((i) => pcmu.encode(frames[i])),
    pcmu_decode_cpu_us: stage((i) => pcmu.decode(pcmuPkts[i])),
  };
}

export async function run(): Promise<BenchResult> {
  const nb = benchCalls({ name: 'opus', rate: 8000 });
  const fb = benchCalls({ name: 'opus', rate: 48000 });
  const g722 = benchCalls({ name: 'G722' });
  const stages = benchStages();
  return {
    calls: CALLS,
    frame_pair_us: nb.wall,
    frame_pair_cpu_us: nb.cpu,
    calls_per_core: Math.floor(20000 / nb.cpu),
    calls_per_core_wall: Math.floor(20000 / nb.wall),
    opus48k_frame_pair_us: fb.wall,
    opus48k_frame_pair_cpu_us: fb.cpu,
    opus48k_calls_per_core: Math.floor(20000 / fb.cpu),
    g722_frame_pair_us: g722.wall,
    g722_frame_pair_cpu_us: g722.cpu,
    g722_calls_per_core: Math.floor(20000 / g722.cpu),
    ...stages,
    target_calls_per_core: 150,
    meets_target: Math.floor(20000 / nb.cpu) >= 150,
  };
}
