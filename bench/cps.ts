/**
 * Calls through the B2BUA with SIPp on both sides (issue 5 benchmark `cps`):
 *
 *   SIPp UAC (127.0.0.2, a user over UDP, digest) → gateway → trunk `uas` → SIPp UAS (127.0.0.1)
 *
 * Both legs are plain UDP with RTP/AVP ("trunk-style"); every call's media is allocated by the
 * embedded engine (one relay worker thread), and SIPp streams/echoes RTP where the phase says so.
 * The gateway runs in this process, so the benchmark taps its socket boundary: the time from a
 * message's bytes arriving (SipStack.onMessage) to the message it causes leaving (SipStack.send),
 * for INVITE in → INVITE out and 200 in → 200 out, paired through User-to-User (passed by the
 * header allow-list) and the two legs' Call-IDs.
 *
 * Phases (each a fresh SIPp run):
 *   latency:    BENCH_LAT_CPS (100) calls/s for BENCH_LAT_SEC (10) s, RTP both ways (BENCH_LAT_RTP=0: none)
 *               → p50/p95/p99 added setup
 *   sustained:  BENCH_CPS (500) calls/s for BENCH_CPS_SEC s, 1 s hold → achieved CPS, failed calls
 *   concurrent: BENCH_HELD (1000) calls held BENCH_HOLD_SEC s → concurrent calls held, failed calls
 * Targets: ≥ 500 CPS with no failed call; p99 ≤ 5 ms at 100 CPS; ≥ 1,000 concurrent calls held 60 s.
 */
import { spawn, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { loadConfig } from '../config/load';
import { nullLogger } from '../gateway/log/logger';
import { startGateway, type RunningGateway } from '../gateway/server';
import type { SipMessage } from '../gateway/sip/message/message';
import type { ReceivedInfo, SendTarget } from '../gateway/sip/transport/types';
import { ensureCertificate } from '../gateway/tls/certificate';
import { onGeneratorCores, pinSignallingThread, pinningWanted, unpinProcess } from './pin';

const env = (name: string, def: number): number => Number(process.env[name] ?? def);
const LAT_CPS = env('BENCH_LAT_CPS', 100);
const LAT_SEC = env('BENCH_LAT_SEC', 10);
const LAT_RTP = env('BENCH_LAT_RTP', 1) !== 0;
const CPS = env('BENCH_CPS', 500);
const CPS_SEC = env('BENCH_CPS_SEC', 20);
const HELD = env('BENCH_HELD', 1000);
const HOLD_SEC = env('BENCH_HOLD_SEC', 40);
const PASSWORD = 'Loadgen-Calls-2024-x';
const NUMBER = '+34600000000';
const ROOT = path.resolve(__dirname, '..', '..');

async function freeUdpPort(address: string): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, address, r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

/**
 * CPU time of this process's main thread (the gateway's signalling thread), ms, from Linux's
 * /proc/self/task/<pid>/stat (utime + stime, in clock ticks of 10 ms); NaN elsewhere.
 * process.cpuUsage() counts every thread, the media worker's too.
 */
function mainThreadCpuMs(): number {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'latin1');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15 (proc(5)).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Pairs the two legs of each call at the gateway's socket boundary (see the file comment). */
class Tap {
  readonly invite: number[] = [];
  readonly ok: number[] = [];
  private readonly inviteIn = new Map<string, bigint>();
  private readonly okIn = new Map<string, bigint>();
  /** A-leg Call-ID → call number; B-leg Call-ID → call number. */
  private readonly aLeg = new Map<string, string>();
  private readonly bLeg = new Map<string, string>();
  recording = false;

  install(gw: RunningGateway): void {
    const stack = gw.stack;
    const onMessage = stack.onMessage.bind(stack);
    stack.onMessage = (data: Buffer, info: ReceivedInfo): void => {
      if (this.recording) this.received(data);
      onMessage(data, info);
    };
    const send = stack.send.bind(stack);
    stack.send = (msg: SipMessage, target: SendTarget): Promise<void> => {
      if (this.recording) this.sent(msg);
      return send(msg, target);
    };
  }

  reset(): void {
    this.invite.length = 0;
    this.ok.length = 0;
    this.inviteIn.clear();
    this.okIn.clear();
    this.aLeg.clear();
    this.bLeg.clear();
  }

  private received(data: Buffer): void {
    const now = process.hrtime.bigint();
    const head = data.subarray(0, 1200).toString('latin1');
    if (head.startsWith('INVITE ')) {
      const n = header(head, 'User-to-User');
      const cid = header(head, 'Call-ID');
      if (n !== undefined && cid !== undefined) {
        this.inviteIn.set(n, now);
        this.aLeg.set(cid, n);
      }
    } else if (head.startsWith('SIP/2.0 200') && (header(head, 'CSeq') ?? '').endsWith('INVITE')) {
      const cid = header(head, 'Call-ID');
      const n = cid === undefined ? undefined : this.bLeg.get(cid);
      if (n !== undefined && !this.okIn.has(n)) this.okIn.set(n, now);
    }
  }

  private sent(msg: SipMessage): void {
    const now = process.hrtime.bigint();
    if (msg.kind === 'request' && msg.method === 'INVITE') {
      const n = msg.headers.get('User-to-User');
      const t = n === undefined ? undefined : this.inviteIn.get(n);
      if (n !== undefined && t !== undefined) {
        this.bLeg.set(msg.callId, n);
        this.invite.push(Number(now - t) / 1e6);
        this.inviteIn.delete(n);
      }
    } else if (msg.kind === 'response' && msg.status === 200 && msg.cseq.method === 'INVITE') {
      const n = this.aLeg.get(msg.callId);
      const t = n === undefined ? undefined : this.okIn.get(n);
      if (n !== undefined && t !== undefined) {
        this.ok.push(Number(now - t) / 1e6);
        this.okIn.delete(n);
        this.aLeg.delete(msg.callId);
      }
    }
  }
}

function header(head: string, name: string): string | undefined {
  const i = head.indexOf(`\r\n${name}:`);
  if (i < 0) return undefined;
  const s = i + name.length + 3;
  const e = head.indexOf('\r\n', s);
  return head.slice(s, e < 0 ? undefined : e).trim();
}

interface SippResult {
  successful: number;
  failed: number;
  elapsedSec: number;
  exitCode: number | null;
  /** Calls completed in each second of the run (SIPp's periodic SuccessfulCall(P), -fd 1). */
  perSecond: number[];
  /** Calls SIPp started in each second (OutgoingCall(P)): what was really offered. */
  offeredPerSecond: number[];
}

/** Median of the per-second counts from the 3rd second to the end of the offered `seconds`. */
function steadyRate(perSecond: readonly number[], seconds: number): number {
  const steady = perSecond.slice(2, Math.max(3, seconds));
  if (steady.length === 0) return 0;
  const s = [...steady].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Runs SIPp to completion; reads its final statistics from -trace_stat. */
async function runUac(dir: string, gwPort: number, o: { rate: number; calls: number; holdMs: number; rtp: boolean; limit: number }): Promise<SippResult> {
  const csv = path.join(dir, 'uac.csv');
  fs.writeFileSync(csv, `SEQUENTIAL\n${NUMBER};[authentication];\n`);
  // rtp_stream takes no keyword: the scenario is written with the file, or without the stream.
  const scenario = path.join(dir, `uac-${o.rtp ? 'rtp' : 'nortp'}.xml`);
  const xml = fs.readFileSync(path.join(ROOT, 'bench', 'peers', 'cps-uac.xml'), 'utf8');
  fs.writeFileSync(scenario, o.rtp ? xml.replace('[field2]', `${path.join(dir, 'tone.wav')},-1,8`) : xml.replace(/<nop>\s*<action>\s*<exec rtp_stream="\[field2\]"\/>\s*<\/action>\s*<\/nop>/, ''));
  const stat = path.join(dir, `uac-${Date.now()}.csv`);
  const port = await freeUdpPort('127.0.0.2');
  const args = [
    '-sf', scenario, '-inf', csv,
    '-i', '127.0.0.2', '-p', String(port), '-mi', '127.0.0.2', '-t', 'u1',
    '-r', String(o.rate), '-m', String(o.calls), '-l', String(o.limit), '-d', String(o.holdMs),
    '-nostdin', '-trace_stat', '-stf', stat, '-fd', '1', '-timeout', String(Math.ceil(o.calls / o.rate + o.holdMs / 1000 + 60)) + 's',
    // -auth_uri: the digest-uri must be the Request-URI (RFC 7616 §3.4.6, checked by the gateway).
    '-au', 'bench', '-ap', PASSWORD, '-auth_uri', `${NUMBER}@127.0.0.1:${gwPort}`,
    '-max_socket', '4096', `127.0.0.1:${gwPort}`,
    ...(process.env.BENCH_DEBUG ? ['-trace_err', '-trace_msg', '-message_file', path.join(process.env.BENCH_DEBUG, 'msg.log'), '-error_file', path.join(process.env.BENCH_DEBUG, 'err.log')] : []),
  ];
  const started = Date.now();
  const child = spawn(...onGeneratorCores(pinned, 'sipp', args), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const elapsedSec = (Date.now() - started) / 1000;
  const lines = fs.existsSync(stat) ? fs.readFileSync(stat, 'utf8').trim().split('\n') : [];
  if (lines.length < 2) throw new Error(`sipp uac produced no statistics (exit ${code}): ${err.slice(-2000)}`);
  const names = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const col = (n: string): number => Number(last[names.indexOf(n)]);
  const periodic = names.indexOf('SuccessfulCall(P)');
  const outgoing = names.indexOf('OutgoingCall(P)');
  const perSecond = lines.slice(1).map((l) => Number(l.split(';')[periodic]));
  const offeredPerSecond = lines.slice(1).map((l) => Number(l.split(';')[outgoing]));
  return { successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)'), elapsedSec, exitCode: code, perSecond, offeredPerSecond };
}

/** Whether the signalling thread has a core of its own and SIPp runs on the other (bench/pin.ts). */
let pinned = false;

export async function run(): Promise<Record<string, number | string | boolean>> {
  pinned = pinningWanted();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-bench-cps-'));
  execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', 'a-law', path.join(dir, 'tone.wav'), 'synth', '4', 'sine', '1000']);
  const uasPort = await freeUdpPort('127.0.0.1');
  const uas = spawn(...onGeneratorCores(pinned, 'sipp', ['-sf', path.join(ROOT, 'bench', 'peers', 'cps-uas.xml'), '-i', '127.0.0.1', '-p', String(uasPort), '-mi', '127.0.0.1', '-t', 'u1', '-rtp_echo', '-nostdin', '-aa', '-max_socket', '4096',
    ...(process.env.BENCH_DEBUG ? ['-trace_err', '-error_file', path.join(process.env.BENCH_DEBUG, 'uas-err.log'), '-trace_stat', '-stf', path.join(process.env.BENCH_DEBUG, 'uas-stat.csv'), '-fd', '1'] : [])]), { stdio: ['ignore', 'ignore', 'ignore'] });
  const config = loadConfig({
    env: {},
    set: [
      `dataDir=${dir}`, 'sip.host=127.0.0.1', 'sip.udpPort=0', 'sip.tcpPort=0', 'sip.tlsPort=0', 'admin.port=0', 'sip.domain=127.0.0.1',
      'media.address=127.0.0.1', 'media.workers=1', 'media.portMin=20000', 'media.portMax=31999',
      // The held calls carry no RTP on purpose: the media-inactivity teardown (default 60 s) would
      // race their BYE at exactly the hold time.
      `media.inactivitySec=${HOLD_SEC + 60}`,
      'calls.requireTls=false', 'calls.requireSrtp=false', 'calls.cpsPerSource=0', 'calls.maxPerUser=0', 'calls.maxConcurrent=100000',
      'registrar.md5OnlyUserAgents=["sipp"]', `cdr.enabled=${process.env.BENCH_CDR !== '0'}`,
      'routing.countryCode=34', 'routing.rules=[{name: all, prefix: "+", trunks: [uas]}]',
      `trunks=[{name: uas, host: 127.0.0.1, port: ${uasPort}, transport: UDP, keepAlive: {intervalSec: 0}}]`,
    ],
  });
  const tls = await ensureCertificate(config, nullLogger);
  const gw = await startGateway(config, nullLogger, tls);
  if (pinned) pinned = pinSignallingThread();
  const tap = new Tap();
  tap.install(gw);
  const gwPort = gw.transport.addresses().find((a) => a.protocol === 'UDP')!.port;
  await gw.users.add('bench', { password: PASSWORD, mayCallOffNet: true, mayCallInternational: true });
  const result: Record<string, number | string | boolean> = {
    pinned: pinned ? 'latency phase only: signalling thread on a core of its own, SIPp and media worker on the other' : 'no',
  };
  try {
    // Warm-up (JIT, first allocations): not measured.
    await runUac(dir, gwPort, { rate: 50, calls: 100, holdMs: 200, rtp: false, limit: 1000 });

    tap.reset();
    tap.recording = true;
    const lat = await runUac(dir, gwPort, { rate: LAT_CPS, calls: LAT_CPS * LAT_SEC, holdMs: 1000, rtp: LAT_RTP, limit: 5000 });
    tap.recording = false;
    Object.assign(result, {
      latency_cps: LAT_CPS,
      latency_calls: lat.successful,
      latency_failed: lat.failed,
      latency_rtp: LAT_RTP,
      invite_added_ms_p50: round(quantile(tap.invite, 0.5)),
      invite_added_ms_p95: round(quantile(tap.invite, 0.95)),
      invite_added_ms_p99: round(quantile(tap.invite, 0.99)),
      ok_added_ms_p50: round(quantile(tap.ok, 0.5)),
      ok_added_ms_p95: round(quantile(tap.ok, 0.95)),
      ok_added_ms_p99: round(quantile(tap.ok, 0.99)),
      setup_added_ms_p99: round(quantile(tap.invite.map((x, i) => x + (tap.ok[i] ?? 0)), 0.99)),
    });

    // Throughput phases: every thread and both SIPp may use every core (pinning starves SIPp, which
    // then cannot offer 500 CPS from one core together with the media worker).
    if (pinned) {
      unpinProcess(process.pid);
      unpinProcess(uas.pid!);
      pinned = false;
    }

    const failures = new Map<string, number>();
    const onEnded = (_info: unknown, end: { answered: boolean; status: number; cause: string }): void => {
      if (end.answered) return;
      const k = `${end.status} ${end.cause}`;
      failures.set(k, (failures.get(k) ?? 0) + 1);
    };
    gw.b2bua.on('callEnded', onEnded);
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuMs();
    const sus = await runUac(dir, gwPort, { rate: CPS, calls: CPS * CPS_SEC, holdMs: 1000, rtp: false, limit: 20_000 });
    gw.b2bua.off('callEnded', onEnded);
    const elu = performance.eventLoopUtilization(elu0);
    const cpu = process.cpuUsage(cpu0);
    const mainMs = mainThreadCpuMs() - main0;
    Object.assign(result, {
      // How busy the gateway was: its signalling thread, and CPU per call for all its threads (media worker included).
      sustained_signalling_thread_busy: round(elu.utilization, 2),
      sustained_gateway_cpu_ms_per_call: round((cpu.user + cpu.system) / 1000 / Math.max(1, sus.successful), 2),
      sustained_signalling_cpu_ms_per_call: round(mainMs / Math.max(1, sus.successful), 2),
      sustained_gateway_failures: [...failures].map(([k, n]) => `${k}: ${n}`).join(', ') || 'none',
      sustained_target_cps: CPS,
      sustained_calls: sus.successful,
      sustained_failed: sus.failed,
      // Calls completed per second while the offered rate ran: the median of SIPp's per-second
      // counts once the first calls ended (after the 1 s hold) and before the offered calls ran out.
      sustained_cps: steadyRate(sus.perSecond, CPS_SEC),
      sustained_per_second: sus.perSecond.join(' '),
      sustained_offered_per_second: sus.offeredPerSecond.join(' '),
      // All calls over the whole run, SIPp's wind-down included (it waits out failed calls' timers).
      sustained_cps_average: round(sus.successful / Math.max(1, sus.elapsedSec - 1 - 0.2), 1),
    });

    // Answered calls of this phase that are still up, sampled: the calls held at once.
    let up = 0;
    let peak = 0;
    const onCall = (call: { once(e: 'answered' | 'ended', l: () => void): unknown }): void => {
      let answered = false;
      call.once('answered', () => {
        answered = true;
        peak = Math.max(peak, ++up);
      });
      call.once('ended', () => {
        if (answered) up--;
      });
    };
    gw.b2bua.on('call', onCall);
    const held = await runUac(dir, gwPort, { rate: Math.min(200, HELD), calls: HELD, holdMs: HOLD_SEC * 1000, rtp: false, limit: HELD + 10 });
    gw.b2bua.off('call', onCall);
    Object.assign(result, { concurrent_held: peak, concurrent_hold_sec: HOLD_SEC, concurrent_failed: held.failed, concurrent_calls: held.successful });
  } finally {
    uas.kill('SIGKILL');
    await gw.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
