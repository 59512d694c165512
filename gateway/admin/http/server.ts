/**
 * The admin API listener: HTTPS with the gateway's own certificate (TlsMaterial), TLS 1.2/1.3 with
 * AEAD suites only (the SIP TLS policy, RFC 9325 §4), bounded headers, bodies and timeouts.
 * Dispatch: `/api/*` is authenticated before anything else is decided, so an unauthenticated
 * client learns nothing about which paths or users exist (401 for all of them).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../log/logger';
import { AEAD_CIPHERS, TLS_MAX_VERSION, TLS_MIN_VERSION } from '../../sip/transport/tls';
import type { TlsMaterial } from '../../tls/certificate';
import type { AuditLog } from '../audit';
import { Authenticator, wwwAuthenticate, bearerToken } from './auth';
import { HttpError, httpErrorFor } from './errors';
import { sendJson } from './json';
import type { RateLimiter } from './rate-limit';
import type { Method, Route, RouteContext } from './routes';

const MAX_URL_LENGTH = 2048;
const MAX_SEGMENTS = 8;
/** First path segments authenticated before anything else: the API, and Prometheus' /metrics. */
const AUTHENTICATED_ROOTS: ReadonlySet<string> = new Set(['api', 'metrics']);

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

    let by: RouteContext['by'];
    if (AUTHENTICATED_ROOTS.has(segments[0] ?? '')) {
      by = await this.authenticate(req, source);
    }
    const candidates = this.options.routes.filter((r) => matches(r.path, segments) !== undefined);
    if (candidates.length === 0) throw new HttpError(404, 'no such endpoint');
    const route = candidates.find((r) => r.method === req.method);
    if (route === undefined) {
      const allow = [...new Set(candidates.map((r) => r.method))].join(', ');
      throw new HttpError(405, `method not allowed; use ${allow}`, {}, { allow });
    }
    const params = matches(route.path, segments) ?? {};
    await route.handle({ req, res, params, query: new URLSearchParams(rawQuery), source, ...(by !== undefined && { by }) });
  }

  private async authenticate(req: IncomingMessage, source: string): Promise<RouteContext['by']> {
    const principal = await this.options.authenticator.authenticate(req.headers);
    if (principal !== undefined) return { actor: principal.actor, source };
    const presented = bearerToken(req.headers.authorization) !== undefined;
    const decision = this.options.authFailureLimit.attempt(source);
    req.resume();
    if (!decision.allowed) {
      if (decision.firstRefusal) {
        this.options.audit.record({ action: 'admin.rate-limited', actor: 'anonymous', source, result: 'denied', detail: { path: '/api' } });
      }
      throw new HttpError(429, 'too many failed authentications from this address; try again later', {},
        { 'retry-after': String(decision.retryAfterSec) });
    }
    this.options.audit.record({
      action: 'admin.auth-failure', actor: 'anonymous', source, result: 'denied',
      reason: presented ? 'invalid token' : 'no token', detail: { method: req.method ?? '', path: pathOf(req.url) },
    });
    throw new HttpError(401, 'authentication required: send Authorization: Bearer <admin token>', {},
      { 'www-authenticate': wwwAuthenticate(presented) });
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
