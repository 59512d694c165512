/**
 * Admin API bearer tokens (RFC 6750 §2.1).
 *
 * A token is 32 random bytes in base64url (43 characters). The store keeps only its verifier:
 * HMAC-SHA256 under a key derived from the master key (KEY_LABELS.adminToken), so a copy of the
 * database alone neither reveals a token nor lets anyone test guesses against it. The token itself
 * is shown once, by the call that minted it.
 *
 * Stored tokens carry a scope (the store's `label`): what the bearer may do (RFC 6750 §3, `scope`).
 * - 'admin': the operator's, minted at the first start and by `ciphergate admin token rotate`;
 *   the whole admin API, and /metrics;
 * - 'metrics': Prometheus', minted by `ciphergate metrics token rotate`; GET /metrics and nothing
 *   else, so the scraper's configuration holds no key to the accounts.
 * Each scope's verifier is computed under its own prefix (domain separation), so a row whose label
 * was edited in the database (without the master key) no longer verifies under either scope: the
 * scope is bound to the token by the key, not by a column. Every stored token is checked against
 * the store on every request, so a rotation by another process (the CLI) takes effect at once,
 * without restarting the gateway. Rotating one scope never revokes the other's tokens.
 *
 * Besides the stored tokens:
 * - the session token (`SessionToken`): minted in memory at each start for the local CLI (written
 *   only to the 0600 run file, see http/cli-endpoint.ts), never stored, gone when the gateway stops.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MasterKey } from '../store/keys';
import type { AdminTokenRecord, AdminTokenStore } from '../store/types';
import { WalCheckpointError } from '../store/errors';

/** What a stored token grants; stored as its `label`. A label outside this list never verifies. */
export type TokenScope = 'admin' | 'metrics';
export const TOKEN_SCOPES: readonly TokenScope[] = ['admin', 'metrics'];
/** Label of the operator's token. */
export const ADMIN_TOKEN_LABEL = 'admin' satisfies TokenScope;
/** Label of a scrape-only token (GET /metrics). */
export const METRICS_TOKEN_LABEL = 'metrics' satisfies TokenScope;

/**
 * The HMAC input prefix of each scope. 'admin' keeps the prefix of the tokens minted before
 * scopes existed, so their stored verifiers stay valid.
 */
const MAC_PREFIX: Readonly<Record<TokenScope, string>> = { admin: 'admin-token\0', metrics: 'metrics-token\0' };
export const TOKEN_BYTES = 32;
/** base64url of 32 bytes, unpadded. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface MintedToken {
  /** Public identifier, recorded in the audit log as the actor ("token:<id>"). */
  readonly id: string;
  /** The bearer token itself. Show once; it is not kept anywhere. */
  readonly token: string;
}

/** A stored token that verified: its record, the label narrowed to the scope it verified under. */
export type ScopedTokenRecord = AdminTokenRecord & { readonly label: TokenScope };

export function isTokenScope(label: string): label is TokenScope {
  return (TOKEN_SCOPES as readonly string[]).includes(label);
}

export interface RotatedToken {
  readonly minted: MintedToken;
  /** Ids of the tokens revoked by the rotation. */
  readonly revoked: readonly string[];
  /**
   * Set when a revoked verifier could not be flushed out of the write-ahead log (another process
   * held it busy). The revocation itself is committed; only the old bytes may linger until the
   * next checkpoint.
   */
  readonly walWarning?: string;
}

/** A fresh token: 256 bits from node:crypto, base64url. */
export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** True for text shaped like a token; anything else is refused before any hashing. */
export function isTokenShaped(text: string): boolean {
  return TOKEN_PATTERN.test(text);
}

export class AdminTokens {
  readonly #key: Buffer;
  private readonly now: () => number;

  constructor(
    private readonly store: AdminTokenStore,
    masterKey: MasterKey,
    options: { readonly now?: () => number } = {},
  ) {
    this.#key = masterKey.derive('adminToken');
    this.now = options.now ?? Date.now;
  }

  /** The stored verifier of a token of `scope`. */
  mac(token: string, scope: TokenScope = ADMIN_TOKEN_LABEL): Buffer {
    return createHmac('sha256', this.#key).update(`${MAC_PREFIX[scope]}${token}`, 'utf8').digest();
  }

  /** Mints a token of `scope` and stores its verifier. */
  async mint(scope: TokenScope = ADMIN_TOKEN_LABEL): Promise<MintedToken> {
    const token = generateToken();
    const id = randomBytes(6).toString('hex');
    await this.store.create({ id, mac: this.mac(token, scope), label: scope, createdAt: this.now() });
    return { id, token };
  }

  /** First start: mints the operator's token when the store holds none. */
  async ensureInitial(): Promise<MintedToken | undefined> {
    if ((await this.store.list()).some((t) => t.label === ADMIN_TOKEN_LABEL)) return undefined;
    return this.mint(ADMIN_TOKEN_LABEL);
  }

  /**
   * Mints a new token of `scope`, then revokes every older one of that scope (only: tokens of the
   * other scope stay valid). In that order: a crash in between leaves two valid tokens (the
   * operator still holds the old one), never none.
   */
  async rotate(scope: TokenScope = ADMIN_TOKEN_LABEL): Promise<RotatedToken> {
    const minted = await this.mint(scope);
    const revoked: string[] = [];
    let walWarning: string | undefined;
    for (const old of await this.store.list()) {
      if (old.label !== scope || old.id === minted.id) continue;
      try {
        if (await this.store.remove(old.id)) revoked.push(old.id);
      } catch (err) {
        if (!(err instanceof WalCheckpointError)) throw err;
        revoked.push(old.id);
        walWarning = err.message;
      }
    }
    return walWarning === undefined ? { minted, revoked } : { minted, revoked, walWarning };
  }

  /**
   * The record of a valid, unexpired token, or undefined. The lookup is by verifier (an HMAC of a
   * 256-bit secret under a secret key: its timing tells a guesser nothing); the verifier is then
   * compared once more in constant time so the decision never rests on the SQL comparison alone.
   * One lookup per scope (the verifier depends on it); a record counts only under the scope its
   * label names.
   */
  async verify(token: string): Promise<ScopedTokenRecord | undefined> {
    if (!isTokenShaped(token)) return undefined;
    for (const scope of TOKEN_SCOPES) {
      const mac = this.mac(token, scope);
      const record = await this.store.findByMac(mac);
      if (record === undefined || record.mac.length !== mac.length || !timingSafeEqual(record.mac, mac)) continue;
      if (record.label !== scope) return undefined;
      const now = this.now();
      if (record.expiresAt !== undefined && record.expiresAt <= now) return undefined;
      await this.store.touch(record.id, now);
      return { ...record, label: scope };
    }
    return undefined;
  }

  /** Overwrites the derived key held in memory. */
  dispose(): void {
    this.#key.fill(0);
  }
}

/** The local CLI's token for one gateway run: in memory only (a digest of it, in fact). */
export class SessionToken {
  readonly #digest: Buffer;

  private constructor(readonly token: string) {
    this.#digest = digest(token);
  }

  static create(): SessionToken {
    return new SessionToken(generateToken());
  }

  /** Constant-time comparison of digests (equal lengths whatever the input). */
  matches(candidate: string): boolean {
    if (!isTokenShaped(candidate)) return false;
    return timingSafeEqual(digest(candidate), this.#digest);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
