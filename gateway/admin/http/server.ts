/**
 * The admin API listener: HTTPS with the gateway's own certificate (TlsMaterial), TLS 1.2/1.3 with
 * AEAD suites only (the SIP TLS policy, RFC 9325 §4), bounded headers, bodies and timeouts.
 * Dispatch: `/api/*` and `/metrics` are authenticated before anything else is decided, so an
 * unauthenticated client learns nothing about which paths or users exist (401 for all of them).
 * Then the scope (RFC 6750 §3.1): a valid token that lacks the route's scope gets 403
 * insufficient_scope, decided before 404/405, so a metrics token learns nothing about the admin
 * API's paths either. Every refusal is audited (actor, source, method, path; never the token).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../log/logger';
import { AEAD_CIPHERS, TLS_MAX_VERSION, TLS_MIN_VERSION } from '../../sip/transport/tls';
import type { TlsMaterial } from '../../tls/certificate';
import type { AuditLog } from '../audit';
import type { TokenScope } from '../tokens';
import { Authenticator, bearerToken, insufficientScopeChallenge, insufficientScopeMessage, wwwAuthenticate, type Principal } from './auth';
import { HttpError, httpErrorFor } from './errors';
import { sendJson } from './json';
import type { RateLimiter } from './rate-limit';
import { requiredScope, type Method, type Route, type RouteContext } from './routes';

const MAX_URL_LENGTH = 2048;
const MAX_SEGMENTS = 8;
/**
 * First path segments authenticated before anything else, with the scope every route under them
 * must require (checked when the server is built): the API only ever with the admin scope.
 */
const AUTHENTICATED_ROOTS: ReadonlyMap<string, TokenScope> = new Map<string, TokenScope>([['api', 'admin'], ['metrics', 'metrics']]);

/** A route table that would open an authenticated path wider than its root allows. */
export class RouteTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouteTableError';
  }
}

export interface AdminHttpServerOptions {
  readonly tls: Pick<TlsMaterial, 'cert' | 'key'>;
  readonly routes: readonly Route[];
  readonly authenticator: Authenticator;
  /** Limits bearer-token failures per source (401s beyond it become 429). */
  readonly authFailureLimit: RateLimiter;
  readonly audit: AuditLog;
  readonly log: Logger;
  /** Simultaneous connections (default 64): an admin API has a handful of clients. */
  readonly maxConnections?: number;
}

export class AdminHttpServer {
  private readonly server: Server;

  constructor(private readonly options: AdminHttpServerOptions) {
    checkRouteTable(options.routes);
    this.server = createServer({
      cert: options.tls.cert,
      key: options.tls.key,
      minVersion: TLS_MIN_VERSION,
      maxVersion: TLS_MAX_VERSION,
      ciphers: AEAD_CIPHERS,
      honorCipherOrder: true,
      handshakeTimeout: 10_000,
      maxHeaderSize: 8192,
    }, (req, res) => { void this.dispatch(req, res); });
    this.server.maxConnections = options.maxConnections ?? 64;
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 15_000;
    this.server.keepAliveTimeout = 5_000;
    this.server.maxHeadersCount = 64;
    this.server.on('secureConnection', (socket) => socket.disableRenegotiation());
    this.server.on('tlsClientError', () => undefined);
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host, port, exclusive: true }, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.options.log.error('admin API listener error', { error: err }));
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | undefined {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a : undefined;
  }

  /** Stops accepting, ends idle keep-alive connections, and waits (bounded) for the rest. */
  close(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      const timer = setTimeout(() => {
        this.server.closeAllConnections();
        resolve();
      }, timeoutMs);
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const source = req.socket.remoteAddress ?? 'unknown';
    try {
      await this.route(req, res, source);
    } catch (err) {
      const httpError = httpErrorFor(err);
      if (httpError === undefined) {
        this.options.log.error('admin API request failed', { method: req.method, path: pathOf(req.url), error: err });
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const e = httpError ?? new HttpError(500, 'internal error; see the gateway log');
      sendJson(res, e.status, e.body(), e.headers);
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, source: string): Promise<void> {
    const url = req.url ?? '/';
    if (url.length > MAX_URL_LENGTH) throw new HttpError(414, 'URI too long');
    const [rawPath, rawQuery = ''] = splitOnce(url, '?');
    if (!rawPath.startsWith('/')) throw new HttpError(400, 'bad request target');
    const segments = decodeSegments(rawPath);

    let principal: Principal | undefined;
    if (AUTHENTICATED_ROOTS.has(segments[0] ?? '')) {
      principal = await this.authenticate(req, source);
    }
    const candidates = this.options.routes.filter((r) => matches(r.path, segments) !== undefined);
    const route = candidates.find((r) => r.method === req.method);
    // What this request needs: the route's scope; for no route under an authenticated root, the
    // admin scope (only an admin learns that a path or method does not exist).
    const needed = route !== undefined ? requiredScope(route.auth) : principal !== undefined ? 'admin' : undefined;
    if (needed !== undefined) {
      principal ??= await this.authenticate(req, source);
      if (!principal.scopes.has(needed)) this.refuseScope(req, source, principal, needed);
    }
    if (candidates.length === 0) throw new HttpError(404, 'no such endpoint');
    if (route === undefined) {
      const allow = [...new Set(candidates.map((r) => r.method))].join(', ');
      throw new HttpError(405, `method not allowed; use ${allow}`, {}, { allow });
    }
    const params = matches(route.path, segments) ?? {};
    const by: RouteContext['by'] = principal === undefined ? undefined : { actor: principal.actor, source };
    await route.handle({ req, res, params, query: new URLSearchParams(rawQuery), source, ...(by !== undefined && { by }) });
  }

  /** The principal behind the request's token; throws 401 (429 beyond the failure limit). */
  private async authenticate(req: IncomingMessage, source: string): Promise<Principal> {
    const principal = await this.options.authenticator.authenticate(req.headers);
    if (principal !== undefined) return principal;
    const presented = bearerToken(req.headers.authorization) !== undefined;
    this.countRefusal(req, source, 'anonymous');
    this.options.audit.record({
      action: 'admin.auth-failure', actor: 'anonymous', source, result: 'denied',
      reason: presented ? 'invalid token' : 'no token', detail: { method: req.method ?? '', path: pathOf(req.url) },
    });
    throw new HttpError(401, 'authentication required: send Authorization: Bearer <admin token>', {},
      { 'www-authenticate': wwwAuthenticate(presented) });
  }

  /**
   * 403 for a valid token without the `needed` scope (RFC 6750 §3.1 insufficient_scope). Counted
   * with the failed authentications of the source, so a misused token cannot flood the audit log.
   */
  private refuseScope(req: IncomingMessage, source: string, principal: Principal, needed: TokenScope): never {
    this.countRefusal(req, source, principal.actor);
    this.options.audit.record({
      action: 'admin.insufficient-scope', actor: principal.actor, source, result: 'denied',
      reason: `needs ${needed} scope`, detail: { method: req.method ?? '', path: pathOf(req.url) },
    });
    throw new HttpError(403, insufficientScopeMessage(needed), {}, { 'www-authenticate': insufficientScopeChallenge(needed) });
  }

  /** One refusal from `source`; throws 429 beyond the limit (audited once, at the first refusal). */
  private countRefusal(req: IncomingMessage, source: string, actor: string): void {
    const decision = this.options.authFailureLimit.attempt(source);
    req.resume();
    if (decision.allowed) return;
    if (decision.firstRefusal) {
      this.options.audit.record({ action: 'admin.rate-limited', actor, source, result: 'denied', detail: { path: pathOf(req.url) } });
    }
    throw new HttpError(429, 'too many refused requests from this address; try again later', {},
      { 'retry-after': String(decision.retryAfterSec) });
  }
}

/**
 * Refuses a route table in which a route under an authenticated root is open or requires less
 * than the root's scope: /api/* must require the admin scope, whatever a route module declares.
 */
function checkRouteTable(routes: readonly Route[]): void {
  for (const route of routes) {
    const root = route.path.split('/')[1] ?? '';
    const floor = AUTHENTICATED_ROOTS.get(root);
    if (floor === undefined) continue;
    const scope = requiredScope(route.auth);
    if (scope === undefined || (floor === 'admin' && scope !== 'admin')) {
      throw new RouteTableError(`${route.method} ${route.path} must require the ${floor} scope`);
    }
  }
}

function splitOnce(text: string, sep: string): [string, string?] {
  const at = text.indexOf(sep);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

/** "/api/users/bob" → ["api", "users", "bob"]; 400 on bad percent-encoding or too many segments. */
function decodeSegments(rawPath: string): string[] {
  const parts = rawPath.split('/').slice(1);
  if (parts.length > MAX_SEGMENTS) throw new HttpError(404, 'no such endpoint');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop(); // trailing slash
  return parts.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      throw new HttpError(400, 'bad percent-encoding in the path');
    }
  });
}

function matches(pattern: string, segments: readonly string[]): Record<string, string> | undefined {
  const parts = pattern.split('/').slice(1);
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const s = segments[i]!;
    if (p.startsWith(':')) {
      if (s === '') return undefined;
      params[p.slice(1)] = s;
    } else if (p !== s) {
      return undefined;
    }
  }
  return params;
}

/** The path for logs and the audit: without the query, bounded. */
function pathOf(url: string | undefined): string {
  return splitOnce(url ?? '', '?')[0].slice(0, 128);
}

export type { Method };
