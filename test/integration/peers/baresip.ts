/**
 * baresip 1.0.0 (Debian) as a real SIP-over-TLS client, headless: one config directory per
 * instance, an `accounts` line per work/shared/PEERS.md, and the ctrl_tcp module for control
 * (netstring-framed JSON commands in, events such as REGISTER_OK out).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';

export interface BaresipEvent {
  type?: string;
  class?: string;
  param?: string;
  accountaor?: string;
  [key: string]: unknown;
}

export interface BaresipOptions {
  user: string;
  password: string;
  /** The gateway's TLS listener. */
  gatewayPort: number;
  /** Registration interval asked for (seconds). Default 600. */
  regint?: number;
  /** RFC 5626 outbound (sipnat=outbound: +sip.instance, reg-id, keep-alives, flow recovery). Default true. */
  outbound?: boolean;
}

/** The `accounts` line of PEERS.md for a TLS client of the gateway. */
export function accountLine(o: BaresipOptions): string {
  const gw = `127.0.0.1:${o.gatewayPort}`;
  return `<sip:${o.user}@${gw};transport=tls>;auth_pass=${o.password};outbound="sip:${gw};transport=tls";` +
    `regint=${o.regint ?? 600}${o.outbound === false ? '' : ';sipnat=outbound'}`;
}

export class Baresip {
  readonly events: BaresipEvent[] = [];
  private output = '';
  private ctrl: net.Socket | undefined;
  private ctrlBuffer = Buffer.alloc(0);
  private listeners: Array<(e: BaresipEvent) => void> = [];

  private constructor(
    readonly dir: string,
    readonly child: ChildProcess,
    readonly ctrlPort: number,
    readonly options: BaresipOptions,
  ) {}

  /** The account's AOR as baresip names it in events. */
  get aor(): string {
    return `sip:${this.options.user}@127.0.0.1:${this.options.gatewayPort}`;
  }

  /**
   * Registers again now: baresip 1.0 has no re-register command, so the user agent is deleted and
   * created anew from the same account line (a new REGISTER with the same credentials).
   */
  reRegister(): void {
    this.command('uadel', this.aor);
    this.command('uanew', accountLine(this.options));
  }

  static async start(o: BaresipOptions): Promise<Baresip> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-baresip-'));
    const sipPort = await freePort();
    const ctrlPort = await freePort();
    fs.writeFileSync(path.join(dir, 'config'), [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      'module_path /usr/lib/baresip/modules',
      'module uuid.so',
      'module_app account.so',
      'module_app ctrl_tcp.so',
      'module_app menu.so',
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      'statmode_default off',
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'accounts'), `${accountLine(o)}\n`);
    fs.writeFileSync(path.join(dir, 'contacts'), '');
    const child = spawn('baresip', ['-f', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    const b = new Baresip(dir, child, ctrlPort, o);
    child.stdout?.on('data', (d: Buffer) => (b.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (b.output += d.toString()));
    await b.connectCtrl(10_000);
    return b;
  }

  /** Everything baresip printed (for failure messages). */
  log(): string {
    return this.output;
  }

  /** Resolves with the first event (from now on, or already seen when `past`) that matches. */
  waitEvent(match: (e: BaresipEvent) => boolean, timeoutMs: number, past = false): Promise<BaresipEvent> {
    const seen = past ? this.events.find(match) : undefined;
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new Error(`baresip: no matching event within ${timeoutMs} ms; events: ${JSON.stringify(this.events.map((e) => e.type))}\n${this.output.slice(-3000)}`));
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

  /** Sends a ctrl_tcp command (e.g. "reginfo"). */
  command(command: string, params = ''): void {
    const body = JSON.stringify({ command, params, token: String(Date.now()) });
    this.ctrl?.write(`${Buffer.byteLength(body)}:${body},`);
  }

  async stop(): Promise<void> {
    this.ctrl?.destroy();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async connectCtrl(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        this.ctrl = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ host: '127.0.0.1', port: this.ctrlPort }, () => resolve(s));
          s.once('error', reject);
        });
        break;
      } catch (err) {
        if (Date.now() > deadline || this.child.exitCode !== null) {
          throw new Error(`baresip ctrl_tcp not reachable\n${this.output}`, { cause: err });
        }
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
