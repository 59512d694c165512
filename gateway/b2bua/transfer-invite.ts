/**
 * The INVITE of a blind transfer to its target (transfer.ts): over one trunk of the target's
 * route, without SDP (RFC 3725 §4.1: the target's 2xx brings the offer), and saying who calls.
 *
 * Identity (issue 5 §1): the target's trunk sees the transferee calling, as the trunk that brought
 * it in asserted it (its caller id, and P-Asserted-Identity and Privacy when calls.passHeaders lets
 * them through), or, when the transferor had called it, the number dialled, asserted by the
 * gateway (RFC 3325). Referred-By (RFC 3892) names the transferor as its own calls present it on
 * that trunk (its number, else its name, at our address there), and only when calls.passHeaders
 * lists Referred-By: it tells the PBX who an internal user is, so that is the operator's choice.
 * Nothing of the transferor's REFER (its own Referred-By, headers embedded in the Refer-To URI) is
 * copied.
 */
import type { User } from '../admin/users';
import type { SipRequest } from '../sip/message/message';
import type { SipUri } from '../sip/message/types';
import type { TrunkRoute } from '../routing/types';
import type { Trunk } from '../trunk/types';
import type { Call } from './call';
import type { InviteSpec } from './fork';
import type { Leg } from './leg';
import type { CallSlot } from './limits';
import type { TransferServices } from './refer';

/** Headers of the transferee's INVITE that say who it is (RFC 3325, RFC 3323). */
const IDENTITY_HEADERS: ReadonlySet<string> = new Set(['p-asserted-identity', 'privacy']);

/** What a transfer starts from (refer.ts builds it once the REFER is accepted). */
export interface TransferInit {
  readonly call: Call;
  /** The user's leg that sent the REFER. */
  readonly transferor: Leg;
  /** The trunk party's leg. */
  readonly transferee: Leg;
  readonly refer: SipRequest;
  readonly route: TrunkRoute;
  /** The route's trunks that are up, in order. */
  readonly trunks: readonly Trunk[];
  /** The admission of the transferred call (the call takes it over on success). */
  readonly slot: CallSlot;
  /** The transferor's account. */
  readonly user: User;
  readonly services: TransferServices;
}

function hostOf(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** The transferee's identity: the caller id its trunk gave, or the number the transferor dialled. */
export function transfereeName(call: Call, transferee: Leg): string {
  return transferee === call.caller ? call.setup.callerName : call.setup.calleeName;
}

/** The INVITE to the target over `trunk`. */
export function targetInvite(o: TransferInit, trunk: Trunk): InviteSpec {
  const { call, transferee, services, route, user } = o;
  const trunks = call.ctx.trunkService!;
  const requestUri = trunks.requestUriFor(trunk, route.number);
  const host = hostOf(trunk.local.address);
  const headers: Array<[string, string]> = services.commonHeaders();
  let identity: string;
  if (transferee === call.caller) {
    identity = call.setup.callerName;
    for (const [n, v] of call.ctx.headerPolicy.pass(call.setup.incoming.request.headers, true)) {
      if (IDENTITY_HEADERS.has(n.toLowerCase())) headers.push([n, v]);
    }
  } else {
    identity = trunks.formatNumber(trunk, call.setup.calleeName);
    headers.push(['P-Asserted-Identity', `<sip:${identity}@${host}>`]);
  }
  if (call.ctx.settings.passHeaders.some((h) => h.toLowerCase() === 'referred-by')) {
    const by = user.number !== undefined ? trunks.formatNumber(trunk, user.number) : user.name;
    headers.push(['Referred-By', `<sip:${by}@${host}>`]);
  }
  const from: SipUri = { scheme: 'sip', user: identity, host, params: new Map(), headers: new Map() };
  return {
    requestUri,
    from: { uri: from, params: new Map() },
    to: { uri: { ...requestUri, params: new Map(), headers: new Map() }, params: new Map() },
    headers,
    sdp: undefined,
    maxForwards: 70,
  };
}
