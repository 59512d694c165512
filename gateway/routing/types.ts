/**
 * The virtual operator's dial plan, as the B2BUA sees it: one question (`Router.route`) and one
 * answer (`RouteDecision`). Numbers are E.164 (ITU-T E.164, written `+` then 1..15 digits as in
 * RFC 3966 §5.1.4 global numbers) once normalised.
 *
 * Contract with the B2BUA (gateway/b2bua/):
 * - `route()` for a request from an authenticated local user; `routeInbound()` for an INVITE that
 *   `TrunkService.identify()` attributed to a trunk.
 * - A `user` decision lists only reachable bindings (never empty): fork to all of them in parallel,
 *   via `Registrar.targetFor(binding)` (RFC 3261 §16.6 ordering by q is already applied).
 * - A `trunk` decision lists candidate trunks in rule order; pass them to `TrunkService.select()`
 *   (skips trunks that are down) and fail over in that order (see trunk/types.ts).
 * - A `reject` decision is answered as is: status and reason phrase (RFC 3261 §21.4).
 */
import type { User } from '../admin/users';
import type { Binding } from '../registrar/types';
import type { Uri } from '../sip/message/types';
import type { Trunk } from '../trunk/types';

/** An outbound call attempt by a local user. */
export interface RouteRequest {
  /** The authenticated caller (its state and permissions are checked here). */
  readonly caller: User;
  /** The Request-URI of the caller's INVITE: `sip:`/`sips:` (user part is a name or a number) or `tel:`. */
  readonly requestUri: Uri;
}

/** The callee is a local user: ring every reachable binding in parallel. */
export interface UserRoute {
  readonly kind: 'user';
  readonly user: User;
  /** The callee's AOR (sip:<name>@<domain>), as `Registrar.locate` knows it. */
  readonly aor: string;
  /** Reachable bindings only, highest q first; never empty (no binding → a 480 reject instead). */
  readonly bindings: readonly Binding[];
}

/** The callee is off-net: try `trunks` in order, with the normalised number. */
export interface TrunkRoute {
  readonly kind: 'trunk';
  /** The destination in E.164 (`+34911234567`), or the short code as dialled (`112`). */
  readonly number: string;
  /** What the caller dialled (user part / tel number), visual separators removed. */
  readonly dialled: string;
  /** Name of the dial-plan rule or short code that matched (for logs and CDRs). */
  readonly rule: string;
  /** A short code marked `emergency`: allowed for every active user, whatever their permissions. */
  readonly emergency: boolean;
  /** International: the number's country code differs from `routing.countryCode`. */
  readonly international: boolean;
  /** Candidate trunks in the rule's order (config names resolved); never empty. */
  readonly trunks: readonly Trunk[];
}

/** Refuse the call with this final response. */
export interface RouteReject {
  readonly kind: 'reject';
  /** 403 forbidden (permissions), 404 unknown destination, 480 callee offline, 484 incomplete number. */
  readonly status: 403 | 404 | 480 | 484;
  /** Reason phrase for the response: says why, never names internal addresses. */
  readonly reason: string;
}

export type RouteDecision = UserRoute | TrunkRoute | RouteReject;

/** Inbound routing only ever reaches a user or refuses. */
export type InboundRouteDecision = UserRoute | RouteReject;

/** What the B2BUA calls. Implemented by `Router` (routing/router.ts). */
export interface CallRouter {
  /** Routes a local user's call (on-net first, then short codes and dial-plan rules). */
  route(request: RouteRequest): Promise<RouteDecision>;
  /**
   * Routes a call from a trunk: the Request-URI number (the DID, national or E.164 form, or a
   * user name) maps to a user by number or name. Unknown → 404, offline → 480.
   */
  routeInbound(trunk: Trunk, requestUri: Uri): Promise<InboundRouteDecision>;
}

// ---------------------------------------------------------------------------------------------------
// Configuration (config key `routing`)
// ---------------------------------------------------------------------------------------------------

/** A short code: dialled exactly (`112`), routed to trunks without normalisation. */
export interface ShortCodeConfig {
  readonly code: string;
  readonly trunks: readonly string[];
  /** Emergency: every active user may call it (no off-net permission needed). Default false. */
  readonly emergency?: boolean;
  /** Sent to the trunk instead of `code` (e.g. `112` → `+34112`). Default: the code itself. */
  readonly number?: string;
}

/**
 * One dial-plan rule: the first rule (in order) whose `prefix` or `pattern` matches the E.164
 * number wins. Exactly one of `prefix` and `pattern` is set.
 *
 * Pattern syntax (linear time, no backtracking; matched against the number including its `+`):
 * `0`-`9` and `+` literal, `X` any digit, `Z` 1-9, `N` 2-9, `[1-58]` a digit set, and as the last
 * character only: `.` one or more further digits, `!` zero or more. Without `.`/`!` the number's
 * length must equal the pattern's. Example: `+346XXXXXXXX` (Spanish mobiles), `+1NXXNXXXXXX`.
 */
export interface DialRuleConfig {
  readonly name: string;
  readonly prefix?: string;
  readonly pattern?: string;
  /** Trunk names, tried in this order. */
  readonly trunks: readonly string[];
}

export interface RoutingConfig {
  /** Home country calling code, digits only (`34`). */
  readonly countryCode: string;
  /** National (trunk) prefix, replaced by `+<countryCode>` (`0`; empty when the plan has none, e.g. `34`). */
  readonly nationalPrefix: string;
  /** International prefix, replaced by `+` (`00`). */
  readonly internationalPrefix: string;
  /** Shortest and longest accepted subscriber-number digit counts after normalisation (E.164: up to 15). */
  readonly minDigits: number;
  readonly shortCodes: readonly ShortCodeConfig[];
  readonly rules: readonly DialRuleConfig[];
}

/** The `routing` configuration is inconsistent (unknown trunk, bad pattern, duplicate code). */
export class RoutingConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RoutingConfigError';
  }
}
