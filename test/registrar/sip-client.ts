/**
 * A hand-written SIP client for the registrar tests: one socket (TLS, TCP or UDP on loopback),
 * requests written as text, responses framed (Content-Length) and parsed with the gateway's own
 * parser. Every wait has a deadline.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { DigestClient } from '../../gateway/sip/digest';
import type { SipResponse } from '../../gateway/sip/message/message';
import { serializeNameAddr } from '../../gateway/sip/message/grammar';
import { parseMessage } from '../../gateway/sip/message/parser';
import { StreamFramer } from '../../gateway/sip/transport/framer';

export type ClientProtocol = 'TLS' | 'TCP' | 'UDP';

export interface TlsClientOptions {
  ca?: string | Buffer;
  cert?: string;
  key?: string;
}

export class SipTestClient {
  private readonly framer = new StreamFramer({ maxHeaderBytes: 65535, maxMessageBytes: 1 << 20 });
  private readonly queue: SipResponse[] = [];
  private waiter: ((r: SipResponse) => void) | undefined;
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
  private markClosed: () => void = () => undefined;
  isClosed = false;

  private constructor(
    readonly protocol: ClientProtocol,
    readonly localPort: number,
    private readonly write: (data: Buffer) => void,
    private readonly destroy: () => void,
  ) {
    this.closed = new Promise((resolve) => {
      this.markClosed = () => {
        this.isClosed = true;
        resolve();
      };
    });
  }

  static async connect(protocol: ClientProtocol, port: number, opts: TlsClientOptions = {}): Promise<SipTestClient> {
    if (protocol === 'UDP') {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
      const c = new SipTestClient('UDP', sock.address().port, (d) => sock.send(d, port, '127.0.0.1'), () => sock.close());
      sock.on('message', (m) => c.deliver(parseMessage(m, { stream: false }) as SipResponse));
      sock.on('close', () => c.markClosed());
      return c;
    }
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s: net.Socket =
        protocol === 'TLS'
          ? tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: opts.ca, cert: opts.cert, key: opts.key }, () => resolve(s))
          : net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    socket.on('error', () => undefined);
    const c = new SipTestClient(protocol, socket.localPort ?? 0, (d) => socket.write(d), () => socket.destroy());
    socket.on('data', (d: Buffer) => c.onStreamData(d));
    socket.on('close', () => c.markClosed());
    return c;
  }

  send(text: string): void {
    this.write(Buffer.from(text, 'utf8'));
  }

  /** The next response; rejects after `timeoutMs`. */
  next(timeoutMs = 3000): Promise<SipResponse> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error('no SIP response within ' + timeoutMs + ' ms'));
      }, timeoutMs);
      this.waiter = (r) => {
        clearTimeout(t);
        resolve(r);
      };
    });
  }

  /** Resolves when nothing arrives within `ms`; rejects with the response otherwise. */
  async expectSilence(ms: number): Promise<void> {
    const r = await this.next(ms).catch(() => undefined);
    if (r !== undefined) throw new Error(`expected no response, got ${r.status} ${r.reason}`);
  }

  close(): void {
    this.destroy();
  }

  private deliver(r: SipResponse): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(r);
    } else {
      this.queue.push(r);
    }
  }

  /** Frames the stream with the gateway's own Content-Length framer (RFC 3261 §18.3). */
  private onStreamData(d: Buffer): void {
    for (const unit of this.framer.push(d)) {
      if (unit.kind === 'error') throw unit.error;
      if (unit.kind === 'message') {
        this.deliver(parseMessage(unit.data, { stream: true }) as SipResponse);
      }
    }
  }
}

/** The Contact values of a response, as text. */
export function contactsOf(res: SipResponse): string[] {
  return res.contact === undefined || res.contact === '*' ? [] : res.contact.map(serializeNameAddr);
}

export interface RegisterSpec {
  protocol: ClientProtocol;
  /** Request-URI host (and To/From host unless toHost is set). */
  host: string;
  port: number;
  localPort: number;
  user: string;
  toUser?: string;
  toHost?: string;
  callId: string;
  cseq: number;
  /** Contact header values (without "Contact: "), or "*"; none = a fetch. */
  contacts?: string[] | '*';
  expires?: number;
  headers?: string[];
  authorization?: string[];
  userAgent?: string;
}

export function requestUri(host: string, port: number, protocol: ClientProtocol): string {
  return `sip:${host}:${port}${protocol === 'UDP' ? '' : `;transport=${protocol.toLowerCase()}`}`;
}

export function registerText(s: RegisterSpec): string {
  const branch = 'z9hG4bK' + randomBytes(8).toString('hex');
  const toHost = s.toHost ?? s.host;
  const lines = [
    `REGISTER ${requestUri(s.host, s.port, s.protocol)} SIP/2.0`,
    `Via: SIP/2.0/${s.protocol} 127.0.0.1:${s.localPort};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:${s.user}@${toHost}>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${s.toUser ?? s.user}@${toHost}>`,
    `Call-ID: ${s.callId}`,
    `CSeq: ${s.cseq} REGISTER`,
  ];
  if (s.contacts === '*') lines.push('Contact: *');
  else for (const c of s.contacts ?? []) lines.push(`Contact: ${c}`);
  if (s.expires !== undefined) lines.push(`Expires: ${s.expires}`);
  for (const a of s.authorization ?? []) lines.push(`Authorization: ${a}`);
  lines.push(`User-Agent: ${s.userAgent ?? 'ciphergate-test'}`);
  lines.push(...(s.headers ?? []));
  lines.push('Content-Length: 0', '', '');
  return lines.join('\r\n');
}

/** A registering UA: answers 401 with its DigestClient, keeps Call-ID and CSeq (RFC 3261 §10.2). */
export class TestUa {
  readonly callId = randomBytes(8).toString('hex') + '@test';
  cseq = 0;
  readonly digest: DigestClient;

  constructor(
    readonly client: SipTestClient,
    readonly user: string,
    password: string,
    readonly host: string,
    readonly port: number,
  ) {
    this.digest = new DigestClient({ username: user, password });
  }

  /** Contact value for this UA's socket. */
  contact(extra = ''): string {
    const p = this.client.protocol;
    return `<sip:${this.user}@127.0.0.1:${this.client.localPort}${p === 'UDP' ? '' : `;transport=${p.toLowerCase()}`}>${extra}`;
  }

  /** One REGISTER transaction, as written. */
  async send(spec: Partial<RegisterSpec> = {}): Promise<SipResponse> {
    this.cseq++;
    this.client.send(registerText({
      protocol: this.client.protocol, host: this.host, port: this.port, localPort: this.client.localPort,
      user: this.user, callId: this.callId, cseq: this.cseq, ...spec,
    }));
    return this.client.next();
  }

  /** REGISTER, answering one 401 challenge. Returns the final response. */
  async register(spec: Partial<RegisterSpec> = {}): Promise<SipResponse> {
    const first = await this.send(spec);
    if (first.status !== 401) return first;
    const uri = requestUri(this.host, this.port, this.client.protocol);
    const auth = this.digest.respond({ status: 401, challenges: first.headers.getAll('WWW-Authenticate'), method: 'REGISTER', uri });
    return this.send({ ...spec, authorization: auth.map((a) => a.value) });
  }
}
