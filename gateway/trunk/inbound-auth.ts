/**
 * Digest for requests a trunk sends us (RFC 3261 §22.4), for trunks configured with
 * `inbound.auth`: source address alone is spoofable over UDP, a digest is not.
 *
 * ACK and CANCEL are never challenged (§22.1: they cannot be resubmitted). Missing credentials or
 * a stale nonce get a 401 challenge; wrong credentials get 403 (a PBX retrying a wrong password
 * forever helps no one). The nonce is bound to the source address.
 */
import { DigestServer } from '../sip/digest';
import { makeResponse, type SipRequest } from '../sip/message/message';
import { serializeUri } from '../sip/message/uri';
import { newTag } from '../sip/transaction/ids';
import type { ReceivedInfo } from '../sip/transport/types';
import type { TrunkPeer } from './peer';
import type { InboundAuthResult } from './types';

export class InboundAuthenticator {
  private readonly server: DigestServer;

  constructor(server?: DigestServer) {
    this.server = server ?? new DigestServer({ algorithms: ['SHA-256', 'MD5'] });
  }

  authenticate(peer: TrunkPeer, request: SipRequest, info: ReceivedInfo): InboundAuthResult {
    const lookup = peer.inboundLookup;
    const realm = peer.inboundRealm;
    if (!peer.inbound.digest || lookup === undefined || realm === undefined) return { ok: true };
    if (request.method === 'ACK' || request.method === 'CANCEL') return { ok: true };
    const binding = info.remote.address;
    const result = this.server.verify({
      method: request.method,
      credentials: request.headers.getAll('Authorization'),
      realm,
      lookup,
      binding,
    });
    // RFC 7616 §3.4.6: the digest-uri must be the Request-URI, or a captured answer could be replayed elsewhere.
    if (result.status === 'ok' && result.username === peer.inboundAuthUser && result.uri === serializeUri(request.uri)) return { ok: true };
    if (result.status === 'invalid' && result.reason === 'bad-credentials') {
      return { ok: false, response: makeResponse(request, 403, 'Forbidden', newTag()) };
    }
    const response = makeResponse(request, 401, 'Unauthorized', newTag());
    for (const v of this.server.challenge({ realm, binding, stale: result.status === 'stale' })) response.headers.add('WWW-Authenticate', v);
    return { ok: false, response };
  }
}
