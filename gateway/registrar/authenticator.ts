/**
 * Authentication of REGISTER (RFC 3261 §10.3 step 3, §22.4; RFC 7616; RFC 8760): Digest with
 * SHA-256 offered first and MD5 second, HA1s from the accounts store.
 *
 * No user enumeration. From outside, an unknown user, a wrong password, a blocked account and a
 * locked account name are one case: the same 403 after the same work.
 * - The digest server computes against a dummy HA1 when the lookup finds none (server.ts).
 * - The lookup itself costs the same: UserService.ha1For returns early for an unknown or inactive
 *   user (one indexed read that finds nothing) but reads a user row and a sealed HA1 row and
 *   decrypts it for a real one. When it finds nothing, the same two reads (of a real account, so
 *   they find rows, which costs more than finding none) and an AES-256-GCM open of a decoy value
 *   are done here (measured in test/registrar/enumeration.test.ts).
 * - Lockout is decided after verification, never instead of it.
 *
 * Outcomes that test no password (no credentials, an unknown or expired nonce) are answered with a
 * fresh challenge and never count as failures.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger';
import type { UserService } from '../admin/users';
import type { SipRequest } from '../sip/message/message';
import type { ReceivedInfo } from '../sip/transport/types';
import { authParam, parseAuthHeader, DigestServer, type DigestAlgorithm, type DigestHash, type DigestVerifyResult } from '../sip/digest';
import { MasterKey } from '../store/keys';
import { Sealer } from '../store/sealed';
import type { AccountStore } from '../store/types';
import type { Defence } from '../security/defence';

export type AuthOutcome =
  /** 401 with fresh challenges; `stale` sets stale=true (RFC 7616 §3.3). */
  | { readonly kind: 'challenge'; readonly stale: boolean }
  /** 403 Forbidden: bad credentials, locked name, or a policy refusal. */
  | { readonly kind: 'forbidden' }
  /** 400 with this reason phrase: credentials that cannot be read. */
  | { readonly kind: 'bad-request'; readonly reason: string }
  | { readonly kind: 'ok'; readonly user: string; readonly digestUri: string };

export interface RegisterAuthenticatorOptions {
  readonly users: Pick<UserService, 'ha1For'>;
  /** For the decoy reads (the same queries as the real lookup). */
  readonly store: { readonly users: Pick<AccountStore['users'], 'get'>; readonly secrets: Pick<AccountStore['secrets'], 'getHa1'> };
  readonly realm: string;
  readonly log: Logger;
  readonly defence?: Defence;
  /** Offered in this order (RFC 8760 §2.3: most preferred first). Default SHA-256, MD5. */
  readonly algorithms?: readonly DigestAlgorithm[];
  /**
   * User-Agent prefixes (case-insensitive) of clients that give up on the first challenge they
   * cannot answer instead of skipping it (libre/baresip before 2.x stops at a SHA-256 challenge
   * with ENOSYS). They are challenged with MD5 alone. This lowers nothing: MD5 answers are
   * accepted from everyone anyway (it is offered second), a client that can do better still
   * does, and the header is the client's own claim about itself.
   */
  readonly md5OnlyUserAgents?: readonly string[];
  /**
   * A flow on which `user` already proved its password (registered) before its name was locked:
   * the lock does not apply there, so an attacker elsewhere cannot cut off a working device.
   */
  readonly trustedFlow?: (flowId: string, user: string) => boolean;
  readonly now?: () => number;
}

/** Longest account name taken from credentials for counting (longer ones are not account names). */
const MAX_NAME = 128;

export class RegisterAuthenticator {
  readonly digest: DigestServer;
  private readonly algorithms: readonly DigestAlgorithm[];
  private readonly md5Only: readonly string[];
  private readonly decoySealer: Sealer;
  private readonly decoySealed: Buffer;
  /** An existing account whose rows the decoy reads find (the last one that had an HA1). */
  private decoyAccount: string | undefined;

  constructor(private readonly o: RegisterAuthenticatorOptions) {
    this.algorithms = o.algorithms ?? ['SHA-256', 'MD5'];
    this.md5Only = (o.md5OnlyUserAgents ?? []).map((p) => p.toLowerCase()).filter((p) => p.length > 0);
    this.digest = new DigestServer({
      algorithms: this.algorithms,
      ...(o.now !== undefined && { now: o.now }),
      onStoredSecretError: (username) => o.log.error('stored HA1 has the wrong form', { user: username }),
    });
    // A throw-away key and value: opening it costs what opening a real sealed HA1 costs.
    const key = MasterKey.fromBytes(randomBytes(32));
    this.decoySealer = new Sealer(key, 'ha1');
    key.dispose();
    this.decoySealed = this.decoySealer.seal(['ha1', 'decoy', o.realm, 'SHA-256'], randomBytes(32));
  }

  /** Names an existing account for the decoy reads until a lookup finds one itself. */
  setDecoyAccount(name: string): void {
    this.decoyAccount ??= name;
  }

  /**
   * WWW-Authenticate values, SHA-256 first then MD5 (RFC 8760 §2.3), bound to the flow; MD5 alone
   * for a client listed in md5OnlyUserAgents (when MD5 is offered at all).
   */
  challenge(stale: boolean, info: ReceivedInfo, userAgent?: string): Array<[string, string]> {
    const values = this.digest.challenge({ realm: this.o.realm, stale, binding: nonceBinding(info) });
    // challenge() returns one value per configured algorithm, in the configured order.
    const md5 = this.algorithms.indexOf('MD5');
    const only = md5 >= 0 && userAgent !== undefined && this.isMd5Only(userAgent) ? [values[md5]] : values;
    return only.map((v) => ['WWW-Authenticate', v]);
  }

  private isMd5Only(userAgent: string): boolean {
    const ua = userAgent.slice(0, 128).toLowerCase();
    return this.md5Only.some((p) => ua.startsWith(p));
  }

  async authenticate(req: SipRequest, info: ReceivedInfo): Promise<AuthOutcome> {
    const credentials = req.headers.getAll('Authorization');
    const result = await this.digest.verifyAsync({
      method: req.method,
      credentials,
      realm: this.o.realm,
      lookup: (name, realm, hash) => this.lookup(name, realm, hash),
      binding: nonceBinding(info),
    });
    return this.judge(result, credentials, info);
  }

  private judge(result: DigestVerifyResult, credentials: readonly string[], info: ReceivedInfo): AuthOutcome {
    const defence = this.o.defence;
    switch (result.status) {
      case 'missing':
        return { kind: 'challenge', stale: false };
      case 'stale':
        return { kind: 'challenge', stale: true };
      case 'ok': {
        const user = result.username;
        if (defence?.isLocked(user) === true && !(info.flowId !== undefined && this.o.trustedFlow?.(info.flowId, user) === true)) {
          defence.lockedAttempt();
          return { kind: 'forbidden' };
        }
        defence?.authSucceeded(user);
        return { kind: 'ok', user, digestUri: result.uri };
      }
      case 'invalid':
        break;
    }
    switch (result.reason) {
      // A nonce we cannot vouch for (issued before a restart, or on another connection) or an nc
      // already used: no password was tested, so no failure. stale=true lets the UA answer the
      // new nonce without giving up on its credentials (RFC 7616 §3.3); with a wrong password the
      // next answer fails as 'bad-credentials', so this never loops.
      case 'bad-nonce':
      case 'nc-replay':
        return { kind: 'challenge', stale: true };
      // Credentials for another realm (RFC 3261 §22.3): ours are asked for.
      case 'realm-mismatch':
        return { kind: 'challenge', stale: false };
      case 'bad-credentials':
        defence?.authFailed(usernameIn(credentials, this.o.realm), info);
        return { kind: 'forbidden' };
      case 'malformed':
      case 'ambiguous':
      case 'missing-param':
      case 'bad-nc':
        return { kind: 'bad-request', reason: 'Bad Request - Malformed Authorization' };
      default:
        // unsupported-algorithm/-username, qop-missing/-unsupported, opaque-mismatch: a client
        // that does not speak what we offered. Counted against the source, not an account.
        defence?.authFailed(undefined, info);
        return { kind: 'forbidden' };
    }
  }

  /** HA1 (hex) of an active user, or undefined after the same work (see the file comment). */
  private async lookup(name: string, realm: string, hash: DigestHash): Promise<string | undefined> {
    let ha1: Buffer | undefined;
    try {
      ha1 = await this.o.users.ha1For(name, realm, hash);
    } catch (err) {
      // SealedValueError: the row does not authenticate (tampering, wrong key). Never the value.
      this.o.log.error('stored HA1 cannot be opened', { user: name, error: err instanceof Error ? err.name : 'error' });
      ha1 = undefined;
    }
    if (ha1 === undefined) {
      const decoy = this.decoyAccount ?? (name.length > MAX_NAME ? name.slice(0, MAX_NAME) : name);
      await this.o.store.users.get(decoy);
      await this.o.store.secrets.getHa1(decoy, hash);
      this.decoySealer.open(['ha1', 'decoy', realm, 'SHA-256'], this.decoySealed).fill(0);
      return undefined;
    }
    this.decoyAccount = name;
    const hex = ha1.toString('hex');
    ha1.fill(0);
    return hex;
  }
}

/**
 * What a nonce is bound to (nonce.ts): the connection for TCP/TLS, the address for UDP. A nonce
 * (and so an Authorization value) is then worthless on any other connection.
 */
export function nonceBinding(info: ReceivedInfo): string {
  return info.flowId !== undefined ? `flow:${info.flowId}` : `${info.protocol}:${info.remote.address}`;
}

/** The username of the Digest credentials for our realm, for counting failures against it. */
function usernameIn(credentials: readonly string[], realm: string): string | undefined {
  for (const v of credentials.slice(0, 16)) {
    try {
      const h = parseAuthHeader(v);
      if (!h.isDigest || authParam(h, 'realm') !== realm) continue;
      const name = authParam(h, 'username');
      return name === undefined ? undefined : name.slice(0, MAX_NAME);
    } catch {
      continue;
    }
  }
  return undefined;
}
