/** A PBX stand-in on 127.0.0.1 UDP for the trunk tests: its registrar uses our DigestServer. */
import dgram from 'node:dgram';
import { computeHA1, DigestServer } from '../../gateway/sip/digest';
import { makeResponse, type SipRequest } from '../../gateway/sip/message/message';
import { parseMessage } from '../../gateway/sip/message/parser';
import { serializeMessage } from '../../gateway/sip/message/serializer';
import { newTag } from '../../gateway/sip/transaction/ids';

export const REALM = 'stand-in';
export const PASSWORD = 'Udp-Trunk-Pw-9';

/** A PBX stand-in on UDP: answers OPTIONS 200 (unless silent), REGISTER with digest. */
export class TinyPbx {
  readonly requests: SipRequest[] = [];
  silent = false;
  private readonly digest = new DigestServer();

  private constructor(private readonly socket: dgram.Socket, readonly port: number) {
    socket.on('message', (data, rinfo) => this.onMessage(data, rinfo));
  }

  static async start(): Promise<TinyPbx> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new TinyPbx(socket, socket.address().port);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  of(method: string): SipRequest[] {
    return this.requests.filter((r) => r.method === method);
  }

  private onMessage(data: Buffer, rinfo: dgram.RemoteInfo): void {
    const msg = parseMessage(data, { stream: false });
    if (msg.kind !== 'request') return;
    this.requests.push(msg);
    if (this.silent) return;
    const res = makeResponse(msg, 200, 'OK', newTag());
    if (msg.method === 'REGISTER') {
      const verdict = this.digest.verify({
        method: 'REGISTER',
        credentials: msg.headers.getAll('Authorization'),
        realm: REALM,
        lookup: (u, r, h) => (u === 'gw' && r === REALM ? computeHA1(h, u, r, PASSWORD) : undefined),
      });
      if (verdict.status !== 'ok') {
        res.status = 401;
        res.reason = 'Unauthorized';
        for (const v of this.digest.challenge({ realm: REALM })) res.headers.add('WWW-Authenticate', v);
      } else {
        res.headers.add('Expires', msg.headers.get('Expires') === '0' ? '0' : '2');
      }
    }
    this.socket.send(serializeMessage(res), rinfo.port, rinfo.address);
  }
}
