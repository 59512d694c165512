/**
 * The admin API's endpoints. `/api/*` mirror the CLI and need the admin scope (the admin bearer
 * token or the CLI's session token; never a metrics token); `/self/password`
 * is the user's own (authenticated by the one-time password, rate-limited per source); `/healthz`
 * is open. No response carries a secret except the one-time values at their creation: the
 * generated password (POST /api/users) and the OTP (POST /api/users/NAME/reset).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Actor, AdminActions } from './actions';
import { HttpError, httpErrorFor } from './errors';
import { onlyFields, optionalString, readJsonObject, requiredString, sendEmpty, sendJson } from './json';
import type { RateLimiter } from './rate-limit';
import { permissionsFrom, userPatchFrom } from './user-body';
import type { OtpView } from './views';
import { registrationView, userDetailsView, userView } from './views';
import type { AuditLog } from '../audit';
import type { TokenScope } from '../tokens';
import { messagingRoutes } from '../../messaging/admin-routes';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Decoded path parameters (":name"). */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Peer address. */
  readonly source: string;
  /** Set on authenticated routes. */
  readonly by?: Actor;
}

/**
 * What a route requires of the caller: a bearer token granting this scope (RFC 6750 §3, `scope`),
 * or nothing (`false`).
 */
export type RouteAuth = TokenScope | false;

/** The scope a route requires, or undefined for an open route. */
export function requiredScope(auth: RouteAuth): TokenScope | undefined {
  return auth === false ? undefined : auth;
}

export interface Route {
  readonly method: Method;
  /** Segments; ":x" captures one segment as params.x. */
  readonly path: string;
  readonly auth: RouteAuth;
  handle(ctx: RouteContext): Promise<void>;
}

export interface RouteDeps {
  readonly actions: AdminActions;
  readonly selfServiceLimit: RateLimiter;
  readonly audit: AuditLog;
}

/** Longest password accepted in a request; the policy's own maximum is far below. */
const MAX_PASSWORD_CHARS = 1024;

export function adminRoutes(deps: RouteDeps): Route[] {
  const { actions } = deps;
  const by = (ctx: RouteContext): Actor => {
    if (ctx.by === undefined) throw new Error('route needs an authenticated actor');
    return ctx.by;
  };
  const noBody = async (ctx: RouteContext): Promise<void> => onlyFields(await readJsonObject(ctx.req, { optional: true }), []);
  const api = (method: Method, path: string, handle: (ctx: RouteContext) => Promise<void>): Route => ({ method, path, auth: 'admin', handle });

  return [
    { method: 'GET', path: '/healthz', auth: false, handle: async (ctx) => sendJson(ctx.res, 200, { status: 'ok' }) },

    api('GET', '/api/users', async (ctx) => {
      sendJson(ctx.res, 200, { users: (await actions.listUsers(by(ctx))).map(userView) });
    }),

    api('POST', '/api/users', async (ctx) => {
      const body = await readJsonObject(ctx.req);
      onlyFields(body, ['name', 'number', 'displayName', 'password', 'mayCallOffNet', 'mayCallInternational']);
      const name = requiredString(body, 'name', 64);
      const number = optionalString(body, 'number', 32);
      const displayName = optionalString(body, 'displayName', 512);
      const password = optionalString(body, 'password', MAX_PASSWORD_CHARS);
      const added = await actions.addUser(by(ctx), name, {
        ...(number !== undefined && { number }),
        ...(displayName !== undefined && { displayName }),
        ...(password !== undefined && { password }),
        ...permissionsFrom(body),
      });
      sendJson(ctx.res, 201, {
        user: userView(added.user),
        ...(added.generatedPassword !== undefined && { password: added.generatedPassword }),
      }, { location: `/api/users/${encodeURIComponent(added.user.name)}` });
    }),

    api('GET', '/api/users/:name', async (ctx) => {
      sendJson(ctx.res, 200, { user: userDetailsView(await actions.showUser(by(ctx), ctx.params.name!)) });
    }),

    // Number, display name (null clears either) and calling permissions; 200 {user}.
    api('PATCH', '/api/users/:name', async (ctx) => {
      const change = userPatchFrom(await readJsonObject(ctx.req));
      sendJson(ctx.res, 200, { user: userView(await actions.updateUser(by(ctx), ctx.params.name!, change)) });
    }),

    api('POST', '/api/users/:name/block', async (ctx) => {
      await noBody(ctx);
      sendJson(ctx.res, 200, { user: userView(await actions.block(by(ctx), ctx.params.name!)) });
    }),

    api('POST', '/api/users/:name/unblock', async (ctx) => {
      await noBody(ctx);
      sendJson(ctx.res, 200, { user: userView(await actions.unblock(by(ctx), ctx.params.name!)) });
    }),

    api('POST', '/api/users/:name/reset', async (ctx) => {
      await noBody(ctx);
      const issued = await actions.reset(by(ctx), ctx.params.name!);
      const view: OtpView = { user: ctx.params.name!, otp: issued.otp, expiresAt: new Date(issued.expiresAt).toISOString() };
      sendJson(ctx.res, 200, view);
    }),

    api('POST', '/api/users/:name/destroy-keys', async (ctx) => {
      await noBody(ctx);
      sendJson(ctx.res, 200, { user: userView(await actions.destroyKeys(by(ctx), ctx.params.name!)) });
    }),

    api('DELETE', '/api/users/:name', async (ctx) => {
      await actions.remove(by(ctx), ctx.params.name!);
      sendEmpty(ctx.res, 204);
    }),

    api('POST', '/api/users/:name/certs', async (ctx) => {
      const body = await readJsonObject(ctx.req);
      onlyFields(body, ['fingerprint']);
      const fingerprint = requiredString(body, 'fingerprint', 200);
      const stored = await actions.bindCert(by(ctx), ctx.params.name!, fingerprint);
      sendJson(ctx.res, 201, { user: ctx.params.name!, fingerprint: stored });
    }),

    api('GET', '/api/registrations', async (ctx) => {
      const aor = ctx.query.get('aor') ?? undefined;
      if (aor !== undefined && (aor === '' || aor.length > 512)) throw new HttpError(400, 'aor: must be 1 to 512 characters', { field: 'aor' });
      const list = await actions.registrations(by(ctx), aor);
      sendJson(ctx.res, 200, { registrations: list.map(registrationView) });
    }),

    ...(actions.messaging !== undefined ? messagingRoutes(actions.messaging) : []),

    { method: 'POST', path: '/self/password', auth: false, handle: (ctx) => selfPassword(ctx, deps) },
  ];
}

/**
 * POST /self/password {user, otp, newPassword}: 204 on success; 400 naming a missing field or
 * listing every password-policy violation (only once the OTP has verified); 403, one error for
 * every OTP failure and for an unknown user; 429 beyond the per-source attempt limit.
 */
async function selfPassword(ctx: RouteContext, deps: RouteDeps): Promise<void> {
  const decision = deps.selfServiceLimit.attempt(ctx.source);
  if (!decision.allowed) {
    if (decision.firstRefusal) {
      deps.audit.record({ action: 'admin.rate-limited', actor: 'anonymous', source: ctx.source, result: 'denied', detail: { path: '/self/password' } });
    }
    ctx.req.resume();
    throw new HttpError(429, 'too many attempts from this address; try again later', {},
      { 'retry-after': String(decision.retryAfterSec) });
  }
  const body = await readJsonObject(ctx.req);
  onlyFields(body, ['user', 'otp', 'newPassword']);
  const user = requiredString(body, 'user', 64);
  const otp = requiredString(body, 'otp', 64);
  const newPassword = requiredString(body, 'newPassword', MAX_PASSWORD_CHARS);
  try {
    await deps.actions.redeemOtp(ctx.source, user, otp, newPassword);
  } catch (err) {
    throw httpErrorFor(err, 'newPassword') ?? err;
  }
  sendEmpty(ctx.res, 204);
}
