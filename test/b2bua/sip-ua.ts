/**
 * A scriptable SIP endpoint for the B2BUA tests: a device over TLS (one connection to the
 * gateway, over which it registers and receives its calls, like baresip) or a PBX stand-in on UDP.
 * Messages are the gateway's own model (parser, serializer); every wait has a deadline.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { DigestClient } from '../../gateway/sip/digest';
import { parseUri, serializeUri } from '../../gateway/sip/message/grammar';
import { HeaderList, makeResponse, SipRequest, tagOf, type SipMessage, type SipResponse } from '../../gateway/sip/message/message';
import { parseMessage } from '../../gateway/sip/message/parser';
import { serializeMessage } from '../../gateway/sip/message/serializer';
import type { NameAddr } from '../../gateway/sip/message/types';
import { StreamFramer } from '../../gateway/sip/transport/framer';

export const rand = (n = 6): string => randomBytes(n).toString('hex');

interface Waiter<T> {
  match: (m: T) => boolean;
  resolve: (m: T) => void;
}

export class SipUa {
  readonly requests: SipRequest[] = [];
  readonly responses: SipResponse[] = [];
  private reqWaiters: Waiter<SipRequest>[] = [];
  private resWaiters: Waiter<SipResponse>[] = [];
  private readonly framer = new StreamFramer({ maxHeaderBytes: 65535, maxMessageBytes: 1 << 20 });
  /** Answer every incoming request of these methods with 200 at once (BYE, INFO, UPDATE...). */
  autoAnswer = new Set<string>(['BYE', 'OPTIONS']);
  readonly digest: DigestClient | undefined;
  readonly tag = rand();

  private constructor(
    readonly protocol: 'TLS' | 'TCP' | 'UDP',
    readonly localPort: number,
    private readonly write: (d: Buffer) => void,
    private readonly destroy: () => void,
    readonly user: string,
    password: string | undefined,
    public gatewayPort: number,
  ) {
    this.digest = password === undefined ? undefined : new DigestClient({ username: user, password });
  }

  static async tls(gatewayPort: number, user: string, password: string, protocol: 'TLS' | 'TCP' = 'TLS'): Promise<SipUa> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s: net.Socket = protocol === 'TLS'
        ? tls.connect({ host: '127.0.0.1', port: gatewayPort, rejectUnauthorized: false }, () => resolve(s))
        // From 127.0.0.2: 127.0.0.1 is the trunks' address in the lab (UDP trunks are identified over TCP too).
        : net.connect({ host: '127.0.0.1', port: gatewayPort, localAddress: '127.0.0.2' }, () => resolve(s));
      s.once('error', reject);
    });
    socket.on('error', () => undefined);
    const ua = new SipUa(protocol, socket.localPort ?? 0, (d) => socket.write(d), () => socket.destroy(), user, password, gatewayPort);
    socket.on('data', (d: Buffer) => ua.onStream(d));
    return ua;
  }

  /** A PBX stand-in on UDP: requests go to the gateway's UDP port. */
  static async udp(gatewayPort: number, user = 'pbx'): Promise<SipUa> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const ua: SipUa = new SipUa('UDP', sock.address().port, (d) => sock.send(d, ua.gatewayPort, '127.0.0.1'), () => sock.close(), user, undefined, gatewayPort);
    sock.on('message', (m) => ua.deliver(parseMessage(m, { stream: false })));
    return ua;
  }

  get contact(): NameAddr {
    const t = this.protocol === 'UDP' ? '' : `;transport=${this.protocol.toLowerCase()}`;
    return { uri: parseUri(`sip:${this.user}@127.0.0.1:${this.localPort}${t}`), params: new Map() };
  }

  send(msg: SipMessage): void {
    this.write(serializeMessage(msg));
  }

  close(): void {
    this.destroy();
  }

  /** A new request outside any dialog (or inside, when `to` carries a tag). */
  request(method: string, uri: string, o: { to?: NameAddr; from?: NameAddr; callId?: string; cseq?: number; headers?: Array<[string, string]>; sdp?: string; body?: Buffer; contentType?: string } = {}): SipRequest {
    const headers = new HeaderList();
    for (const [n, v] of o.headers ?? []) headers.add(n, v);
    const body = o.sdp !== undefined ? Buffer.from(o.sdp) : o.body ?? Buffer.alloc(0);
    if (body.length > 0) headers.add('Content-Type', o.sdp !== undefined ? 'application/sdp' : o.contentType ?? 'text/plain');
    return new SipRequest({
      method,
      uri: parseUri(uri),
      via: [{ protocol: 'SIP/2.0', transport: this.protocol, host: '127.0.0.1', port: this.localPort, params: new Map<string, string | null>([['branch', 'z9hG4bK' + rand(8)], ['rport', null]]) }],
      from: o.from ?? { uri: parseUri(`sip:${this.user}@127.0.0.1`), params: new Map([['tag', this.tag]]) },
      to: o.to ?? { uri: parseUri(uri), params: new Map() },
      callId: o.callId ?? rand(10),
      cseq: { seq: o.cseq ?? 1, method },
      maxForwards: 70,
      contact: [this.contact],
      headers,
      body,
    });
  }

  /** Sends a request and answers one 401/407 with the UA's credentials; resolves with the final response. */
  async transact(req: SipRequest, timeoutMs = 5000): Promise<SipResponse> {
    this.send(req);
    let res = await this.finalFor(req, timeoutMs);
    if ((res.status === 401 || res.status === 407) && this.digest !== undefined) {
      const auth = this.digest.respond({
        status: res.status,
        challenges: res.headers.getAll(res.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate'),
        method: req.method,
        uri: serializeUri(req.uri),
      });
      req.cseq = { ...req.cseq, seq: req.cseq.seq + 1 };
      req.via[0]!.params.set('branch', 'z9hG4bK' + rand(8));
      for (const a of auth) req.headers.add(a.name, a.value);
      this.send(req);
      res = await this.finalFor(req, timeoutMs);
    }
    return res;
  }

  async register(expires = 600): Promise<SipResponse> {
    const req = this.request('REGISTER', 'sip:127.0.0.1', {
      to: { uri: parseUri(`sip:${this.user}@127.0.0.1`), params: new Map() },
      headers: [['Expires', String(expires)]],
    });
    return this.transact(req);
  }

  /** Every response to `req` (same Call-ID and CSeq) that matches. */
  waitResponseTo(req: SipRequest, match: (r: SipResponse) => boolean, timeoutMs = 5000): Promise<SipResponse> {
    return this.waitResponse((r) => r.callId === req.callId && r.cseq.seq === req.cseq.seq && r.cseq.method === req.cseq.method && match(r), timeoutMs);
  }

  finalFor(req: SipRequest, timeoutMs = 5000): Promise<SipResponse> {
    return this.waitResponseTo(req, (r) => r.status >= 200, timeoutMs);
  }

  waitResponse(match: (r: SipResponse) => boolean, timeoutMs = 5000): Promise<SipResponse> {
    return this.wait(this.responses, this.resWaiters, match, timeoutMs, 'response');
  }

  waitRequest(method: string, timeoutMs = 5000, match: (r: SipRequest) => boolean = () => true): Promise<SipRequest> {
    return this.wait(this.requests, this.reqWaiters, (r) => r.method === method && match(r), timeoutMs, method);
  }

  /** No request of `method` arrives within `ms`. */
  async expectNoRequest(method: string, ms: number): Promise<void> {
    const r = await this.waitRequest(method, ms).catch(() => undefined);
    if (r !== undefined) throw new Error(`unexpected ${method}`);
  }

  /** Responds to a request (To tag `toTag` or the UA's own; Contact on 1xx/2xx to INVITE). */
  respond(req: SipRequest, status: number, reason: string, o: { sdp?: string; headers?: Array<[string, string]>; toTag?: string } = {}): SipResponse {
    const res = makeResponse(req, status, reason, tagOf(req.to) === undefined && status > 100 ? o.toTag ?? this.tag : undefined);
    if (req.method === 'INVITE' && status > 100 && status < 300) res.contact = [this.contact];
    for (const [n, v] of o.headers ?? []) res.headers.add(n, v);
    if (o.sdp !== undefined) {
      res.headers.add('Content-Type', 'application/sdp');
      res.body = Buffer.from(o.sdp);
    }
    this.send(res);
    return res;
  }

  /** A request inside the dialog this UA has with the gateway, from a message of it (§12.2.1.1, simplified: no route set). */
  inDialog(method: string, dialog: { callId: string; local: NameAddr; remote: NameAddr; target: string }, cseq: number, o: { sdp?: string; headers?: Array<[string, string]>; body?: Buffer; contentType?: string } = {}): SipRequest {
    return this.request(method, dialog.target, { from: dialog.local, to: dialog.remote, callId: dialog.callId, cseq, ...o });
  }

  private wait<T>(queue: T[], waiters: Waiter<T>[], match: (m: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const i = queue.findIndex(match);
    if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w: Waiter<T> = {
        match,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      };
      const t = setTimeout(() => {
        const k = waiters.indexOf(w);
        if (k >= 0) waiters.splice(k, 1);
        reject(new Error(`${this.user}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.push(w);
    });
  }

  private deliver(msg: SipMessage): void {
    if (msg.kind === 'request') {
      if (this.autoAnswer.has(msg.method)) this.respond(msg, 200, 'OK');
      const w = this.reqWaiters.find((x) => x.match(msg));
      if (w) {
        this.reqWaiters.splice(this.reqWaiters.indexOf(w), 1);
        w.resolve(msg);
      } else this.requests.push(msg);
      return;
    }
    const w = this.resWaiters.find((x) => x.match(msg));
    if (w) {
      this.resWaiters.splice(this.resWaiters.indexOf(w), 1);
      w.resolve(msg);
    } else this.responses.push(msg);
  }

  /** Frames the stream with the gateway's own Content-Length framer (RFC 3261 §18.3). */
  private onStream(d: Buffer): void {
    for (const unit of this.framer.push(d)) {
      if (unit.kind === 'error') throw unit.error;
      if (unit.kind === 'message') {
        this.deliver(parseMessage(unit.data, { stream: true }));
      }
    }
  }
}

/** The dialog a UAS-side test UA has after answering `invite` with its tag. */
export function uasDialog(invite: SipRequest, tag: string): { callId: string; local: NameAddr; remote: NameAddr; target: string } {
  const contact = invite.contact === undefined || invite.contact === '*' ? undefined : invite.contact[0];
  return {
    callId: invite.callId,
    local: { ...invite.to, params: new Map([['tag', tag]]) },
    remote: invite.from,
    target: contact === undefined ? serializeUri(invite.uri) : serializeUri(contact.uri),
  };
}

/** The dialog a UAC-side test UA has after the 2xx. */
export function uacDialog(invite: SipRequest, ok: SipResponse): { callId: string; local: NameAddr; remote: NameAddr; target: string } {
  const contact = ok.contact === undefined || ok.contact === '*' ? undefined : ok.contact[0];
  return { callId: invite.callId, local: invite.from, remote: ok.to, target: contact === undefined ? serializeUri(invite.uri) : serializeUri(contact.uri) };
}

/** A SDES-SRTP offer/answer (RFC 4568) with PCMU and telephone-event, a fresh key. */
export function srtpSdp(port: number, version = 1, direction = 'sendrecv'): string {
  const key = randomBytes(30).toString('base64');
  return [
    'v=0', `o=- 1000 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/SAVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16',
    `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}`, `a=${direction}`, '',
  ].join('\r\n');
}

/** An SDES answer to `offer` (RFC 4568 §7.1.2): its AES_CM_128_HMAC_SHA1_80 line's tag, a key of ours. */
export function srtpAnswer(offer: string, port: number, version = 1, direction = 'sendrecv'): string {
  const m = /a=crypto:(\d{1,3}) AES_CM_128_HMAC_SHA1_80 /.exec(offer);
  if (m === null) throw new Error('offer has no AES_CM_128_HMAC_SHA1_80');
  return srtpSdp(port, version, direction).replace('a=crypto:1 ', `a=crypto:${m[1]} `);
}

/** A plain RTP/AVP description (a PBX): PCMA, PCMU and telephone-event. */
export function rtpSdp(port: number, version = 1, direction = 'sendrecv'): string {
  return [
    'v=0', `o=pbx 2000 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 8 0 101`, 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000',
    `a=${direction}`, '',
  ].join('\r\n');
}

/** A DTLS-SRTP description (RFC 5763): what pass-through relays untouched. */
export function dtlsSdp(port: number, setup: 'actpass' | 'active' = 'actpass'): string {
  const fp = Array.from(randomBytes(32)).map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
  return [
    'v=0', 'o=- 3000 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} UDP/TLS/RTP/SAVP 0`, 'a=rtpmap:0 PCMU/8000', `a=fingerprint:sha-256 ${fp}`, `a=setup:${setup}`, 'a=sendrecv', '',
  ].join('\r\n');
}
