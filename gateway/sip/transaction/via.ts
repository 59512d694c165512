/**
 * The top Via of requests received (RFC 3261 §18.2.1, RFC 3581 §4) and where their responses go
 * (§18.2.2, RFC 3581 §4). Kept here so the UA core can answer statelessly the same way.
 */
import type { SipRequest } from '../message/message';
import type { Via } from '../message/types';
import { isReliable, type ReceivedInfo, type SendTarget } from '../transport/types';

/** Default port of a transport (RFC 3261 §19.1.2: 5060, or 5061 for TLS). */
export function defaultPort(protocol: string): number {
  return protocol.toUpperCase() === 'TLS' ? 5061 : 5060;
}

function bare(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Canonical text of an IPv6 literal (compressed, lower case); `h` is bare and lower-cased. */
function canonicalIpv6(h: string): string {
  try {
    return new URL(`http://[${h}]/`).hostname.slice(1, -1);
  } catch {
    return h;
  }
}

/**
 * Whether two hosts name the same address: equal text, or two spellings of one IPv6 literal. Only
 * the second case pays for a URL parse (twice per request: the stack and the transaction layer stamp).
 */
function sameHost(a: string, b: string): boolean {
  const x = bare(a).toLowerCase();
  const y = bare(b).toLowerCase();
  if (x === y) return true;
  return x.includes(':') && y.includes(':') && canonicalIpv6(x) === canonicalIpv6(y);
}

function validPort(port: number | undefined): number | undefined {
  return port !== undefined && Number.isInteger(port) && port > 0 && port <= 65535 ? port : undefined;
}

/**
 * Stamps the top Via of a received request (RFC 3261 §18.2.1, RFC 3581 §4):
 * - `rport` present (with or without a value): set to the source port, and `received` always set;
 * - else `received` set to the source address when the sent-by host differs from it (a name, or
 *   another address), and removed when it is the same.
 * A `received` or `rport` value that arrived on the wire is never kept: the Via is the sender's
 * own, so such a value is forged and would aim our responses at a third party.
 * IPv6 `received` values carry no brackets (RFC 5118 §4.5).
 */
export function stampReceived(request: SipRequest, info: ReceivedInfo): void {
  const via = request.via[0];
  if (via === undefined) return;
  const source = bare(info.remote.address);
  if (via.params.has('rport')) {
    via.params.set('received', source);
    via.params.set('rport', String(info.remote.port));
    return;
  }
  if (sameHost(via.host, source)) via.params.delete('received');
  else via.params.set('received', source);
}

/**
 * Where responses to `request` go (RFC 3261 §18.2.2 with RFC 3581 §4):
 * - TCP/TLS: over the connection the request came on (`flowId`); should it be gone, a new
 *   connection to the source address at the sent-by port (or the transport's default port);
 * - UDP: the source address, at the source port when the client asked for `rport`, else at the
 *   sent-by port (or 5060); sent from the local address the request reached (`local`, RFC 3581 §4).
 *
 * The address is always the packet's source address: after stampReceived, `received` holds
 * exactly that whenever the sent-by differs, so this is §18.2.2 without re-reading a value from the
 * wire or resolving a name (RFC 3263 §5 is not done here). `maddr` is ignored on purpose: honouring
 * it lets any sender reflect responses to an address of its choice.
 */
export function responseTarget(request: Pick<SipRequest, 'via'>, info: ReceivedInfo): SendTarget {
  const via: Via | undefined = request.via[0];
  const address = bare(info.remote.address);
  const sentByPort = validPort(via?.port) ?? defaultPort(info.protocol);
  if (isReliable(info.protocol)) {
    const target: SendTarget = { protocol: info.protocol, remote: { address, port: sentByPort } };
    if (info.flowId !== undefined) target.flowId = info.flowId;
    return target;
  }
  const port = via?.params.has('rport') === true ? info.remote.port : sentByPort;
  // RFC 3581 §4: the response leaves from the address and port the request reached.
  return { protocol: info.protocol, remote: { address, port }, local: { ...info.local } };
}
