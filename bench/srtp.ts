/**
 * SRTP cost per packet: median µs for protect + unprotect of a 172-octet RTP packet (12-octet
 * header + 160-octet payload, one 20 ms G.711 frame) for every profile, and SRTCP for the two
 * default profiles. Each round runs ITERATIONS packets with increasing sequence numbers (so the
 * ROC and replay-window logic run as in a call, across SEQ wraps) and yields a mean; the figure
 * is the median round. `_us` is wall-clock time; `_cpu_us` is process CPU time, which is less
 * disturbed by other load on the machine. Targets: AES_CM_128_HMAC_SHA1_80 ≤ 5 µs,
 * AEAD_AES_128_GCM ≤ 4 µs (wall, quiet machine).
 *
 * `backend` names the backend of the unsuffixed keys (the default one: the native addon when it
 * is loaded). With the native backend the TypeScript fallback is measured too, as `*_ts_*` keys.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { SRTP_PROFILES, SrtpContext, generateKeyMaterial, type SrtpProfileName } from '../media/srtp';
import { nativeFault } from '../media/srtp/native';
import { srtpBackend, type SrtpBackend } from '../media/srtp/transform';
import { median } from './median';

const ROUNDS = 9;
const ITERATIONS = 20_000;
const WARMUP = 5_000;
const PAYLOAD = 160;


const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Median over ROUNDS of the mean wall and CPU µs of `once()`. */
function measure(once: () => void): { wall: number; cpu: number } {
  for (let i = 0; i < WARMUP; i++) once();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < ITERATIONS; i++) once();
    const t1 = performance.now();
    const c = process.cpuUsage(c0);
    wall.push(((t1 - t0) * 1000) / ITERATIONS);
    cpu.push((c.user + c.system) / ITERATIONS);
  }
  return { wall: round2(median(wall)), cpu: round2(median(cpu)) };
}

/** Sender and receiver contexts on `backend` (CIPHERGATE_SRTP_NATIVE is read when a context is made). */
function contexts(profile: SrtpProfileName, backend: SrtpBackend): { tx: SrtpContext; rx: SrtpContext } {
  const keys = generateKeyMaterial(profile);
  const saved = process.env.CIPHERGATE_SRTP_NATIVE;
  if (backend === 'typescript') process.env.CIPHERGATE_SRTP_NATIVE = '0';
  try {
    if (srtpBackend() !== backend) throw new Error(`SRTP backend ${backend} is not available`);
    return { tx: new SrtpContext({ profile, ...keys }), rx: new SrtpContext({ profile, ...keys }) };
  } finally {
    if (saved === undefined) delete process.env.CIPHERGATE_SRTP_NATIVE;
    else process.env.CIPHERGATE_SRTP_NATIVE = saved;
  }
}

function benchRtp(profile: SrtpProfileName, backend: SrtpBackend): { wall: number; cpu: number } {
  const { tx, rx } = contexts(profile, backend);
  const packet = Buffer.alloc(12 + PAYLOAD);
  packet[0] = 0x80; // V=2, PT 0 (PCMU)
  packet.writeUInt32BE(0x5eed1234, 8);
  randomBytes(PAYLOAD).copy(packet, 12);
  let seq = 0;
  const once = (): void => {
    packet.writeUInt16BE(seq++ & 0xffff, 2);
    rx.unprotectRtp(tx.protectRtp(packet));
  };
  once();
  packet.writeUInt16BE(seq++ & 0xffff, 2);
  if (!rx.unprotectRtp(tx.protectRtp(packet)).equals(packet)) throw new Error(`${profile}: round trip is not the identity`);
  const result = measure(once);
  tx.close();
  rx.close();
  return result;
}

/** An RTCP RR with one report block (32 octets) each time. */
function benchRtcp(profile: SrtpProfileName, backend: SrtpBackend): { wall: number; cpu: number } {
  const { tx, rx } = contexts(profile, backend);
  const packet = Buffer.alloc(32, 0x5a);
  packet[0] = 0x81;
  packet[1] = 201;
  packet.writeUInt16BE(7, 2);
  packet.writeUInt32BE(0x5eed1234, 4);
  if (!rx.unprotectRtcp(tx.protectRtcp(packet)).equals(packet)) throw new Error(`${profile}: SRTCP round trip is not the identity`);
  const result = measure(() => {
    rx.unprotectRtcp(tx.protectRtcp(packet));
  });
  tx.close();
  rx.close();
  return result;
}

export async function run(): Promise<Record<string, number | string>> {
  const backend = srtpBackend();
  const result: Record<string, number | string> = {
    packet: `RTP ${12 + PAYLOAD} octets (12 header + ${PAYLOAD} payload); RTCP RR 32 octets`,
    method: `median of ${ROUNDS} rounds x ${ITERATIONS} protect+unprotect pairs, µs per pair`,
    backend,
    loadavg_before: os.loadavg()[0].toFixed(2),
  };
  const fault = nativeFault();
  if (fault) result.native_fault = fault;
  // The default backend under the historical keys, then the TypeScript fallback as *_ts_* keys.
  const runs: Array<[SrtpBackend, string]> = backend === 'native' ? [['native', ''], ['typescript', '_ts']] : [['typescript', '']];
  for (const [b, suffix] of runs) {
    for (const name of Object.keys(SRTP_PROFILES) as SrtpProfileName[]) {
      const r = benchRtp(name, b);
      result[`rtp_${name}${suffix}_us`] = r.wall;
      result[`rtp_${name}${suffix}_cpu_us`] = r.cpu;
    }
    for (const name of ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] as const) {
      const r = benchRtcp(name, b);
      result[`rtcp_${name}${suffix}_us`] = r.wall;
      result[`rtcp_${name}${suffix}_cpu_us`] = r.cpu;
    }
  }
  result.target_AES_CM_128_HMAC_SHA1_80_us = 5;
  result.target_AEAD_AES_128_GCM_us = 4;
  result.loadavg_after = os.loadavg()[0].toFixed(2);
  return result;
}
