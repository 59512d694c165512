/**
 * A messaging test UA over one TLS connection to the gateway: REGISTER with digest (RFC 3261
 * §10.2, 401), MESSAGE with proxy digest (RFC 3428 §7, 407; later requests reuse the nonce with
 * the next nc, RFC 7616 §3.4), and an automatic answer to every MESSAGE the gateway sends it
 * (200 unless told otherwise), recording what it received. Requests and responses are framed by
 * Content-Length and parsed with the gateway's own parser. Every wait has a deadline.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import tls from 'node:tls';
import { DigestClient } from '../../gateway/sip/digest';
import { serializeNameAddr, serializeVia } from '../../gateway/sip/message/grammar';
import type { SipRequest, SipResponse } from '../../gateway/sip/message/message';
import { parseMessage } from '../../gateway/sip/message/parser';
import { StreamFramer } from '../../gateway/sip/transport/framer';

export interface ReceivedMessage {
  readonly request: SipRequest;
  readonly from: string;
  readonly to: string;
  readonly contentType: string | undefined;
  readonly body: string;
}

export interface UaOptions {
  readonly port: number;
  readonly ca: string | Buffer;
  readonly user: string;
  readonly password: string;
  /** Host of AORs (the gateway's sip.domain) and of the Request-URI of REGISTER. */
  readonly domain: string;
  readonly realm: string;
  /** RFC 5626 instance id (urn:uuid:…); one is generated when absent, none when null. */
  readonly instance?: string | null;
}

export interface SendOptions {
  readonly contentType?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** Request-URI / To host (default the domain). */
  readonly host?: string;
  /** The whole From name-addr (default <sip:user@domain>). */
  readonly from?: string;
}

export class MessagingUa {
  readonly received: ReceivedMessage[] = [];
  /** Status the UA answers incoming MESSAGEs with (may be changed between requests). */
  answerStatus = 200;
  /** When false, incoming MESSAGEs are not answered (kept in `unanswered`: a device that hangs). */
  answering = true;
  readonly unanswered: SipRequest[] = [];
  private readonly framer = new StreamFramer({ maxHeaderBytes: 65535, maxMessageBytes: 1 << 20 });
  private readonly waiting = new Map<string, { resolve: (r: SipResponse) => void; reject: (e: Error) => void }>();
  private readonly listeners: Array<() => void> = [];
  private readonly digest: DigestClient;
  private readonly callId = randomBytes(10).toString('hex');
  private cseq = 0;
  private readonly instance: string | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly o: UaOptions, private readonly socket: tls.TLSSocket) {
    this.digest = new DigestClient({ username: o.user, password: o.password, realm: o.realm });
    this.instance = o.instance === null ? undefined : o.instance ?? `urn:uuid:${randomUUID()}`;
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => {
      // The connection is gone: no pending request will get its answer.
      for (const w of this.waiting.values()) w.reject(new Error(`${o.user}: connection closed`));
      this.waiting.clear();
      resolve();
    }));
  }

  static async connect(o: UaOptions): Promise<MessagingUa> {
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: o.port, ca: o.ca, servername: 'localhost' }, () => resolve(s));
      s.once('error', reject);
    });
    return new MessagingUa(o, socket);
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** REGISTER (answering one 401); resolves with the final status. */
  async register(expires = 600): Promise<number> {
    const uri = `sip:${this.o.domain}`;
    const contact = `<sip:${this.o.user}@127.0.0.1:${this.localPort};transport=tls>` +
      (this.instance !== undefined ? `;+sip.instance="<${this.instance}>";reg-id=1` : '');
    let auth: string[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await this.request('REGISTER', uri, `sip:${this.o.user}@${this.o.domain}`, [
        ['Contact', contact], ['Expires', String(expires)], ['Supported', 'outbound'], ...auth.map((a): [string, string] => ['Authorization', a]),
      ]);
      if (res.status !== 401) return res.status;
      auth = this.digest.respond({ status: 401, challenges: res.headers.getAll('WWW-Authenticate'), method: 'REGISTER', uri }).map((h) => h.value);
    }
    return 401;
  }

  /** Removes this UA's binding (REGISTER with Expires: 0, RFC 3261 §10.2.2). */
  unregister(): Promise<number> {
    return this.register(0);
  }

  /** MESSAGE to `to` (a user or group name); answers one 407. Resolves with the final response. */
  async send(to: string, body: string | Buffer, opts: SendOptions = {}): Promise<SipResponse> {
    const uri = `sip:${to}@${opts.host ?? this.o.domain}`;
    const headers: Array<[string, string]> = [['Content-Type', opts.contentType ?? 'text/plain'], ...(opts.headers ?? []).map(([n, v]): [string, string] => [n, v])];
    // Only proxy credentials (a 407's): the REGISTER's 401 credentials are for the registrar.
    let auth = this.digest.authorize({ method: 'MESSAGE', uri }).filter((h) => h.name === 'Proxy-Authorization').map((h): [string, string] => [h.name, h.value]);
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await this.request('MESSAGE', uri, uri, [...headers, ...auth], Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'), opts.from);
      if (res.status !== 407) return res;
      auth = this.digest.respond({ status: 407, challenges: res.headers.getAll('Proxy-Authenticate'), method: 'MESSAGE', uri, sent: auth.map(([, v]) => v) })
        .map((h): [string, string] => [h.name, h.value]);
    }
    throw new Error('MESSAGE challenged twice');
  }

  /** Resolves once `count` messages were received in all (rejects after `timeoutMs`). */
  async waitReceived(count: number, timeoutMs = 5000): Promise<void> {
    if (this.received.length >= count) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        remove();
        reject(new Error(`${this.o.user}: received ${this.received.length} of ${count} messages within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = (): void => {
        if (this.received.length < count) return;
        clearTimeout(timer);
        remove();
        resolve();
      };
      const remove = (): void => {
        const i = this.listeners.indexOf(check);
        if (i >= 0) this.listeners.splice(i, 1);
      };
      this.listeners.push(check);
    });
  }

  /** Bodies received, in order. */
  bodies(): string[] {
    return this.received.map((m) => m.body);
  }

  /** Answers the MESSAGEs held back while `answering` was false. */
  answerHeld(status = 200): number {
    const held = this.unanswered.splice(0);
    for (const r of held) this.respond(r, status);
    return held.length;
  }

  close(): void {
    this.socket.destroy();
  }

  /** One request on this connection; resolves with its final response (rejects after 10 s). */
  private request(method: string, uri: string, to: string, headers: Array<[string, string]>, body: Buffer = Buffer.alloc(0), from?: string): Promise<SipResponse> {
    const seq = ++this.cseq;
    const branch = `z9hG4bK${randomBytes(8).toString('hex')}`;
    const lines = [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/TLS 127.0.0.1:${this.localPort};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: ${from ?? `<sip:${this.o.user}@${this.o.domain}>`};tag=${randomBytes(4).toString('hex')}`,
      `To: <${to}>`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${seq} ${method}`,
      ...headers.map(([n, v]) => `${n}: ${v}`),
      `Content-Length: ${body.length}`,
      '',
      '',
    ];
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) {
        reject(new Error(`${this.o.user}: connection closed`));
        return;
      }
      const timer = setTimeout(() => {
        this.waiting.delete(`${seq}`);
        reject(new Error(`${this.o.user}: no final response to ${method} within 10 s`));
      }, 10_000);
      this.waiting.set(`${seq}`, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.write(Buffer.concat([Buffer.from(lines.join('\r\n'), 'utf8'), body]));
    });
  }

  /** Frames the stream with the gateway's own Content-Length framer (RFC 3261 §18.3). */
  private onData(d: Buffer): void {
    for (const unit of this.framer.push(d)) {
      if (unit.kind === 'error') throw unit.error;
      if (unit.kind === 'message') {
        const msg = parseMessage(unit.data, { stream: true });
        if (msg.kind === 'response') {
          if (msg.status >= 200) this.waiting.get(`${msg.cseq.seq}`)?.resolve(msg);
          if (msg.status >= 200) this.waiting.delete(`${msg.cseq.seq}`);
        } else {
          this.onRequest(msg);
        }
      }
    }
  }

  private onRequest(req: SipRequest): void {
    if (req.method !== 'MESSAGE') return;
    this.received.push({
      request: req,
      from: serializeNameAddr(req.from),
      to: serializeNameAddr(req.to),
      contentType: req.headers.get('Content-Type'),
      body: req.body.toString('utf8'),
    });
    if (this.answering) this.respond(req, this.answerStatus);
    else this.unanswered.push(req);
    for (const l of [...this.listeners]) l();
  }

  private respond(req: SipRequest, status: number): void {
    const lines = [
      `SIP/2.0 ${status} ${status === 200 ? 'OK' : 'Refused'}`,
      ...this.viaLines(req),
      `From: ${serializeNameAddr(req.from)}`,
      `To: ${serializeNameAddr(req.to)};tag=${randomBytes(4).toString('hex')}`,
      `Call-ID: ${req.callId}`,
      `CSeq: ${req.cseq.seq} ${req.cseq.method}`,
      'Content-Length: 0',
      '',
      '',
    ];
    this.socket.write(lines.join('\r\n'));
  }

  private viaLines(req: SipRequest): string[] {
    return req.via.map((v) => `Via: ${serializeVia(v)}`);
  }
}
