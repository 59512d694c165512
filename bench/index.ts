/**
 * `npm run bench -- NAME` runs one benchmark and prints its figures as one JSON object on the last
 * line; `npm run bench` alone lists the names. Results go to docs/BENCHMARKS.md by hand, with the
 * command, the machine and the date.
 */
import os from 'node:os';
import path from 'node:path';
import { calibrationJsonParseNs } from './calibration';

type BenchResult = Record<string, number | string | boolean>;
interface BenchModule {
  run(args: string[]): Promise<BenchResult>;
}

/** name → module file (relative to this directory) and what it measures. */
const BENCHES: Record<string, { file: string; about: string }> = {
  'sip-parse': { file: './sip-parse', about: 'parse + serialize INVITE/REGISTER; 64 KB contact bomb' },
  zeroing: { file: './zeroing', about: 'zeroize a 1 GiB data directory: seconds for 3 passes and 1 pass' },
  transcode: { file: './transcode', about: 'Opus↔PCMU transcoded call legs per core (20 ms frames)' },
  srtp: { file: './srtp', about: 'SRTP/SRTCP protect+unprotect µs per packet, all profiles' },
  'sip-options': { file: './sip-options', about: 'OPTIONS transactions/s over UDP and TLS; memory per idle TLS connection' },
  messaging: { file: './messaging', about: 'SIP MESSAGE end to end over TLS: online, and offline→store→deliver (msgs/s)' },
  messages: { file: './messaging', about: 'the same as messaging (the name issue 6 gives)' },
  'media-bridge': { file: './media-bridge', about: 'zero-loss SRTP<->RTP bridged calls, p50/p99 latency; rtpengine on the same load' },
  passthrough: { file: './passthrough', about: 'zero-loss end-to-end pass-through calls, p50/p99 latency' },
  cps: { file: './cps', about: 'calls/s through the B2BUA (SIPp UAC → gateway → SIPp UAS, UDP, RTP via the engine); added setup latency; concurrent calls held' },
  'register-tls': { file: './register-tls', about: 'digest-authenticated REGISTERs/s over TLS and UDP; memory per registered TLS client' },
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  if (!name) {
    console.log('Benchmarks (npm run bench -- NAME):');
    for (const [n, b] of Object.entries(BENCHES)) console.log(`  ${n.padEnd(14)} ${b.about}`);
    return;
  }
  const entry = BENCHES[name];
  if (!entry) {
    console.error(`bench: unknown benchmark "${name}"; run \`npm run bench\` to list them`);
    process.exit(2);
  }
  const mod = (await import(path.join(__dirname, entry.file))) as BenchModule;
  const before = calibrationJsonParseNs();
  const result = await mod.run(args);
  // Machine speed before and after (bench/calibration.ts), unless the benchmark measured its own.
  const calibration = { calibration_json_parse_ns: Math.round((before + calibrationJsonParseNs()) / 2) };
  const machine = `${os.cpus().length}x ${os.cpus()[0]?.model.trim() ?? 'cpu'}, node ${process.version}`;
  console.log(JSON.stringify({ bench: name, ...calibration, ...result, machine, date: new Date().toISOString().slice(0, 10) }));
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
