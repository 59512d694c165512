/**
 * Concurrent end-to-end pass-through calls (issue "media plane", benchmarks): DTLS-SRTP-style
 * streams (UDP/TLS/RTP/SAVPF with a=fingerprint) relayed opaque by the engine, 20 ms ptime both
 * ways, driven by the load generator in another process (bench/media-loadgen.ts). Reports the
 * zero-loss capacity and p50/p99 one-way latency at 100% and 50% of it. Target: ≥ 1,500 calls.
 *
 * Measured as deployed (`media.kernelForwarding: auto`: latched legs relayed by the in-kernel
 * forwarder when the host allows it; `kernel_forwarding` says whether it did), then in user space
 * only (`ciphergate_user_space_*`), then rtpengine in user space relaying the same packets as plain
 * RTP (its nearest equivalent; `--no-rtpengine` skips it), all in the same run.
 */
import os from 'node:os';
import { ciphergateBackend, figures, layout, rtpengineBackend, searchCapacity } from './media-bridge';
import { LoadGenerator } from './media-loadgen';
import { rtpengineInstalled } from './rtpengine-ng';

type BenchResult = Record<string, number | string | boolean>;

const LEVELS = [500, 1000, 1500, 2000, 2500];
/** The kernel path goes further; 4,000 calls use 16,000 of the range's 20,000 ports. */
const KERNEL_LEVELS = [1000, 1500, 2000, 2500, 3000, 4000];

export async function run(args: string[] = []): Promise<BenchResult> {
  const gen = await LoadGenerator.start();
  const { workers: n, describe } = layout(args, gen);
  const probe = await ciphergateBackend(n, 'auto');
  const workers = probe.engine.threads;
  const kernel = probe.engine.kernelForwarder !== undefined;
  await probe.close();
  console.error(`passthrough: Ciphergate EmbeddedMediaEngine, ${workers} worker thread(s), in-kernel forwarding ${kernel ? 'on' : 'unavailable'}`);
  const result: BenchResult = { ptime_ms: 20, load_generator: `separate process (${gen.kind})`, cpus: os.cpus().length, workers, layout: describe, kernel_forwarding: kernel };
  try {
    Object.assign(result, figures('passthrough', await searchCapacity(() => ciphergateBackend(n, 'auto'), gen, 'opaque', kernel ? KERNEL_LEVELS : LEVELS)));
    if (kernel) {
      console.error('passthrough: Ciphergate in user space only (media.kernelForwarding: off)');
      Object.assign(result, figures('ciphergate_user_space', await searchCapacity(() => ciphergateBackend(n, 'off'), gen, 'opaque', LEVELS)));
    }
    if (args.includes('--no-rtpengine')) result.rtpengine = 'skipped (--no-rtpengine)';
    else if (!rtpengineInstalled()) result.rtpengine = 'not installed (apt-get install -y rtpengine-daemon)';
    else {
      console.error('passthrough: rtpengine userspace (--table=-1), the same packets as plain RTP');
      Object.assign(result, figures('rtpengine_plain_relay', await searchCapacity(() => rtpengineBackend(true), gen, 'opaque', LEVELS)));
    }
  } finally {
    gen.close();
  }
  return result;
}
