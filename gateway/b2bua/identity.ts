/**
 * Who the callee's INVITE says is calling (issue 5 §1): the gateway speaks for the caller. Toward a
 * user's device From is the caller's AOR (sip:name@domain, or the caller's number when a trunk
 * called) with the account's display name; toward a trunk it is the caller's number in the
 * trunk's format at our address on that trunk, asserted with P-Asserted-Identity (RFC 3325: the
 * PBX is in the trust domain). Nothing the caller wrote in its own From/Contact is reused but a
 * trunk's display name and a caller id that passes `safeCallerId`.
 */
import type { User } from '../admin/users';
import { unescapeUriPart } from '../sip/message/grammar';
import type { SipRequest } from '../sip/message/message';
import { isSipUri, isTelUri, type NameAddr, type SipUri, type Uri } from '../sip/message/types';
import type { Trunk, TrunkService } from '../trunk/types';
import type { InviteTemplate } from './call';
import type { LegPeer } from './types';

/** A caller id from a trunk's From: digits, +, *, # and a few safe characters; else "anonymous". */
export function safeCallerId(uri: Uri): string {
  const user = isTelUri(uri) ? uri.number : isSipUri(uri) && uri.user !== undefined ? unescapeUriPart(uri.user) : '';
  return /^[+0-9A-Za-z*#._-]{1,32}$/.test(user) ? user : 'anonymous';
}

export function aorUri(user: string, domain: string): SipUri {
  return { scheme: 'sip', user, host: domain, params: new Map(), headers: new Map() };
}

function hostOf(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

export interface TemplateInput {
  readonly req: SipRequest;
  readonly caller: LegPeer;
  readonly callerUser: User | undefined;
  /** safeCallerId of a trunk caller, the user name of a user. */
  readonly callerName: string;
  readonly domain: string;
  /** Our own headers (User-Agent, Allow, session timer) then the allow-listed ones of the caller. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

function maxForwards(req: SipRequest): number {
  return Math.min(70, Math.max(0, (req.maxForwards ?? 70) - 1));
}

/** The INVITE to a user's devices. */
export function userTemplate(i: TemplateInput, callee: string): InviteTemplate {
  const display = i.caller.kind === 'user' ? i.callerUser?.displayName : i.req.from.displayName?.slice(0, 64);
  const from: NameAddr = { ...(display !== undefined && { displayName: display }), uri: aorUri(i.callerName, i.domain), params: new Map() };
  const to = aorUri(callee, i.domain);
  return { requestUri: to, from, to: { uri: to, params: new Map() }, headers: [...i.headers], maxForwards: maxForwards(i.req) };
}

/** The INVITE to one trunk for `number`. */
export function trunkTemplate(i: TemplateInput, trunks: Pick<TrunkService, 'requestUriFor' | 'formatNumber'>, trunk: Trunk, number: string): InviteTemplate {
  const ruri = trunks.requestUriFor(trunk, number);
  const own = i.callerUser?.number;
  const user = own !== undefined ? trunks.formatNumber(trunk, own) : i.callerName;
  const fromUri: SipUri = { scheme: 'sip', user, host: hostOf(trunk.local.address), params: new Map(), headers: new Map() };
  const headers: Array<[string, string]> = i.headers.map(([n, v]) => [n, v]);
  if (i.caller.kind === 'user') headers.push(['P-Asserted-Identity', `<sip:${user}@${fromUri.host}>`]);
  return {
    requestUri: ruri,
    from: { ...(i.callerUser?.displayName !== undefined && { displayName: i.callerUser.displayName }), uri: fromUri, params: new Map() },
    to: { uri: { ...ruri, params: new Map(), headers: new Map() }, params: new Map() },
    headers,
    maxForwards: maxForwards(i.req),
  };
}
