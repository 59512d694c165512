/** Building a CANCEL for a pending INVITE (RFC 3261 §9.1). */
import { HeaderList, SipRequest } from '../message/message';

/**
 * RFC 3261 §9.1: same Request-URI, Call-ID, To, From and CSeq number as the request being
 * cancelled, method CANCEL; a single Via equal to its top Via (same branch, so the CANCEL matches
 * at the next hop); the same Route set. No Require or Proxy-Require.
 */
export function cancelFor(request: SipRequest): SipRequest {
  const headers = new HeaderList();
  for (const route of request.headers.getAll('Route')) headers.add('Route', route);
  const topVia = request.via[0];
  return new SipRequest({
    method: 'CANCEL',
    uri: request.uri,
    via: topVia === undefined ? [] : [{ ...topVia, params: new Map(topVia.params) }],
    from: request.from,
    to: request.to,
    callId: request.callId,
    cseq: { seq: request.cseq.seq, method: 'CANCEL' },
    maxForwards: 70,
    headers,
  });
}
