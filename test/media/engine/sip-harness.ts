/**
 * Test-only harness for the media integration tests (test/integration/media-*.test.ts): real
 * baresip user agents (work/shared/PEERS.md recipes: headless, ausine tone source, sndfile
 * recording, ctrl_tcp, answermode auto) and a minimal B2BUA over UDP that hands their SDP to the
 * media engine. It is no B2BUA (that is a later issue): one INVITE dialog per side, no
 * retransmission timers (loopback), no authentication. Our own parser reads every message.
 */
import dgram from 'node:dgram';
import { makeResponse, parseMessage, serializeMessage, tagOf, type SipMessage, type SipRequest } from '../../../gateway/sip/message';
import { parseNameAddr } from '../../../gateway/sip/message/nameaddr';
import { serializeUri } from '../../../gateway/sip/message/uri';
import type { MediaEngine, OfferFlags } from '../../../media/engine';
import { BaresipProcess, type BaresipSetup } from '../../helpers/baresip';
import { randomToken, requestText } from '../../helpers/sip-text';

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

/** One headless baresip 1.0 (test/helpers/baresip.ts) with its own config directory, kept after `stop()` for its recording. */
export class BaresipUa extends BaresipProcess {
  static start(o: UaOptions): Promise<BaresipUa> {
    const enc = o.mediaenc ? `;mediaenc=${o.mediaenc}` : '';
    const setup: BaresipSetup = {
      name: o.name, tone: o.tone, rtpPorts: o.rtpPorts, keepFiles: true,
      account: (sipPort) => `<sip:${o.name}@127.0.0.1:${sipPort}>;regint=0;answermode=auto${enc};audio_codecs=${o.codecs ?? 'PCMU'}`,
    };
    return BaresipUa.launch(setup, (...spawned) => new BaresipUa(setup, ...spawned));
  }
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
    this.sendRaw(this.request('BYE', serializeUri(contact), a.callId, `<sip:h@127.0.0.1>;tag=${c.tagA}`, fmtAddr(a.from), 2), portA);
    this.sendRaw(this.request('BYE', c.uriB, c.callIdB, `<sip:h@127.0.0.1:${this.port}>;tag=${c.tagB}`, `<${c.uriB}>;tag=${c.remoteTagB}`, 2), this.target);
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
      this.sendRaw(this.request('ACK', contact, c.callIdB, `<sip:h@127.0.0.1:${this.port}>;tag=${c.tagB}`, `<${c.uriB}>;tag=${c.remoteTagB}`, 1), this.target);
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
      invite, tagA: randomToken(), callIdB: randomToken(), tagB: randomToken(), remoteTagB: undefined,
      uriB: `sip:b@127.0.0.1:${this.target}`, established: false, fromPort,
    };
    this.call = c;
    this.reply(invite, 100, 'Trying', fromPort);
    const offer = await this.engine.offer(invite.callId, tagOf(invite.from)!, invite.body.toString(), this.flags);
    const req = this.request('INVITE', c.uriB, c.callIdB, `<sip:h@127.0.0.1:${this.port}>;tag=${c.tagB}`, `<${c.uriB}>`, 1, offer);
    this.sendRaw(req, this.target);
  }

  private request(method: string, uri: string, callId: string, from: string, to: string, cseq: number, sdp?: string): Buffer {
    const headers = [`Contact: <sip:h@127.0.0.1:${this.port}>`, ...(sdp ? ['Content-Type: application/sdp'] : [])];
    return requestText({ method, uri, transport: 'UDP', localPort: this.port, from, to, callId, cseq, headers, ...(sdp !== undefined && { body: sdp }) });
  }

  private reply(req: SipRequest, status: number, reason: string, port: number): void {
    this.sendRaw(serializeMessage(makeResponse(req, status, reason, status > 100 ? this.call?.tagA : undefined)), viaPort(req, port));
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

/** Waits for `ua`'s ctrl_tcp event (seen already or to come), bounded. */
export async function waitEvent(ua: BaresipUa, type: string, timeoutMs: number): Promise<void> {
  await ua.waitEvent(type, timeoutMs);
}
