/**
 * Real peers for the calls tests (work/shared/PEERS.md recipes): baresip 1.0 as a secure client of
 * the gateway (TLS, digest, SDES or DTLS-SRTP, ausine tone, sndfile recording, ctrl_tcp control;
 * test/helpers/baresip.ts drives it) or as the PBX stand-in (plain UDP/RTP, auto-answer); linphonec
 * is test/integration/peers/linphone.ts; sox and tshark checks. Every wait is bounded; `stop()` kills.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BaresipProcess } from '../helpers/baresip';
import type { TestGateway } from '../helpers/in-process-gateway';
import { accountLine } from './peers/baresip';

export interface PhoneOptions {
  readonly name: string;
  /** ausine tone, Hz. */
  readonly tone: number;
  /** Account line (PEERS.md): built by clientAccount / pbxAccount. */
  readonly account: (sipPort: number) => string;
  readonly rtpPorts: string;
  /** Extra config lines. */
  readonly extra?: readonly string[];
}

/** A TLS client of the gateway (RFC 5626 outbound, digest) that places and takes calls. */
export function clientAccount(o: { user: string; password: string; gatewayPort: number; mediaenc: string; codecs: string; answer?: 'auto' | 'manual' }): () => string {
  return () => `${accountLine(o)};answermode=${o.answer ?? 'auto'};mediaenc=${o.mediaenc};audio_codecs=${o.codecs}`;
}

/**
 * The PBX stand-in: plain UDP, plain RTP, no registration, auto-answer. baresip takes a call only
 * for its account's user, so the account is the number the test dials off-net.
 */
export function pbxAccount(number: string, codecs = 'PCMA,PCMU'): (sipPort: number) => string {
  return (sipPort) => `<sip:${number}@127.0.0.1:${sipPort}>;regint=0;answermode=auto;audio_codecs=${codecs}`;
}

/** A baresip phone: its ctrl_tcp events, its recordings, its log. */
export class Phone extends BaresipProcess {
  static start(o: PhoneOptions): Promise<Phone> {
    return Phone.launch(o, (...spawned) => new Phone(o, ...spawned));
  }

  /** The end of what baresip printed (for failure messages and the checks of the calls tests). */
  override log(): string {
    return super.log().slice(-4000);
  }
}

/** A phone of `user` registered at `t` as a TLS client (clientAccount); resolves once its binding is reachable. */
export async function registeredPhone(
  t: TestGateway,
  o: { user: string; password: string; tone: number; rtpPorts: string; mediaenc: string; codecs: string; answer?: 'auto' | 'manual' },
): Promise<Phone> {
  const p = await Phone.start({ name: o.user, tone: o.tone, rtpPorts: o.rtpPorts, account: clientAccount({ ...o, gatewayPort: t.port('TLS') }) });
  try {
    await registered(t, o.user, 10_000);
  } catch (err) {
    await p.stop();
    throw err;
  }
  return p;
}

/** Waits until `user` has `count` reachable bindings at the gateway (REGISTER_OK may fire before ctrl_tcp is connected). */
export async function registered(t: { gw: { registrar: { locate(aor: string): Array<{ reachable: boolean }>; aorOf(u: string): string } } }, user: string, ms: number, count = 1): Promise<void> {
  const deadline = Date.now() + ms;
  while (t.gw.registrar.locate(t.gw.registrar.aorOf(user)).filter((b) => b.reachable).length < count) {
    if (Date.now() > deadline) throw new Error(`${user} did not register within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** sox's "Rough frequency" and "RMS amplitude" of a recording (PEERS.md "Checking received audio"). */
export async function toneOf(wav: string, startSec = 0.5, seconds = 2): Promise<{ frequency: number; rms: number }> {
  const out = await new Promise<string>((resolve, reject) => {
    execFile('sox', [wav, '-n', 'remix', '1', 'rate', '48k', 'trim', String(startSec), String(seconds), 'stat'], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`sox failed: ${stderr}`));
      else resolve(stdout + stderr);
    });
  });
  const freq = /Rough\s+frequency:\s+(-?\d+)/.exec(out);
  const rms = /RMS\s+amplitude:\s+([\d.]+)/.exec(out);
  return { frequency: freq ? Number(freq[1]) : NaN, rms: rms ? Number(rms[1]) : NaN };
}

/** Waits until `file()` names an existing, non-growing file (baresip finalises WAVs at hangup). */
export async function settledFile(file: () => string | undefined, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  let last = -1;
  for (;;) {
    const f = file();
    if (f !== undefined && fs.existsSync(f)) {
      const size = fs.statSync(f).size;
      if (size === last && size > 44) return f;
      last = size;
    }
    if (Date.now() > deadline) throw new Error('recording not finalised in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A tshark capture on lo, stopped by `stop()`; `count(filter)` reads it back. */
export class Capture {
  private constructor(private readonly child: ChildProcess, readonly file: string) {}

  static async start(filter: string): Promise<Capture> {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cap-')), 'c.pcap');
    const child = spawn('tshark', ['-i', 'lo', '-f', filter, '-w', file, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!err.includes('Capturing on')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`tshark did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return new Capture(child, file);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGINT');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
  }

  /** Packets of the capture matching a display filter. */
  count(displayFilter: string): Promise<number> {
    return new Promise((resolve, reject) => {
      execFile('tshark', ['-r', this.file, '-Y', displayFilter, '-T', 'fields', '-e', 'frame.number'], { timeout: 20_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`tshark read failed: ${stderr}`));
        else resolve(stdout.split('\n').filter((l) => l.trim() !== '').length);
      });
    });
  }

  remove(): void {
    fs.rmSync(path.dirname(this.file), { recursive: true, force: true });
  }
}
