/**
 * baresip 1.0.0 (Debian), headless, as the tests drive it (work/shared/PEERS.md): one config
 * directory per instance, its `accounts` line from the caller, the ctrl_tcp module for control
 * (netstring-framed JSON commands in, events such as REGISTER_OK or CALL_ESTABLISHED out) and, for
 * a phone, an ausine tone as microphone and sndfile recordings of what it heard. Every wait is
 * bounded; `stop()` ends the process (SIGKILL when it does not quit), `remove()` its directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freeLowPort, freeSipPort } from './ports';

export interface BaresipEvent {
  type?: string;
  class?: string;
  param?: string;
  accountaor?: string;
  [key: string]: unknown;
}

export interface BaresipSetup {
  /** Names the config directory and the errors. */
  readonly name: string;
  /** The `accounts` line, given the port baresip listens on for SIP. */
  readonly account: (sipPort: number) => string;
  /** The `contacts` file (the `message` command sends to the current contact). */
  readonly contacts?: string;
  /** A phone: ausine at this frequency (Hz) as microphone, recordings in rec/, RTP in `rtpPorts`. */
  readonly tone?: number;
  readonly rtpPorts?: string;
  /** More `module` and `module_app` lines, and lines at the end of the config. */
  readonly modules?: readonly string[];
  readonly appModules?: readonly string[];
  readonly extra?: readonly string[];
  /** `stop()` keeps the directory (recordings read after the process ended); `remove()` deletes it. */
  readonly keepFiles?: boolean;
}

const PHONE_MODULES = ['opus.so', 'g711.so', 'g722.so', 'sndfile.so', 'aufile.so', 'ausine.so', 'srtp.so', 'dtls_srtp.so'];

function config(o: BaresipSetup, dir: string, sipPort: number, ctrlPort: number): string {
  const phone = o.tone === undefined ? [] : [
    `audio_source ausine,${o.tone}`,
    'audio_player aufile,/dev/null',
    'ausrc_srate 48000',
    'ausrc_channels 2',
    `snd_path ${path.join(dir, 'rec')}`,
    ...(o.rtpPorts === undefined ? [] : [`rtp_ports ${o.rtpPorts}`]),
  ];
  const modules = [...(o.tone === undefined ? [] : PHONE_MODULES), 'uuid.so', ...(o.modules ?? [])];
  return [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${sipPort}`,
    'net_interface 127.0.0.1',
    'module_path /usr/lib/baresip/modules',
    ...phone,
    'statmode_default off',
    ...modules.map((m) => `module ${m}`),
    'module_app account.so',
    ...(o.appModules ?? []).map((m) => `module_app ${m}`),
    'module_app ctrl_tcp.so',
    'module_app menu.so',
    `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
    ...(o.extra ?? []),
    '',
  ].join('\n');
}

export class BaresipProcess {
  readonly events: BaresipEvent[] = [];
  private output = '';
  private ctrl: net.Socket | undefined;
  private ctrlBuffer = Buffer.alloc(0);
  private listeners: Array<(e: BaresipEvent) => void> = [];

  /** Wraps a spawned process; `launch` is how one is started. */
  constructor(
    readonly setup: BaresipSetup,
    readonly dir: string,
    readonly sipPort: number,
    private readonly child: ChildProcess,
  ) {}

  get name(): string {
    return this.setup.name;
  }

  /**
   * Starts baresip and connects to its ctrl_tcp; a port taken meanwhile (another program's bind)
   * is retried with new ports. `make` builds the subclass's instance around the process.
   */
  protected static async launch<T extends BaresipProcess>(o: BaresipSetup, make: (dir: string, sipPort: number, child: ChildProcess) => T): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await BaresipProcess.launchOnce(o, make);
      } catch (err) {
        if (attempt >= 3 || !String(err).includes('Address already in use')) throw err;
      }
    }
  }

  private static async launchOnce<T extends BaresipProcess>(o: BaresipSetup, make: (dir: string, sipPort: number, child: ChildProcess) => T): Promise<T> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cg-baresip-${o.name}-`));
    if (o.tone !== undefined) fs.mkdirSync(path.join(dir, 'rec'));
    const sipPort = await freeSipPort();
    const ctrlPort = await freeLowPort();
    fs.writeFileSync(path.join(dir, 'config'), config(o, dir, sipPort, ctrlPort));
    fs.writeFileSync(path.join(dir, 'accounts'), `${o.account(sipPort)}\n`);
    fs.writeFileSync(path.join(dir, 'contacts'), o.contacts ?? '');
    const child = spawn('baresip', ['-f', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    const b = make(dir, sipPort, child);
    child.stdout?.on('data', (d: Buffer) => (b.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (b.output += d.toString()));
    try {
      await b.connectCtrl(ctrlPort, 10_000);
    } catch (err) {
      await b.stop(); // a half-started baresip must not outlive the test
      b.remove();
      throw err;
    }
    return b;
  }

  /** Everything baresip printed. */
  log(): string {
    return this.output;
  }

  /** Sends a ctrl_tcp command (e.g. "dial", "hangup", "reginfo"). */
  command(command: string, params = ''): void {
    const body = JSON.stringify({ command, params, token: randomBytes(4).toString('hex') });
    this.ctrl?.write(`${Buffer.byteLength(body)}:${body},`);
  }

  /** The first event of `type` (seen already or to come) that matches, within `timeoutMs`. */
  waitEvent(type: string, timeoutMs: number, match: (e: BaresipEvent) => boolean = () => true): Promise<BaresipEvent> {
    return this.event((e) => e.type === type && match(e), timeoutMs, true);
  }

  /** The first event from now on that matches, within `timeoutMs`. */
  nextEvent(match: (e: BaresipEvent) => boolean, timeoutMs: number): Promise<BaresipEvent> {
    return this.event(match, timeoutMs, false);
  }

  /** Resolves when the output (stdout/stderr) matches; rejects with the output after `timeoutMs`. */
  async waitOutput(re: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.output)) {
      if (Date.now() > deadline) throw new Error(`baresip ${this.name}: no ${String(re)} within ${timeoutMs} ms:\n${this.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The decoded-audio recording of the last call (what this phone heard), once the call ended. */
  received(): string | undefined {
    const rec = path.join(this.dir, 'rec');
    const f = fs.readdirSync(rec).filter((n) => n.endsWith('-dec.wav')).sort().at(-1);
    return f && path.join(rec, f);
  }

  /** Asks baresip to quit (SIGTERM before ctrl_tcp is up), SIGKILL after 3 s; then removes the directory unless `keepFiles`. */
  async stop(): Promise<void> {
    if (this.ctrl) this.command('quit');
    else this.child.kill('SIGTERM');
    this.ctrl?.destroy();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    if (this.setup.keepFiles !== true) this.remove();
  }

  /** Removes the config directory (and the recordings). */
  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private event(match: (e: BaresipEvent) => boolean, timeoutMs: number, past: boolean): Promise<BaresipEvent> {
    const seen = past ? this.events.find(match) : undefined;
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new Error(`baresip ${this.name}: no matching event within ${timeoutMs} ms; events ${this.events.map((e) => e.type).join(',')}\n${this.output.slice(-3000)}`));
      }, timeoutMs);
      const listener = (e: BaresipEvent): void => {
        if (!match(e)) return;
        clearTimeout(t);
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve(e);
      };
      this.listeners.push(listener);
    });
  }

  private async connectCtrl(port: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.ctrl === undefined) {
      try {
        this.ctrl = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
          s.once('error', reject);
        });
      } catch (err) {
        if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`baresip ${this.name} did not start:\n${this.output}`, { cause: err });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.ctrl.on('error', () => undefined);
    this.ctrl.on('data', (d: Buffer) => this.onCtrlData(d));
  }

  /** netstring: <length>:<bytes>, */
  private onCtrlData(d: Buffer): void {
    this.ctrlBuffer = Buffer.concat([this.ctrlBuffer, d]);
    for (let guard = 0; guard < 1000; guard++) {
      const colon = this.ctrlBuffer.indexOf(':');
      if (colon < 0 || colon > 10) return;
      const len = Number(this.ctrlBuffer.subarray(0, colon).toString());
      if (!Number.isInteger(len) || this.ctrlBuffer.length < colon + 1 + len + 1) return;
      const body = this.ctrlBuffer.subarray(colon + 1, colon + 1 + len).toString();
      this.ctrlBuffer = this.ctrlBuffer.subarray(colon + 2 + len);
      try {
        const msg = JSON.parse(body) as BaresipEvent & { event?: boolean };
        if (msg.event === true) {
          this.events.push(msg);
          for (const l of [...this.listeners]) l(msg);
        }
      } catch {
        // not JSON: ignore
      }
    }
  }
}
