/**
 * Requests the gateway originates toward a trunk outside any call: OPTIONS (keep-alive, RFC 3261
 * §11), REGISTER (§10.2), and the B2BUA's non-INVITE requests through `send` (which answers one
 * digest challenge, §22.2).
 *
 * Each request is a fresh non-INVITE client transaction (§17.1.2) to the trunk's fixed target, or,
 * for a request inside a dialog, to the next hop the dialog gives (RFC 3261 §8.1.2; the B2BUA's
 * next-hop.ts decides it). Via carries our address toward the trunk and `rport` on UDP (RFC 3581 §3), so a PBX behind or
 * in front of NAT still answers to the port we sent from.
 */
import type { NameAddr, SipUri } from '../sip/message/types';
import { HeaderList, SipRequest, type SipResponse } from '../sip/message/message';
import { newCallId, newTag } from '../sip/transaction/ids';
import { synthesizeResponse } from '../sip/transaction/transaction';
import type { TransactionLayer } from '../sip/transaction/manager';
import type { SendTarget } from '../sip/transport/types';
import { answerChallenge } from './auth';
import type { TrunkPeer } from './peer';

export interface OutOfDialogRequest {
  readonly method: string;
  readonly requestUri: SipUri;
  readonly from: SipUri;
  readonly to: SipUri;
  readonly callId?: string;
  readonly cseq?: number;
  readonly contact?: NameAddr;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

export function sipUri(user: string | undefined, host: string, port?: number, params: Array<[string, string | null]> = []): SipUri {
  return { scheme: 'sip', ...(user !== undefined && { user }), host, ...(port !== undefined && { port }), params: new Map(params), headers: new Map() };
}

/** Host as written in a URI or Via: IPv6 in brackets (RFC 3261 §25.1 IPv6reference). */
export function uriHost(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/** Builds a request from the gateway to `peer` (Via branch left to the transaction layer). */
export function buildRequest(peer: TrunkPeer, r: OutOfDialogRequest, userAgent: string): SipRequest {
  const headers = new HeaderList();
  headers.add('User-Agent', userAgent);
  for (const [name, value] of r.headers ?? []) headers.add(name, value);
  const viaParams = new Map<string, string | null>(peer.transport === 'UDP' ? [['rport', null]] : []);
  return new SipRequest({
    method: r.method,
    uri: r.requestUri,
    via: [{ protocol: 'SIP/2.0', transport: peer.transport, host: uriHost(peer.local.address), port: peer.local.port, params: viaParams }],
    from: { uri: r.from, params: new Map([['tag', newTag()]]) },
    to: { uri: r.to, params: new Map() },
    callId: r.callId ?? newCallId(),
    cseq: { seq: r.cseq ?? 1, method: r.method },
    maxForwards: 70,
    ...(r.contact !== undefined && { contact: [r.contact] }),
    headers,
  });
}

/** Sends non-INVITE requests to trunks, answering one challenge. */
export class TrunkClient {
  constructor(private readonly transactions: Pick<TransactionLayer, 'sendNonInvite'>) {}

  /**
   * One transaction to `target` (default the trunk's configured target); resolves with its final
   * response (a local 503 when it cannot even start).
   */
  once(peer: TrunkPeer, request: SipRequest, target: SendTarget = peer.target): Promise<SipResponse> {
    return new Promise((resolve) => {
      try {
        this.transactions.sendNonInvite(request, target, {
          onResponse: (res) => {
            if (res.status >= 200) resolve(res);
          },
        });
      } catch {
        // Table full or layer closed: nothing left; the caller sees what a transport error gives.
        resolve(synthesizeResponse(request, 503, 'Service Unavailable'));
      }
    });
  }

  /**
   * Sends, and once more after a 401/407 (RFC 3261 §22.2). `onRetry` learns the request actually
   * sent last (its CSeq advanced). Credentials already on the request (from `authorize`) are kept.
   * Both go to `target` (default the trunk's configured target).
   */
  async send(peer: TrunkPeer, request: SipRequest, onRetry?: (sent: SipRequest) => void, target: SendTarget = peer.target): Promise<SipResponse> {
    const first = await this.once(peer, request, target);
    if (first.status !== 401 && first.status !== 407) return first;
    const retry = answerChallenge(peer, request, first);
    if (retry === undefined) return first;
    onRetry?.(retry);
    return this.once(peer, retry, target);
  }
}
