/**
 * REFER inside a call (RFC 3515), for a blind transfer (RFC 5589 §6): a user on a call with a trunk
 * party asks the gateway to connect that party (the transferee) to someone else (the target).
 *
 * The REFER is checked and answered here; the transfer itself is transfer.ts. What is refused, and
 * how (the call goes on unchanged after any refusal):
 * - calls.transfer off: 501, as before transfers existed;
 * - a REFER from a trunk (501, "Transfer By Trunks Not Supported"), or on a call whose other party
 *   is not a trunk (user ↔ user: 501, "Transfer Only For Calls To Trunks"; README "Calls");
 * - the call not answered yet, or another transfer or offer/answer in progress: 491;
 * - no Refer-To, several, or one that does not parse: 400 (RFC 3515 §2.4.1: exactly one);
 * - a scheme other than sip, sips, tel: 416;
 * - a Refer-To that asks for another method than INVITE (`;method=`), or for an attended transfer
 *   (a Replaces header in the URI, RFC 3891): 403 with the reason;
 * - the target as the dial plan sees it, with the transferor's own permissions (gateway/routing,
 *   as for a call it made itself): the router's 403/404/480/484 as they are; a local user: 403
 *   (only trunk targets are offered); no trunk up: 503;
 * - the limits of a new call (calls.cpsPerSource for the transferor's address, as its INVITEs,
 *   and calls.maxConcurrent: the new leg is a call in progress): 503 with Retry-After.
 * Otherwise 202 Accepted (RFC 3515 §2.4.2), and the transfer starts.
 *
 * Other headers embedded in the Refer-To URI are not copied to the new INVITE (topology hiding:
 * only calls.passHeaders crosses, headers.ts).
 */
import type { UserService } from '../admin/users';
import type { IncomingRequest } from '../sip/core/ua-core';
import { parseNameAddr, parseNameAddrList } from '../sip/message/grammar';
import type { SipRequest } from '../sip/message/message';
import { isSipUri, isTelUri, type Uri } from '../sip/message/types';
import type { CallRouter } from '../routing/types';
import type { Call } from './call';
import type { Leg } from './leg';
import type { CallLimiter } from './limits';
import { Transfer } from './transfer';

/** What a transfer needs of the B2BUA besides the call's context (CallContext.transfer). */
export interface TransferServices {
  readonly router: CallRouter;
  readonly users: Pick<UserService, 'get'>;
  readonly limiter: Pick<CallLimiter, 'acquire' | 'admitSource'>;
  /** Retry-After of a 503 for the call limit. */
  readonly retryAfterSec: number;
  /** User-Agent, Allow and the session timer headers of a new INVITE (as for any call). */
  commonHeaders(): Array<[string, string]>;
}

/** The refusal of an unusable REFER, or the target it asks for. */
export type ReferToCheck =
  | { readonly kind: 'target'; readonly uri: Uri }
  | { readonly kind: 'refuse'; readonly status: number; readonly reason: string };

function refuse(status: number, reason: string): ReferToCheck {
  return { kind: 'refuse', status, reason };
}

/**
 * RFC 3515 §2.1, §2.4.1: the one Refer-To of a REFER, for a blind transfer. The target comes back
 * without URI headers nor the method parameter (they said how to reach it, not who it is).
 */
export function checkReferTo(req: SipRequest): ReferToCheck {
  const values = req.headers.getAll('Refer-To');
  if (values.length === 0) return refuse(400, 'Bad Request - Missing Refer-To');
  if (values.length > 1) return refuse(400, 'Bad Request - More Than One Refer-To');
  let uri: Uri;
  try {
    if (parseNameAddrList(values[0]!, 2).length !== 1) return refuse(400, 'Bad Request - More Than One Refer-To');
    uri = parseNameAddr(values[0]!).uri;
  } catch {
    return refuse(400, 'Bad Request - Malformed Refer-To');
  }
  if (isTelUri(uri)) return { kind: 'target', uri };
  if (!isSipUri(uri)) return refuse(416, 'Unsupported URI Scheme');
  if (uri.params.has('method')) {
    const method = uri.params.get('method');
    if (method === null || method === undefined || method.toUpperCase() !== 'INVITE') return refuse(403, 'Forbidden - Only INVITE Can Be Referred');
  }
  for (const name of uri.headers.keys()) {
    if (name.toLowerCase() === 'replaces') return refuse(403, 'Forbidden - Attended Transfer Not Supported');
  }
  const params = new Map(uri.params);
  params.delete('method');
  return { kind: 'target', uri: { ...uri, params, headers: new Map() } };
}

/** The call's state allows a transfer to start now (RFC 3261 §14.1-like: one exchange at a time). */
function busy(call: Call, leg: Leg, other: Leg): boolean {
  return call.state !== 'confirmed' || call.transfer !== undefined || call.ackPending || call.offerInProgress
    || call.pendingAnswer !== undefined || leg.dialog.state === 'terminated' || other.dialog.state === 'terminated';
}

/** A REFER on `leg` of an established call. */
export async function handleRefer(call: Call, leg: Leg, r: IncomingRequest): Promise<void> {
  const services = call.ctx.transfer;
  if (services === undefined) return void r.reply(501, 'Not Implemented - Call Transfer Not Supported');
  const other = call.other(leg);
  if (leg.user === undefined) return void r.reply(501, 'Not Implemented - Transfer By Trunks Not Supported');
  if (other === undefined || other.peer.kind !== 'trunk') {
    return void r.reply(501, 'Not Implemented - Transfer Only For Calls To Trunks');
  }
  if (busy(call, leg, other)) return void r.reply(491, 'Request Pending');
  const retryAfter: Array<[string, string]> = [['Retry-After', String(services.retryAfterSec)]];
  // Each transfer places a call: it spends from the same bucket as the transferor's own INVITEs.
  if (!services.limiter.admitSource(r.info.remote.address)) return void r.reply(503, 'Service Unavailable - Call Rate Limit', { headers: retryAfter });
  const target = checkReferTo(r.request);
  if (target.kind === 'refuse') return void r.reply(target.status, target.reason);
  const user = await services.users.get(leg.user);
  if (user === undefined || user.state !== 'active') return void r.reply(403, 'Forbidden');
  const decision = await services.router.route({ caller: user, requestUri: target.uri });
  if (decision.kind === 'reject') return void r.reply(decision.status, decision.reason);
  if (decision.kind === 'user') return void r.reply(403, 'Forbidden - Transfer Only To Off-Net Numbers');
  const trunks = call.ctx.trunkService?.select(decision.trunks) ?? [];
  if (trunks.length === 0) return void r.reply(503, 'Service Unavailable - No Trunk Available', { headers: retryAfter });
  // The awaits above let the call move on (a BYE, a re-INVITE, another REFER).
  if (busy(call, leg, other)) return void r.reply(491, 'Request Pending');
  const slot = services.limiter.acquire([]);
  if (typeof slot === 'string') return void r.reply(503, 'Service Unavailable - Call Limit', { headers: retryAfter });
  const transfer = new Transfer({ call, transferor: leg, transferee: other, refer: r.request, route: decision, trunks, slot, user, services });
  call.transfer = transfer;
  r.reply(202, 'Accepted');
  r.log.debug('transfer accepted', { call: call.id, rule: decision.rule });
  transfer.start();
}
