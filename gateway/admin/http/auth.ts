/**
 * Bearer-token authentication of the admin API (RFC 6750 §2.1: `Authorization: Bearer <token>`).
 * Failures are answered 401 with `WWW-Authenticate: Bearer realm="ciphergate-admin"`, plus
 * `error="invalid_token"` when a token was presented (RFC 6750 §3, §3.1).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AdminTokens, SessionToken } from '../tokens';

export const BEARER_REALM = 'ciphergate-admin';
/** Header the local CLI names its OS user in; honoured only with the CLI session token. */
export const OS_USER_HEADER = 'x-ciphergate-os-user';

export interface Principal {
  /** The audit actor: "token:<id>" or "cli:<OS user>". */
  readonly actor: string;
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

export class Authenticator {
  constructor(
    private readonly tokens: AdminTokens,
    private readonly session?: SessionToken,
  ) {}

  /** The principal behind the request's bearer token, or undefined (401). */
  async authenticate(headers: IncomingHttpHeaders): Promise<Principal | undefined> {
    const token = bearerToken(headers.authorization);
    if (token === undefined) return undefined;
    if (this.session?.matches(token)) return { actor: `cli:${osUser(headers[OS_USER_HEADER])}` };
    const record = await this.tokens.verify(token);
    return record === undefined ? undefined : { actor: `token:${record.id}` };
  }
}

function osUser(value: string | string[] | undefined): string {
  const text = typeof value === 'string' ? value : '';
  return /^[A-Za-z0-9._-]{1,32}$/.test(text) ? text : 'unknown';
}
