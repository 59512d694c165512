/**
 * The virtual operator's router: from a Request-URI to a user's devices, to trunks, or to a
 * refusal (RFC 3261 §21.4: 403, 404, 480, 484).
 *
 * Order of a local user's call (`route`):
 *   1. the caller must be `active` (403);
 *   2. an exact short code (`112`) goes to its trunks; emergency codes need no permission;
 *   3. an account name (`alice`, or a numeric name such as `1001`) is on-net;
 *   4. the number, normalised to E.164, is on-net when a user holds it;
 *   5. otherwise off-net: `mayCallOffNet` (403), `mayCallInternational` for another country code
 *      (403), then the first matching rule (404 when none).
 * Short codes come first on purpose: an account can never shadow an emergency number.
 *
 * An on-net callee is reachable through its registered bindings (Registrar.locate); none that is
 * reachable gives 480, as does a blocked account (the caller learns nothing about the block).
 */
import type { User } from '../admin/users';
import { isValidUserName } from '../admin/user-fields';
import type { Logger } from '../log/logger';
import type { Binding } from '../registrar/types';
import type { Uri } from '../sip/message/types';
import type { Trunk } from '../trunk/types';
import { DialPlan } from './dial-plan';
import { checkNumberingPlan, dialledOf, isInternational, toE164 } from './number';
import {
  type CallRouter,
  type InboundRouteDecision,
  type RouteDecision,
  type RouteReject,
  type RouteRequest,
  type RoutingConfig,
  type UserRoute,
} from './types';

export interface RouterOptions {
  readonly config: RoutingConfig;
  readonly users: { get(name: string): Promise<User | undefined>; getByNumber(e164: string): Promise<User | undefined> };
  readonly registrar: { aorOf(user: string): string; locate(aor: string): Binding[] };
  /** Trunk names in the dial plan are resolved through this, once. */
  readonly trunks: { get(name: string): Trunk | undefined };
  readonly log?: Logger;
}

/** Reason phrases (RFC 3261 §21.4 allows any text; these say what happened, nothing more). */
export const REASONS = {
  callerNotAllowed: 'Caller Not Allowed',
  offNetForbidden: 'Off-Net Calls Not Allowed',
  internationalForbidden: 'International Calls Not Allowed',
  unknown: 'Unknown Destination',
  noRoute: 'No Route To Destination',
  incomplete: 'Address Incomplete',
  offline: 'Temporarily Unavailable',
} as const;

function reject(status: RouteReject['status'], reason: string): RouteReject {
  return { kind: 'reject', status, reason };
}

export class Router implements CallRouter {
  readonly plan: DialPlan;

  constructor(private readonly o: RouterOptions) {
    checkNumberingPlan(o.config);
    this.plan = new DialPlan(o.config, (name) => o.trunks.get(name));
  }

  async route(request: RouteRequest): Promise<RouteDecision> {
    const decision = await this.decide(request);
    this.o.log?.debug('route', { caller: request.caller.name, decision: describe(decision) });
    return decision;
  }

  async routeInbound(trunk: Trunk, requestUri: Uri): Promise<InboundRouteDecision> {
    const d = dialledOf(requestUri);
    let decision: InboundRouteDecision = reject(404, REASONS.unknown);
    if (d !== undefined) {
      const byName = isValidUserName(d.raw) ? await this.o.users.get(d.raw) : undefined;
      if (byName !== undefined) decision = this.toUser(byName);
      else if (d.kind === 'number') {
        // A trunk that writes E.164 without `+` (numberFormat digits) sends DIDs the same way.
        const e164 = toE164(d.text, this.o.config, trunk.numberFormat === 'digits');
        const user = e164 === undefined ? undefined : await this.o.users.getByNumber(e164);
        if (user !== undefined) decision = this.toUser(user);
      }
    }
    this.o.log?.debug('inbound route', { trunk: trunk.name, decision: describe(decision) });
    return decision;
  }

  private async decide({ caller, requestUri }: RouteRequest): Promise<RouteDecision> {
    if (caller.state !== 'active') return reject(403, REASONS.callerNotAllowed);
    const d = dialledOf(requestUri);
    if (d === undefined) return reject(404, REASONS.unknown);

    if (d.kind === 'number') {
      const sc = this.plan.shortCode(d.text);
      if (sc !== undefined) {
        if (!sc.emergency && !caller.mayCallOffNet) return reject(403, REASONS.offNetForbidden);
        return { kind: 'trunk', number: sc.number, dialled: d.text, rule: `short code ${sc.code}`, emergency: sc.emergency, international: false, trunks: sc.trunks };
      }
    }
    const byName = isValidUserName(d.raw) ? await this.o.users.get(d.raw) : undefined;
    if (byName !== undefined) return this.toUser(byName);
    if (d.kind === 'name') return reject(404, REASONS.unknown);

    const e164 = toE164(d.text, this.o.config);
    if (e164 === undefined) return reject(404, REASONS.unknown);
    if (e164.length - 1 < this.o.config.minDigits) return reject(484, REASONS.incomplete);
    const callee = await this.o.users.getByNumber(e164);
    if (callee !== undefined) return this.toUser(callee);

    if (!caller.mayCallOffNet) return reject(403, REASONS.offNetForbidden);
    const international = isInternational(e164, this.o.config);
    if (international && !caller.mayCallInternational) return reject(403, REASONS.internationalForbidden);
    const rule = this.plan.match(e164);
    if (rule === undefined) return reject(404, REASONS.noRoute);
    return { kind: 'trunk', number: e164, dialled: d.text, rule: rule.name, emergency: false, international, trunks: rule.trunks };
  }

  /** RFC 3261 §16.6: the reachable bindings, highest q first (locate sorts), or 480. */
  private toUser(user: User): UserRoute | RouteReject {
    if (user.state === 'blocked') return reject(480, REASONS.offline);
    const aor = this.o.registrar.aorOf(user.name);
    const bindings = this.o.registrar.locate(aor).filter((b) => b.reachable);
    if (bindings.length === 0) return reject(480, REASONS.offline);
    return { kind: 'user', user, aor, bindings };
  }
}

function describe(d: RouteDecision): string {
  switch (d.kind) {
    case 'user':
      return `user ${d.user.name} (${d.bindings.length} binding(s))`;
    case 'trunk':
      return `trunks ${d.trunks.map((t) => t.name).join(',')} by ${d.rule}`;
    case 'reject':
      return `${d.status} ${d.reason}`;
  }
}
