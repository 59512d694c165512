/**
 * A messaging test UA over one TLS connection to the gateway (the shared test UA,
 * test/helpers/sip-ua.ts): REGISTER with digest (RFC 3261 §10.2, 401), MESSAGE with proxy digest
 * (RFC 3428 §7, 407; later requests reuse the nonce with the next nc, RFC 7616 §3.4), and an
 * automatic answer to every MESSAGE the gateway sends it (200 unless told otherwise), recording
 * what it received. Requests are written as text (test/helpers/sip-text.ts), one Call-ID and CSeq
 * space for all of them.
 */
import { randomUUID } from 'node:crypto';
import { serializeNameAddr } from '../../gateway/sip/message/grammar';
import type { SipRequest, SipResponse } from '../../gateway/sip/message/message';
import { randomToken, requestText } from '../helpers/sip-text';
import { SipUa, withDigest } from '../helpers/sip-ua';

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
  private readonly listeners: Array<() => void> = [];
  private readonly callId = randomToken(10);
  private cseq = 0;
  private readonly instance: string | undefined;

  private constructor(readonly o: UaOptions, private readonly sip: SipUa) {
    this.instance = o.instance === null ? undefined : o.instance ?? `urn:uuid:${randomUUID()}`;
    sip.onRequest = (req) => this.onRequest(req);
  }

  static async connect(o: UaOptions): Promise<MessagingUa> {
    return new MessagingUa(o, await SipUa.connect('TLS', o.port, { user: o.user, password: o.password, realm: o.realm, ca: o.ca }));
  }

  get localPort(): number {
    return this.sip.localPort;
  }

  /** Resolves when the connection is closed (by either side). */
  get closed(): Promise<void> {
    return this.sip.closed;
  }

  /** REGISTER (answering one 401); resolves with the final status. */
  async register(expires = 600): Promise<number> {
    const uri = `sip:${this.o.domain}`;
    const contact = `<sip:${this.o.user}@127.0.0.1:${this.localPort};transport=tls>` +
      (this.instance !== undefined ? `;+sip.instance="<${this.instance}>";reg-id=1` : '');
    const res = await withDigest(this.sip.digest, 'REGISTER', uri, (credentials) => this.request('REGISTER', uri, `sip:${this.o.user}@${this.o.domain}`, [
      `Contact: ${contact}`, `Expires: ${expires}`, 'Supported: outbound', ...credentials.map((a) => `${a.name}: ${a.value}`),
    ]));
    return res.status;
  }

  /** Removes this UA's binding (REGISTER with Expires: 0, RFC 3261 §10.2.2). */
  unregister(): Promise<number> {
    return this.register(0);
  }

  /** MESSAGE to `to` (a user or group name); answers one 407. Resolves with the final response. */
  async send(to: string, body: string | Buffer, opts: SendOptions = {}): Promise<SipResponse> {
    const uri = `sip:${to}@${opts.host ?? this.o.domain}`;
    const headers = [`Content-Type: ${opts.contentType ?? 'text/plain'}`, ...(opts.headers ?? []).map(([n, v]) => `${n}: ${v}`)];
    // Only proxy credentials (a 407's): the REGISTER's 401 credentials are for the registrar.
    const cached = this.sip.digest!.authorize({ method: 'MESSAGE', uri }).filter((h) => h.name === 'Proxy-Authorization');
    const res = await withDigest(this.sip.digest, 'MESSAGE', uri, (credentials) =>
      this.request('MESSAGE', uri, uri, [...headers, ...credentials.map((a) => `${a.name}: ${a.value}`)], Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'), opts.from), cached);
    if (res.status === 407) throw new Error('MESSAGE challenged twice');
    return res;
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
    this.sip.close();
  }

  /** One request on this connection; resolves with its final response (rejects after 10 s). */
  private request(method: string, uri: string, to: string, headers: string[], body?: Buffer, from?: string): Promise<SipResponse> {
    const seq = ++this.cseq;
    const final = this.sip.waitResponse((r) => r.cseq.seq === seq && r.status >= 200, 10_000);
    this.sip.send(requestText({
      method, uri, transport: 'TLS', localPort: this.localPort,
      from: `${from ?? `<sip:${this.o.user}@${this.o.domain}>`};tag=${randomToken(4)}`, to: `<${to}>`,
      callId: this.callId, cseq: seq, headers, ...(body !== undefined && { body }),
    }));
    return final;
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
    this.sip.respond(req, status, status === 200 ? 'OK' : 'Refused', { toTag: randomToken(4) });
  }
}
