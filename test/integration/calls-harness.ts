/**
 * Real peers for the calls tests (work/shared/PEERS.md recipes): baresip 1.0 as a secure client of
 * the gateway (TLS, digest, SDES or DTLS-SRTP, ausine tone, sndfile recording, ctrl_tcp control)
 * or as the PBX stand-in (plain UDP/RTP, auto-answer); the gateway in this process with its trunks
 * pointing at the stand-in; sox and tshark checks. Every wait is bounded; `stop()` kills.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

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

/** A TLS client of the gateway. */
export function clientAccount(o: { user: string; password: string; gatewayPort: number; mediaenc: string; codecs: string; answer?: 'auto' | 'manual' }): () => string {
  const gw = `127.0.0.1:${o.gatewayPort}`;
  return () => `<sip:${o.user}@${gw};transport=tls>;auth_pass=${o.password};outbound="sip:${gw};transport=tls";regint=600;sipnat=outbound;` +
    `answermode=${o.answer ?? 'auto'};mediaenc=${o.mediaenc};audio_codecs=${o.codecs}`;
}

/**
 * The PBX stand-in: plain UDP, plain RTP, no registration, auto-answer. baresip takes a call only
 * for its account's user, so the account is the number the test dials off-net.
 */
export function pbxAccount(number: string, codecs = 'PCMA,PCMU'): (sipPort: number) => string {
  return (sipPort) => `<sip:${number}@127.0.0.1:${sipPort}>;regint=0;answermode=auto;audio_codecs=${codecs}`;
}

/**
 * baresip listens on sip_listen's port for UDP and TCP and on the next one for TLS: all must be free.
 * Picked below the kernel's ephemeral range (32768+), where other programs' outgoing connections
 * cannot take the port between our check and baresip's bind.
 */
export async function freeSipPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 21000 + randomInt(0, 4000) * 2;
    if ((await tcpFree(port)) && (await tcpFree(port + 1)) && (await udpFree(port))) return port;
  }
  throw new Error('no free SIP port pair for baresip');
}

/** A TCP port below the ephemeral range (for ctrl_tcp). */
export async function freeLowPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 29000 + randomInt(0, 3000);
    if (await tcpFree(port)) return port;
  }
  throw new Error('no free TCP port');
}

const tcpFree = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  const udpFree = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = dgram.createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });

export class Phone {
  private output = '';
  private ctrl: net.Socket | undefined;
  private ctrlBuffer = '';
  readonly events: Array<{ type: string; param?: string }> = [];
  private listeners: Array<() => void> = [];

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly sipPort: number,
    private readonly child: ChildProcess,
  ) {}

  /** Starts baresip; a port taken meanwhile (another program's bind) is retried with new ports. */
  static async start(o: PhoneOptions): Promise<Phone> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await Phone.startOnce(o);
      } catch (err) {
        if (attempt >= 3 || !String(err).includes('Address already in use')) throw err;
      }
    }
  }

  private static async startOnce(o: PhoneOptions): Promise<Phone> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cg-call-${o.name}-`));
    fs.mkdirSync(path.join(dir, 'rec'));
    const sipPort = await freeSipPort();
    const ctrlPort = await freeLowPort();
    const modules = ['opus.so', 'g711.so', 'g722.so', 'sndfile.so', 'aufile.so', 'ausine.so', 'srtp.so', 'dtls_srtp.so', 'uuid.so'];
    fs.writeFileSync(path.join(dir, 'config'), [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      'module_path /usr/lib/baresip/modules',
      `audio_source ausine,${o.tone}`,
      'audio_player aufile,/dev/null',
      'ausrc_srate 48000',
      'ausrc_channels 2',
      `snd_path ${path.join(dir, 'rec')}`,
      `rtp_ports ${o.rtpPorts}`,
      'statmode_default off',
      ...modules.map((m) => `module ${m}`),
      'module_app account.so',
      'module_app ctrl_tcp.so',
      'module_app menu.so',
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      ...(o.extra ?? []),
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'accounts'), `${o.account(sipPort)}\n`);
    fs.writeFileSync(path.join(dir, 'contacts'), '');
    const child = spawn('baresip', ['-f', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new Phone(o.name, dir, sipPort, child);
    child.stdout?.on('data', (d: Buffer) => (p.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (p.output += d.toString()));
    const deadline = Date.now() + 10_000;
    while (p.ctrl === undefined) {
      try {
        p.ctrl = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ host: '127.0.0.1', port: ctrlPort }, () => resolve(s));
          s.once('error', reject);
        });
      } catch {
        if (Date.now() > deadline || child.exitCode !== null) {
          if (child.exitCode === null) child.kill('SIGKILL');
          fs.rmSync(dir, { recursive: true, force: true });
          throw new Error(`baresip ${o.name} did not start:\n${p.output}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    p.ctrl.on('error', () => undefined);
    p.ctrl.on('data', (d: Buffer) => p.onCtrl(d.toString()));
    return p;
  }

  log(): string {
    return this.output.slice(-4000);
  }

  command(command: string, params = ''): void {
    const body = JSON.stringify({ command, params, token: randomBytes(4).toString('hex') });
    this.ctrl?.write(`${Buffer.byteLength(body)}:${body},`);
  }

  /** The first event of `type` (seen already or to come) within `ms`. */
  waitEvent(type: string, ms: number, match: (param: string) => boolean = () => true): Promise<{ type: string; param?: string }> {
    const find = (): { type: string; param?: string } | undefined => this.events.find((e) => e.type === type && match(e.param ?? ''));
    const seen = find();
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const l = (): void => {
        const e = find();
        if (!e) return;
        clearTimeout(t);
        this.listeners = this.listeners.filter((x) => x !== l);
        resolve(e);
      };
      const t = setTimeout(() => {
        this.listeners = this.listeners.filter((x) => x !== l);
        reject(new Error(`${this.name}: no ${type} within ${ms} ms; events ${this.events.map((e) => e.type).join(',')}\n${this.log()}`));
      }, ms);
      this.listeners.push(l);
    });
  }

  /** The decoded-audio recording of the last call (what this phone received), once finalised. */
  received(): string | undefined {
    const files = fs.readdirSync(path.join(this.dir, 'rec')).filter((n) => n.endsWith('-dec.wav'));
    const f = files.sort().at(-1);
    return f && path.join(this.dir, 'rec', f);
  }

  async stop(): Promise<void> {
    this.command('quit');
    this.ctrl?.destroy();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private onCtrl(text: string): void {
    this.ctrlBuffer += text;
    for (let guard = 0; guard < 1000; guard++) {
      const colon = this.ctrlBuffer.indexOf(':');
      if (colon < 0 || colon > 10) return;
      const len = Number(this.ctrlBuffer.slice(0, colon));
      if (!Number.isInteger(len) || Buffer.byteLength(this.ctrlBuffer) < colon + 2 + len) return;
      const body = Buffer.from(this.ctrlBuffer).subarray(colon + 1, colon + 1 + len).toString();
      this.ctrlBuffer = Buffer.from(this.ctrlBuffer).subarray(colon + 2 + len).toString();
      try {
        const m = JSON.parse(body) as { event?: boolean; type?: string; param?: string };
        if (m.event === true && typeof m.type === 'string') {
          this.events.push({ type: m.type, ...(m.param !== undefined && { param: m.param }) });
          for (const l of [...this.listeners]) l();
        }
      } catch {
        // not JSON
      }
    }
  }
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

export interface LinphoneOptions {
  user: string;
  password: string;
  realm: string;
  domain: string;
  gatewayPort: number;
  /** PEM the client trusts (the gateway's self-signed certificate). */
  rootCaPem: string;
  rtpPorts: string;
}

/**
 * linphonec (Debian linphone-cli 5.1) verifying the server certificate (test/integration/peers/
 * linphone.ts recipe), with SDES-SRTP mandatory and a tone file as its microphone (`play`).
 */
export class Linphone {
  private output = '';

  private constructor(readonly home: string, private readonly child: ChildProcess) {}

  static start(o: LinphoneOptions): Linphone {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-call-linphone-'));
    fs.mkdirSync(path.join(home, '.local', 'share', 'linphone'), { recursive: true });
    const ca = path.join(home, 'root-ca.pem');
    fs.writeFileSync(ca, o.rootCaPem);
    const rc = path.join(home, 'linphonerc');
    fs.writeFileSync(rc, [
      '[sip]', 'sip_port=-1', 'sip_tcp_port=-1', 'sip_tls_port=-1', 'default_proxy=0', `root_ca=${ca}`,
      'verify_server_certs=1', 'verify_server_cn=1', 'media_encryption=srtp', 'media_encryption_mandatory=1', '',
      '[rtp]', `audio_rtp_port=${o.rtpPorts}`, '',
      '[auth_info_0]', `username=${o.user}`, `passwd=${o.password}`, `realm=${o.realm}`, `domain=${o.domain}`, '',
      '[proxy_0]', `reg_proxy=<sip:127.0.0.1:${o.gatewayPort};transport=tls>`, `reg_identity=sip:${o.user}@${o.domain}`,
      'reg_expires=600', 'reg_sendregister=1', 'publish=0', '',
    ].join('\n'));
    const child = spawn('linphonec', ['-c', rc, '-d', '0'], { env: { ...process.env, HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
    const l = new Linphone(home, child);
    child.stdout?.on('data', (d: Buffer) => (l.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (l.output += d.toString()));
    return l;
  }

  log(): string {
    return this.output.slice(-4000);
  }

  command(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  async waitRegistered(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const mark = this.output.length;
      this.command('status register');
      await new Promise((r) => setTimeout(r, 500));
      if (/registered, identity=/.test(this.output.slice(mark))) return true;
    }
    return false;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.command('quit');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}
