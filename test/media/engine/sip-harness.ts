/**
 * Test-only harness for the media integration tests (test/integration/media-*.test.ts): real
 * baresip user agents (work/shared/PEERS.md recipes: headless, ausine tone source, sndfile
 * recording, ctrl_tcp, answermode auto) and a minimal B2BUA over UDP that hands their SDP to the
 * media engine. It is no B2BUA (that is a later issue): one INVITE dialog per side, no
 * retransmission timers (loopback), no authentication. Our own parser reads every message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makeResponse, parseMessage, serializeMessage, tagOf, type SipMessage, type SipRequest } from '../../../gateway/sip/message';
import { parseNameAddr } from '../../../gateway/sip/message/nameaddr';
import { serializeUri } from '../../../gateway/sip/message/uri';
import type { MediaEngine, OfferFlags } from '../../../media/engine';
import { freePort } from '../../integration/peers/ports';
import { waitFor } from './helpers';

export interface UaOptions {
  name: string;
  /** ausine frequency in Hz. */
  tone: number;
  /** baresip mediaenc: 'srtp-mand', 'dtls_srtp', or undefined for plain RTP/AVP. */
  mediaenc?: string;
  rtpPorts: string;
  /** baresip audio_codecs (PEERS.md names: PCMU, PCMA, opus/48000/2); default PCMU. */
  codecs?: string;
}

/** One headless baresip 1.0 with its own config directory. */
export class BaresipUa {
  private output = '';
  private ctrl: net.Socket | undefined;
  readonly events: string[] = [];

  private constructor(
    readonly dir: string,
    readonly sipPort: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(o: UaOptions): Promise<BaresipUa> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cg-media-${o.name}-`));
    fs.mkdirSync(path.join(dir, 'rec'));
    const sipPort = await freeSipPort();
    const ctrlPort = await freePort();
    const modules = ['g711.so', 'opus.so', 'sndfile.so', 'aufile.so', 'ausine.so', 'srtp.so', 'dtls_srtp.so'];
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
      '',
    ].join('\n'));
    const enc = o.mediaenc ? `;mediaenc=${o.mediaenc}` : '';
    fs.writeFileSync(path.join(dir, 'accounts'), `<sip:${o.name}@127.0.0.1:${sipPort}>;regint=0;answermode=auto${enc};audio_codecs=${o.codecs ?? 'PCMU'}\n`);
    fs.writeFileSync(path.join(dir, 'contacts'), '');
    const child = spawn('baresip', ['-f', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const ua = new BaresipUa(dir, sipPort, child);
    child.stdout?.on('data', (d: Buffer) => (ua.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (ua.output += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!ua.ctrl) {
      try {
        ua.ctrl = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ host: '127.0.0.1', port: ctrlPort }, () => resolve(s));
          s.once('error', reject);
        });
      } catch {
        if (Date.now() > deadline || child.exitCode !== null) {
          await ua.stop(); // a half-started baresip must not outlive the test
          ua.remove();
          throw new Error(`baresip ${o.name} did not start:\n${ua.output}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    ua.ctrl.on('error', () => undefined);
    ua.ctrl.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/"type":"([A-Z_]{1,40})"/g)) ua.events.push(m[1]!);
    });
    return ua;
  }

  log(): string {
    return this.output;
  }

  command(command: string, params = ''): void {
    const body = JSON.stringify({ command, params, token: randomBytes(4).toString('hex') });
    this.ctrl?.write(`${Buffer.byteLength(body)}:${body},`);
  }

  /** The decoded-audio recording (what this UA received), finalised when the call ended. */
  received(): string | undefined {
    const f = fs.readdirSync(path.join(this.dir, 'rec')).find((n) => n.endsWith('-dec.wav'));
    return f && path.join(this.dir, 'rec', f);
  }

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
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const rand = (): string => randomBytes(6).toString('hex');

/** baresip listens on sip_listen's port for UDP and TCP, and on the next one for TLS: both must be free. */
async function freeSipPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort();
    const next = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port + 1, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (next && port < 65535) return port;
  }
  throw new Error('no free SIP port pair for baresip');
}

interface Bridged {
  /** The caller's INVITE (dialog A, we are its UAS). */
  invite: SipRequest;
  tagA: string;
  /** Dialog B (we are its UAC). */
  callIdB: string;
  tagB: string;
  remoteTagB: string | undefined;
  uriB: string;
  established: boolean;
  /** Source port of A's INVITE (responses go there under rport). */
  fromPort: number;
}

/**
 * A dials sip:<anything>@127.0.0.1:<harness port>; the harness calls `target`, and bridges the two
 * INVITE dialogs with `engine.offer` / `engine.answer`, and BYE with `engine.delete`.
 */
export class MiniB2bua {
  readonly socket = dgram.createSocket('udp4');
  private call: Bridged | undefined;
  readonly errors: string[] = [];

  constructor(
    private readonly engine: MediaEngine,
    private readonly target: number,
    private readonly flags: OfferFlags,
  ) {
    this.socket.on('message', (data, rinfo) => {
      let msg: SipMessage;
      try {
        msg = parseMessage(data, { stream: false });
      } catch (e) {
        this.errors.push(`unparsable message: ${String(e)}`);
        return;
      }
      this.onMessage(msg, rinfo.port).catch((e: unknown) => this.errors.push(String(e)));
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r));
    return this.socket.address().port;
  }

  get port(): number {
    return this.socket.address().port;
  }

  get callId(): string | undefined {
    return this.call?.invite.callId;
  }

  get established(): boolean {
    return this.call?.established === true;
  }

  /** Ends both dialogs with BYE, as a B2BUA would on a hangup. */
  async hangup(): Promise<void> {
    const c = this.call;
    if (!c) return;
    const a = c.invite;
    const contact = a.contact !== undefined && a.contact !== '*' ? a.contact[0]!.uri : a.from.uri;
    const portA = 'port' in contact && contact.port !== undefined ? contact.port : c.fromPort;
    this.send(this.request('BYE', serializeUri(contact), a.callId, `<sip:h@127.0.0.1>;tag=${c.tagA}`, fmtAddr(a.from), 2), portA);
    this.send(this.request('BYE', c.uriB, c.callIdB, `<sip:h@127.0.0.1:${this.port}>;tag=${c.tagB}`, `<${c.uriB}>;tag=${c.remoteTagB}`, 2), this.target);
    await this.engine.delete(a.callId);
    c.established = false;
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // never bound, or already closed
    }
  }

  private async onMessage(msg: SipMessage, fromPort: number): Promise<void> {
    if (msg.kind === 'request') {
      if (msg.method === 'INVITE' && !this.call) return this.onInvite(msg, fromPort);
      if (msg.method === 'INVITE') return this.reply(msg, 100, 'Trying', fromPort);
      if (msg.method === 'ACK') {
        if (this.call) this.call.established = true;
        return;
      }
      if (msg.method === 'BYE') {
        this.reply(msg, 200, 'OK', fromPort);
        if (this.call?.invite.callId === msg.callId && this.call.established) await this.hangup();
        return;
      }
      return this.reply(msg, 200, 'OK', fromPort);
    }
    const c = this.call;
    if (!c || msg.callId !== c.callIdB || msg.cseq.method !== 'INVITE') return;
    if (msg.status >= 200) {
      c.remoteTagB = tagOf(msg.to);
      const contact = msg.contact !== undefined && msg.contact !== '*' ? serializeUri(msg.contact[0]!.uri) : c.uriB;
      this.send(this.request('ACK', contact, c.callIdB, `<sip:h@127.0.0.1:${this.port}>;tag=${c.tagB}`, `<${c.uriB}>;tag=${c.remoteTagB}`, 1), this.target);
    }
    if (msg.status !== 200) {
      if (msg.status >= 300) this.errors.push(`B refused: ${msg.status}`);
      return;
    }
    const answer = await this.engine.answer(c.invite.callId, tagOf(c.invite.from)!, c.remoteTagB!, msg.body.toString());
    const ok = makeResponse(c.invite, 200, 'OK', c.tagA);
    ok.contact = [parseNameAddr(`<sip:h@127.0.0.1:${this.port}>`)];
    ok.headers.add('Content-Type', 'application/sdp');
    ok.body = Buffer.from(answer);
    this.sendRaw(serializeMessage(ok), viaPort(c.invite, c.fromPort));
  }

  private async onInvite(invite: SipRequest, fromPort: number): Promise<void> {
    const c: Bridged = {
      invite, tagA: rand(), callIdB: rand(), tagB: rand(), remoteTagB: undefined,
      uriB: `sip:b@127.0.0.1:${this.target}`, established: false, fromPort,
    };
    this.call = c;
    this.reply(invite, 100, 'Trying', fromPort);
    const offer = await this.engine.offer(invite.callId, tagOf(invite.from)!, invite.body.toString(), this.flags);
    const req = this.request('INVITE', c.uriB, c.callIdB, `<sip:h@127.0.0.1:${this.port}>;tag=${c.tagB}`, `<${c.uriB}>`, 1, offer);
    this.send(req, this.target);
  }

  private request(method: string, uri: string, callId: string, from: string, to: string, cseq: number, sdp?: string): string {
    const lines = [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bK${rand()};rport`,
      'Max-Forwards: 70',
      `From: ${from}`,
      `To: ${to}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:h@127.0.0.1:${this.port}>`,
    ];
    if (sdp) lines.push('Content-Type: application/sdp');
    lines.push(`Content-Length: ${Buffer.byteLength(sdp ?? '')}`, '', sdp ?? '');
    return lines.join('\r\n');
  }

  private reply(req: SipRequest, status: number, reason: string, port: number): void {
    this.sendRaw(serializeMessage(makeResponse(req, status, reason, status > 100 ? this.call?.tagA : undefined)), viaPort(req, port));
  }

  private send(text: string, port: number): void {
    this.sendRaw(Buffer.from(text), port);
  }

  private sendRaw(data: Buffer, port: number): void {
    this.socket.send(data, port, '127.0.0.1');
  }
}

/** RFC 3261 §18.2.2 / RFC 3581: responses go to the top Via's port (rport, else sent-by). */
function viaPort(req: SipRequest, sourcePort: number): number {
  const v = req.via[0];
  return v?.params.has('rport') ? sourcePort : (v?.port ?? sourcePort);
}

function fmtAddr(a: { uri: Parameters<typeof serializeUri>[0]; params: Map<string, string | null> }): string {
  let s = `<${serializeUri(a.uri)}>`;
  for (const [k, v] of a.params) s += v === null ? `;${k}` : `;${k}=${v}`;
  return s;
}

/** Waits for `ua`'s ctrl_tcp event, bounded. */
export function waitEvent(ua: BaresipUa, type: string, timeoutMs: number): Promise<void> {
  return waitFor(() => ua.events.includes(type), timeoutMs, `baresip event ${type}\n${ua.log().slice(-2000)}`);
}
