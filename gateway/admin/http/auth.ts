/**
 * Bearer-token authentication of the admin API (RFC 6750 §2.1: `Authorization: Bearer <token>`).
 * Failures are answered 401 with `WWW-Authenticate: Bearer realm="ciphergate-admin"`, plus
 * `error="invalid_token"` when a token was presented (RFC 6750 §3, §3.1).
 *
 * Authorization: a principal holds scopes (tokens.ts TokenScope), each route requires one
 * (routes.ts `auth`). A valid token without the scope is answered 403 with
 * `error="insufficient_scope"` and the `scope` it lacks (RFC 6750 §3, §3.1): the credential is
 * good, asking again with it cannot help.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AdminTokens, SessionToken, TokenScope } from '../tokens';

export const BEARER_REALM = 'ciphergate-admin';
/** Header the local CLI names its OS user in; honoured only with the CLI session token. */
export const OS_USER_HEADER = 'x-ciphergate-os-user';

export interface Principal {
  /** The audit actor: "token:<id>" or "cli:<OS user>". */
  readonly actor: string;
  /** What it may do. */
  readonly scopes: ReadonlySet<TokenScope>;
}

/** Exhaustive by type: a new scope does not compile until it says what it grants. */
const GRANTS: Readonly<Record<TokenScope, readonly TokenScope[]>> = { admin: ['admin', 'metrics'], metrics: ['metrics'] };

/**
 * The scopes a token of each kind grants. The admin token (and the CLI's session token) grants
 * everything, /metrics included, so an operator can scrape by hand; a metrics token only reading
 * /metrics. A new set each time: no principal can widen another's by mutating a shared one.
 */
export function grantedScopes(kind: TokenScope): ReadonlySet<TokenScope> {
  return new Set(GRANTS[kind]);
}

/** The token of an `Authorization: Bearer ...` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length > 512) return undefined;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer') return undefined;
  const token = header.slice(space + 1).trim();
  return token === '' ? undefined : token;
}

export function wwwAuthenticate(tokenPresented: boolean): string {
  return tokenPresented ? `Bearer realm="${BEARER_REALM}", error="invalid_token"` : `Bearer realm="${BEARER_REALM}"`;
}

/** The challenge of a 403 for a valid token that lacks `required` (RFC 6750 §3.1 insufficient_scope). */
export function insufficientScopeChallenge(required: TokenScope): string {
  return `Bearer realm="${BEARER_REALM}", error="insufficient_scope", scope="${required}"`;
}

/** The 403's error text: what the endpoint needs, in the operator's words. */
export function insufficientScopeMessage(required: TokenScope): string {
  return required === 'admin'
    ? 'insufficient scope: this endpoint needs the admin token; a metrics token may only GET /metrics'
    : `insufficient scope: this endpoint needs a token with the '${required}' scope`;
}

export class Authenticator {
  constructor(
    private readonly tokens: AdminTokens,
    private readonly session?: SessionToken,
  ) {}

  /** The principal behind the request's bearer token, or undefined (401). */
  async authenticate(headers: IncomingHttpHeaders): Promise<Principal | undefined> {
    const token = bearerToken(headers.authorization);
    if (token === undefined) return undefined;
    if (this.session?.matches(token)) return { actor: `cli:${osUser(headers[OS_USER_HEADER])}`, scopes: grantedScopes('admin') };
    const record = await this.tokens.verify(token);
    return record === undefined ? undefined : { actor: `token:${record.id}`, scopes: grantedScopes(record.label) };
  }
}

function osUser(value: string | string[] | undefined): string {
  const text = typeof value === 'string' ? value : '';
  return /^[A-Za-z0-9._-]{1,32}$/.test(text) ? text : 'unknown';
}
