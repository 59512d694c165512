/**
 * baresip 1.0.0 (Debian) as a messaging peer: the registrar's recipe (test/integration/peers/
 * baresip.ts: TLS client, digest, RFC 5626 outbound, ctrl_tcp) plus the contact module, because
 * its `message` command ("/message TEXT") sends a SIP MESSAGE to the current contact. A received
 * MESSAGE is printed by the menu module as `<from uri>: "<text>"`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../integration/peers/ports';

export interface BaresipPeerOptions {
  user: string;
  password: string;
  gatewayPort: number;
  /** The contact `message` sends to, e.g. sip:bob@127.0.0.1. */
  contact: string;
}

export class BaresipPeer {
  private output = '';
  private ctrl: net.Socket | undefined;
  private ctrlData = '';

  private constructor(readonly dir: string, readonly child: ChildProcess, readonly ctrlPort: number) {}

  static async start(o: BaresipPeerOptions): Promise<BaresipPeer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-baresip-msg-'));
    const sipPort = await freePort();
    const ctrlPort = await freePort();
    fs.writeFileSync(path.join(dir, 'config'), [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      'module_path /usr/lib/baresip/modules',
      'module uuid.so',
      // The menu prints a received MESSAGE through the UI modules: stdio makes it reach stdout.
      'module stdio.so',
      'module_app account.so',
      'module_app contact.so',
      'module_app ctrl_tcp.so',
      'module_app menu.so',
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      'statmode_default off',
      '',
    ].join('\n'));
    const gw = `127.0.0.1:${o.gatewayPort}`;
    fs.writeFileSync(path.join(dir, 'accounts'),
      `<sip:${o.user}@${gw};transport=tls>;auth_pass=${o.password};outbound="sip:${gw};transport=tls";regint=600;sipnat=outbound\n`);
    fs.writeFileSync(path.join(dir, 'contacts'), `"peer" <${o.contact}>\n`);
    const child = spawn('baresip', ['-f', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    const b = new BaresipPeer(dir, child, ctrlPort);
    child.stdout?.on('data', (d: Buffer) => (b.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (b.output += d.toString()));
    await b.connectCtrl(10_000);
    return b;
  }

  log(): string {
    return this.output;
  }

  /** ctrl_tcp command (netstring-framed JSON). */
  command(command: string, params = ''): void {
    const body = JSON.stringify({ command, params, token: String(Date.now()) });
    this.ctrl?.write(`${Buffer.byteLength(body)}:${body},`);
  }

  /** Sends a SIP MESSAGE with `text` to the configured contact. */
  message(text: string): void {
    this.command('message', text);
  }

  /** Everything ctrl_tcp sent back (responses and events), as text. */
  ctrlLog(): string {
    return this.ctrlData;
  }

  /** Resolves when the output (stdout/stderr) matches; rejects with the output after `timeoutMs`. */
  async waitOutput(re: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.output)) {
      if (Date.now() > deadline) throw new Error(`baresip: no ${String(re)} within ${timeoutMs} ms:\n${this.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
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
        if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`baresip ctrl_tcp not reachable: ${String(err)}\n${this.output}`, { cause: err });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.ctrl.on('error', () => undefined);
    this.ctrl.on('data', (d: Buffer) => {
      if (this.ctrlData.length < 1_000_000) this.ctrlData += d.toString();
    });
  }
}
