/**
 * Requests written as text, for the tests of what the gateway makes of the wire (RFC 3261 §7,
 * §20): the header fields stand exactly as the test wrote them, in its order, duplicates and all,
 * which the message model would normalise away. One builder for every such request.
 */
import { randomBytes } from 'node:crypto';
import type { SipResponse } from '../../gateway/sip/message/message';
import { serializeNameAddr } from '../../gateway/sip/message/grammar';

export type SipTransportName = 'TLS' | 'TCP' | 'UDP';

/** Hex of `n` random bytes (tags, branches, Call-IDs: RFC 3261 §19.3 wants them unguessable). */
export const randomToken = (n = 6): string => randomBytes(n).toString('hex');

export interface RequestText {
  readonly method: string;
  readonly uri: string;
  readonly transport: SipTransportName;
  /** Sent-by port of the Via (host 127.0.0.1). */
  readonly localPort: number;
  /** Whole header values, tags included. */
  readonly from: string;
  readonly to: string;
  readonly callId: string;
  readonly cseq: number;
  /** Fields after CSeq, as written ("Name: value"). */
  readonly headers?: readonly string[];
  readonly body?: Buffer | string;
  /** RFC 3581 rport in the Via (default true). */
  readonly rport?: boolean;
}

/** The request's bytes: request line, Via, Max-Forwards, From, To, Call-ID, CSeq, the rest, Content-Length. */
export function requestText(r: RequestText): Buffer {
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
  const head = [
    `${r.method} ${r.uri} SIP/2.0`,
    `Via: SIP/2.0/${r.transport} 127.0.0.1:${r.localPort};branch=z9hG4bK${randomToken(8)}${r.rport === false ? '' : ';rport'}`,
    'Max-Forwards: 70',
    `From: ${r.from}`,
    `To: ${r.to}`,
    `Call-ID: ${r.callId}`,
    `CSeq: ${r.cseq} ${r.method}`,
    ...(r.headers ?? []),
    `Content-Length: ${body.length}`,
    '',
    '',
  ];
  return Buffer.concat([Buffer.from(head.join('\r\n'), 'utf8'), body]);
}

/** The Contact values of a response, as text. */
export function contactsOf(res: SipResponse): string[] {
  return res.contact === undefined || res.contact === '*' ? [] : res.contact.map(serializeNameAddr);
}

/** sip:host:port, with ;transport= on the stream transports (RFC 3261 §19.1.1). */
export function requestUri(host: string, port: number, protocol: SipTransportName): string {
  return `sip:${host}:${port}${protocol === 'UDP' ? '' : `;transport=${protocol.toLowerCase()}`}`;
}

export interface RegisterSpec {
  protocol: SipTransportName;
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

/** A REGISTER (RFC 3261 §10.2) as the registrar tests write it. */
export function registerText(s: RegisterSpec): Buffer {
  const toHost = s.toHost ?? s.host;
  const headers: string[] = [];
  if (s.contacts === '*') headers.push('Contact: *');
  else for (const c of s.contacts ?? []) headers.push(`Contact: ${c}`);
  if (s.expires !== undefined) headers.push(`Expires: ${s.expires}`);
  for (const a of s.authorization ?? []) headers.push(`Authorization: ${a}`);
  headers.push(`User-Agent: ${s.userAgent ?? 'ciphergate-test'}`, ...(s.headers ?? []));
  return requestText({
    method: 'REGISTER',
    uri: requestUri(s.host, s.port, s.protocol),
    transport: s.protocol,
    localPort: s.localPort,
    from: `<sip:${s.user}@${toHost}>;tag=${randomToken(4)}`,
    to: `<sip:${s.toUser ?? s.user}@${toHost}>`,
    callId: s.callId,
    cseq: s.cseq,
    headers,
  });
}
