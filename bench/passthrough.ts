/**
 * Concurrent end-to-end pass-through calls (issue "media plane", benchmarks): DTLS-SRTP-style
 * streams (UDP/TLS/RTP/SAVPF with a=fingerprint) relayed opaque by the engine, 20 ms ptime both
 * ways, driven by the load generator in another process (bench/media-loadgen.ts). Reports the
 * zero-loss capacity and p50/p99 one-way latency at 100% and 50% of it. Target: ≥ 1,500 calls.
 */
import os from 'node:os';
import { ciphergateBackend, figures, layout, searchCapacity } from './media-bridge';
import { LoadGenerator } from './media-loadgen';

type BenchResult = Record<string, number | string | boolean>;

const LEVELS = [500, 1000, 1500, 2000, 2500];

export async function run(args: string[] = []): Promise<BenchResult> {
  const gen = await LoadGenerator.start();
  const { workers: n, describe } = layout(args, gen);
  const probe = await ciphergateBackend(n);
  const workers = probe.engine.threads;
  await probe.close();
  console.error(`passthrough: Ciphergate EmbeddedMediaEngine, ${workers} worker thread(s)`);
  try {
    const report = await searchCapacity(() => ciphergateBackend(n), gen, 'opaque', LEVELS);
    return { ptime_ms: 20, load_generator: `separate process (${gen.kind})`, cpus: os.cpus().length, workers, layout: describe, ...figures('passthrough', report) };
  } finally {
    gen.close();
  }
}
