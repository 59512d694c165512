/**
 * Digest toward a trunk, as a UAC (RFC 3261 §22.2, §22.3; RFC 7616 §3.4; RFC 8760 §2.4).
 *
 * A PBX challenges our INVITE (401 from a UAS such as FreeSWITCH, 407 from Asterisk acting as a
 * proxy for its endpoint): the request is sent again, in the same dialog-forming Call-ID and From
 * tag, with CSeq+1 and a new branch (§22.2: "a new request with the same Call-ID ... CSeq
 * incremented"), carrying credentials for each challenged realm. Rejected credentials, or the
 * same challenge twice, end the attempt (DigestLoopError): answering again would only ask the PBX
 * to lock the account.
 */
import { DigestChallengeError, DigestLoopError } from '../sip/digest';
import { SipRequest, type SipResponse } from '../sip/message/message';
import { serializeUri } from '../sip/message/uri';
import type { TrunkPeer } from './peer';

/**
 * Requests whose credentials `authorize()` added before any challenge. A 401/407 to one of them
 * is not a rejection of answered credentials: PBXs expire reused nonces and some say so without
 * stale=true (RFC 7616 §3.3), so the challenge is answered once more. Weak: no request is kept alive.
 */
const preemptive = new WeakSet<SipRequest>();

/** A copy of `request` ready for the next transaction: CSeq+1, top Via without branch. */
export function nextRequest(request: SipRequest): SipRequest {
  const [top, ...rest] = request.via;
  const params = new Map(top?.params ?? []);
  params.delete('branch');
  params.delete('received');
  return new SipRequest({
    method: request.method,
    uri: request.uri,
    via: top === undefined ? [] : [{ ...top, params }, ...rest],
    from: request.from,
    to: request.to,
    callId: request.callId,
    cseq: { seq: request.cseq.seq + 1, method: request.cseq.method },
    maxForwards: request.maxForwards,
    contact: request.contact,
    headers: request.headers.clone(),
    body: request.body,
  });
}

/**
 * The request to send after a 401/407 from `peer`, or undefined when it cannot or must not be
 * answered (no credentials, no usable challenge, credentials already rejected).
 */
export function answerChallenge(peer: TrunkPeer, request: SipRequest, challenge: SipResponse): SipRequest | undefined {
  const digest = peer.digest;
  if (digest === undefined || (challenge.status !== 401 && challenge.status !== 407)) return undefined;
  const proxy = challenge.status === 407;
  const credentialsHeader = proxy ? 'Proxy-Authorization' : 'Authorization';
  const uri = serializeUri(request.uri);
  let values;
  try {
    values = digest.respond({
      status: challenge.status,
      challenges: challenge.headers.getAll(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate'),
      method: request.method,
      uri,
      // Credentials we volunteered are not "rejected credentials" (the DigestClient still refuses
      // the same nonce twice, so this cannot loop).
      ...(!preemptive.has(request) && { sent: request.headers.getAll(credentialsHeader) }),
      callId: request.callId,
    });
  } catch (err) {
    if (err instanceof DigestChallengeError || err instanceof DigestLoopError) return undefined;
    throw err;
  }
  if (values.length === 0) return undefined;
  const next = nextRequest(request);
  next.headers.remove(credentialsHeader);
  for (const v of values) next.headers.add(v.name, v.value);
  // Credentials of the other kind (a 401 after a 407) go again with a fresh nc, not replayed.
  const other = proxy ? 'Authorization' : 'Proxy-Authorization';
  if (next.headers.has(other)) {
    const fresh = digest.authorize({ method: request.method, uri, callId: request.callId }).filter((v) => v.name === other);
    next.headers.remove(other);
    for (const v of fresh) next.headers.add(v.name, v.value);
  }
  return next;
}

/**
 * Adds credentials from the challenges `peer` answered before (RFC 7616 §3.4: the nonce is reused
 * with the next nc), so an in-dialog BYE does not need its own challenge round trip. Values of
 * the same header names already on the request are replaced.
 */
export function authorize(peer: TrunkPeer, request: SipRequest): void {
  const values = peer.digest?.authorize({ method: request.method, uri: serializeUri(request.uri), callId: request.callId }) ?? [];
  if (values.length === 0) return;
  for (const name of new Set(values.map((v) => v.name))) request.headers.remove(name);
  for (const v of values) request.headers.add(v.name, v.value);
  preemptive.add(request);
}
