/**
 * The registrar tests' client: the shared test UA (test/helpers/sip-ua.ts) on one socket, and a
 * registering UA that writes its REGISTERs as text (test/helpers/sip-text.ts), so that the tests
 * decide every header field the registrar sees.
 */
import { randomBytes } from 'node:crypto';
import { DigestClient } from '../../gateway/sip/digest';
import type { SipResponse } from '../../gateway/sip/message/message';
import { registerText, requestUri, type RegisterSpec } from '../helpers/sip-text';
import { SipUa, withDigest } from '../helpers/sip-ua';

export { contactsOf } from '../helpers/sip-text';

/** The shared test UA: `SipTestClient.connect(protocol, port, { ca, cert, key })`. */
export { SipUa as SipTestClient };

/** A registering UA: answers 401 with its DigestClient, keeps Call-ID and CSeq (RFC 3261 §10.2). */
export class TestUa {
  readonly callId = randomBytes(8).toString('hex') + '@test';
  cseq = 0;
  readonly digest: DigestClient;

  constructor(
    readonly client: SipUa,
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

  /** REGISTER, answering one challenge. Returns the final response. */
  register(spec: Partial<RegisterSpec> = {}): Promise<SipResponse> {
    const uri = requestUri(this.host, this.port, this.client.protocol);
    return withDigest(this.digest, 'REGISTER', uri, (credentials) =>
      this.send(credentials.length === 0 ? spec : { ...spec, authorization: credentials.map((a) => a.value) }));
  }
}
