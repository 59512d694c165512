/**
 * The one scriptable SIP endpoint of the tests: a device or PBX stand-in with one connection to
 * the gateway on loopback (TLS, TCP or UDP). What arrives is framed with the gateway's own
 * StreamFramer (RFC 3261 §18.3) and parsed with its parser; requests are built as the gateway's
 * message model (or written as text, test/helpers/sip-text.ts, by the tests of the wire);
 * challenges are answered with the gateway's DigestClient (RFC 3261 §22.2, §22.3). Every wait has
 * a deadline, and a closed connection fails every wait at once: nothing can arrive any more.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { DigestClient, type AuthorizationHeader } from '../../gateway/sip/digest';
import { parseUri, serializeUri } from '../../gateway/sip/message/grammar';
import { HeaderList, makeResponse, SipRequest, tagOf, type SipMessage, type SipResponse } from '../../gateway/sip/message/message';
import { parseMessage } from '../../gateway/sip/message/parser';
import { serializeMessage } from '../../gateway/sip/message/serializer';
import type { NameAddr } from '../../gateway/sip/message/types';
import { StreamFramer } from '../../gateway/sip/transport/framer';
import { uacDialog, uasDialog, type DialogView } from './sip-dialog';
import { randomToken, type SipTransportName } from './sip-text';
import { WaitQueue } from './wait-queue';

export { randomToken as rand, uacDialog, uasDialog, type DialogView, type SipTransportName };

export interface SipUaOptions {
  /** User part of From and Contact, and the digest username. Default "ua". */
  readonly user?: string;
  /** Digest password; without one, challenges are not answered. */
  readonly password?: string;
  /** Digest realm the credentials are for (lets proxy credentials be reused, RFC 3261 §22.3). */
  readonly realm?: string;
  /** TLS: roots to verify the gateway against, client certificate and key. */
  readonly ca?: string | Buffer;
  readonly cert?: string;
  readonly key?: string;
  /** TLS: check the gateway's certificate (default true). */
  readonly verify?: boolean;
  /** TCP/TLS source address (default: the kernel's choice). */
  readonly localAddress?: string;
  /** Methods answered 200 at once when they arrive (default none). */
  readonly autoAnswer?: readonly string[];
}

export interface RequestOptions {
  to?: NameAddr;
  from?: NameAddr;
  callId?: string;
  cseq?: number;
  headers?: Array<[string, string]>;
  sdp?: string;
  body?: Buffer;
  contentType?: string;
}

/**
 * Runs `attempt` and, when it ends in a 401 or 407 and there are credentials, runs it once more
 * with the answer to the challenge (RFC 3261 §22.2, §22.3). `sent`: credentials the first attempt
 * carried, so that a challenge to them counts as a refusal (RFC 7616 §3.3).
 */
export async function withDigest(
  digest: DigestClient | undefined,
  method: string,
  uri: string,
  attempt: (credentials: AuthorizationHeader[]) => Promise<SipResponse>,
  sent: AuthorizationHeader[] = [],
): Promise<SipResponse> {
  const res = await attempt(sent);
  if ((res.status !== 401 && res.status !== 407) || digest === undefined) return res;
  const challenges = res.headers.getAll(res.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate');
  return attempt(digest.respond({ status: res.status, challenges, method, uri, sent: sent.map((a) => a.value) }));
}

const FRAMING = { maxHeaderBytes: 65535, maxMessageBytes: 1 << 20 };

export class SipUa {
  private readonly arrivedRequests = new WaitQueue<SipRequest>();
  private readonly arrivedResponses = new WaitQueue<SipResponse>();
  /** Answer every incoming request of these methods with 200 at once (BYE, OPTIONS...). */
  readonly autoAnswer: Set<string>;
  /** Called with every request that arrives, after any automatic answer. */
  onRequest: ((req: SipRequest) => void) | undefined;
  readonly digest: DigestClient | undefined;
  readonly tag = randomToken();
  readonly user: string;
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
  isClosed = false;
  private readonly framer = new StreamFramer(FRAMING);
  private markClosed: () => void = () => undefined;

  private constructor(
    readonly protocol: SipTransportName,
    readonly localPort: number,
    private readonly write: (d: Buffer) => void,
    private readonly destroy: () => void,
    /** Where UDP requests go; a PBX stand-in learns it after the gateway started. */
    public gatewayPort: number,
    o: SipUaOptions,
  ) {
    this.user = o.user ?? 'ua';
    this.autoAnswer = new Set(o.autoAnswer ?? []);
    this.digest = o.password === undefined ? undefined : new DigestClient({ username: this.user, password: o.password, ...(o.realm !== undefined && { realm: o.realm }) });
    this.closed = new Promise((resolve) => {
      this.markClosed = () => {
        this.isClosed = true;
        this.arrivedRequests.close(new Error(`${this.user}: connection closed`));
        this.arrivedResponses.close(new Error(`${this.user}: connection closed`));
        resolve();
      };
    });
  }

  /** Connects to the gateway's `protocol` listener on 127.0.0.1 (TLS with SNI "localhost"). */
  static async connect(protocol: SipTransportName, gatewayPort: number, o: SipUaOptions = {}): Promise<SipUa> {
    if (protocol === 'UDP') {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
      const ua: SipUa = new SipUa('UDP', sock.address().port, (d) => sock.send(d, ua.gatewayPort, '127.0.0.1'), () => sock.close(), gatewayPort, o);
      sock.on('message', (m) => ua.deliver(parseMessage(m, { stream: false })));
      sock.on('close', () => ua.markClosed());
      return ua;
    }
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const at = { host: '127.0.0.1', port: gatewayPort, ...(o.localAddress !== undefined && { localAddress: o.localAddress }) };
      const s: net.Socket = protocol === 'TLS'
        ? tls.connect({ ...at, servername: 'localhost', ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: o.verify ?? true }, () => resolve(s))
        : net.connect(at, () => resolve(s));
      s.once('error', reject);
    });
    socket.on('error', () => undefined);
    const ua = new SipUa(protocol, socket.localPort ?? 0, (d) => socket.write(d), () => socket.destroy(), gatewayPort, o);
    socket.on('data', (d: Buffer) => ua.onStream(d));
    socket.on('close', () => ua.markClosed());
    return ua;
  }

  /** A device: TLS without checking the lab's certificate, or TCP (from 127.0.0.2: 127.0.0.1 is the trunks' address in the b2bua lab). BYE and OPTIONS answered. */
  static tls(gatewayPort: number, user: string, password: string, protocol: 'TLS' | 'TCP' = 'TLS'): Promise<SipUa> {
    return SipUa.connect(protocol, gatewayPort, { user, password, verify: false, autoAnswer: ['BYE', 'OPTIONS'], ...(protocol === 'TCP' && { localAddress: '127.0.0.2' }) });
  }

  /** A PBX stand-in on UDP: requests go to the gateway's UDP port. BYE and OPTIONS answered. */
  static udp(gatewayPort: number, user = 'pbx'): Promise<SipUa> {
    return SipUa.connect('UDP', gatewayPort, { user, autoAnswer: ['BYE', 'OPTIONS'] });
  }

  /** Requests and responses that arrived and no wait took yet (a test may clear them). */
  get requests(): SipRequest[] {
    return this.arrivedRequests.items;
  }

  get responses(): SipResponse[] {
    return this.arrivedResponses.items;
  }

  get contact(): NameAddr {
    const t = this.protocol === 'UDP' ? '' : `;transport=${this.protocol.toLowerCase()}`;
    return { uri: parseUri(`sip:${this.user}@127.0.0.1:${this.localPort}${t}`), params: new Map() };
  }

  /** Writes a message of the model, or bytes as they are. */
  send(msg: SipMessage | Buffer | string): void {
    this.write(typeof msg === 'string' ? Buffer.from(msg, 'utf8') : Buffer.isBuffer(msg) ? msg : serializeMessage(msg));
  }

  close(): void {
    this.destroy();
  }

  /** A new request outside any dialog (or inside, when `to` carries a tag). */
  request(method: string, uri: string, o: RequestOptions = {}): SipRequest {
    const headers = new HeaderList();
    for (const [n, v] of o.headers ?? []) headers.add(n, v);
    const body = o.sdp !== undefined ? Buffer.from(o.sdp) : o.body ?? Buffer.alloc(0);
    if (body.length > 0) headers.add('Content-Type', o.sdp !== undefined ? 'application/sdp' : o.contentType ?? 'text/plain');
    return new SipRequest({
      method,
      uri: parseUri(uri),
      via: [{ protocol: 'SIP/2.0', transport: this.protocol, host: '127.0.0.1', port: this.localPort, params: new Map<string, string | null>([['branch', 'z9hG4bK' + randomToken(8)], ['rport', null]]) }],
      from: o.from ?? { uri: parseUri(`sip:${this.user}@127.0.0.1`), params: new Map([['tag', this.tag]]) },
      to: o.to ?? { uri: parseUri(uri), params: new Map() },
      callId: o.callId ?? randomToken(10),
      cseq: { seq: o.cseq ?? 1, method },
      maxForwards: 70,
      contact: [this.contact],
      headers,
      body,
    });
  }

  /** A request inside the dialog this UA has with the gateway (§12.2.1.1, simplified: no route set). */
  inDialog(method: string, dialog: DialogView, cseq: number, o: Omit<RequestOptions, 'to' | 'from' | 'callId' | 'cseq'> = {}): SipRequest {
    return this.request(method, dialog.target, { from: dialog.local, to: dialog.remote, callId: dialog.callId, cseq, ...o });
  }

  /** Sends a request and answers one 401/407 (new branch, next CSeq); resolves with the final response. */
  transact(req: SipRequest, timeoutMs = 5000): Promise<SipResponse> {
    return withDigest(this.digest, req.method, serializeUri(req.uri), (credentials) => {
      if (credentials.length > 0) {
        req.cseq = { ...req.cseq, seq: req.cseq.seq + 1 };
        req.via[0]!.params.set('branch', 'z9hG4bK' + randomToken(8));
        for (const a of credentials) req.headers.add(a.name, a.value);
      }
      this.send(req);
      return this.finalFor(req, timeoutMs);
    });
  }

  async register(expires = 600): Promise<SipResponse> {
    const req = this.request('REGISTER', 'sip:127.0.0.1', {
      to: { uri: parseUri(`sip:${this.user}@127.0.0.1`), params: new Map() },
      headers: [['Expires', String(expires)]],
    });
    return this.transact(req);
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

  /** The next response that arrives (or arrived), whatever it answers. */
  next(timeoutMs = 3000): Promise<SipResponse> {
    return this.waitResponse(() => true, timeoutMs);
  }

  /** Resolves when no response arrives within `ms`; rejects with the response otherwise. */
  async expectSilence(ms: number): Promise<void> {
    const r = await this.next(ms).catch(() => undefined);
    if (r !== undefined) throw new Error(`expected no response, got ${r.status} ${r.reason}`);
  }

  /** A response to `req` (same Call-ID and CSeq) that matches. */
  waitResponseTo(req: SipRequest, match: (r: SipResponse) => boolean, timeoutMs = 5000): Promise<SipResponse> {
    return this.waitResponse((r) => r.callId === req.callId && r.cseq.seq === req.cseq.seq && r.cseq.method === req.cseq.method && match(r), timeoutMs);
  }

  finalFor(req: SipRequest, timeoutMs = 5000): Promise<SipResponse> {
    return this.waitResponseTo(req, (r) => r.status >= 200, timeoutMs);
  }

  waitResponse(match: (r: SipResponse) => boolean, timeoutMs = 5000): Promise<SipResponse> {
    return this.arrivedResponses.wait(match, timeoutMs, () => new Error(`${this.user}: no response within ${timeoutMs} ms`));
  }

  waitRequest(method: string, timeoutMs = 5000, match: (r: SipRequest) => boolean = () => true): Promise<SipRequest> {
    return this.arrivedRequests.wait((r) => r.method === method && match(r), timeoutMs, () => new Error(`${this.user}: no ${method} within ${timeoutMs} ms`));
  }

  /** No request of `method` arrives within `ms`. */
  async expectNoRequest(method: string, ms: number): Promise<void> {
    const r = await this.waitRequest(method, ms).catch(() => undefined);
    if (r !== undefined) throw new Error(`unexpected ${method}`);
  }

  private deliver(msg: SipMessage): void {
    if (msg.kind === 'request') {
      if (this.autoAnswer.has(msg.method)) this.respond(msg, 200, 'OK');
      this.onRequest?.(msg);
      this.arrivedRequests.push(msg);
    } else {
      this.arrivedResponses.push(msg);
    }
  }

  /** Frames the stream with the gateway's own Content-Length framer (RFC 3261 §18.3). */
  private onStream(d: Buffer): void {
    for (const unit of this.framer.push(d)) {
      if (unit.kind === 'error') throw unit.error;
      if (unit.kind === 'message') this.deliver(parseMessage(unit.data, { stream: true }));
    }
  }
}
