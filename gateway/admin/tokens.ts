/**
 * Admin API bearer tokens (RFC 6750 §2.1).
 *
 * A token is 32 random bytes in base64url (43 characters). The store keeps only its verifier:
 * HMAC-SHA256 under a key derived from the master key (KEY_LABELS.adminToken), so a copy of the
 * database alone neither reveals a token nor lets anyone test guesses against it. The token itself
 * is shown once, by the call that minted it.
 *
 * Two kinds:
 * - stored tokens (`AdminTokens`): the operator's, minted at the first start and by
 *   `ciphergate admin token rotate`; checked against the store on every request, so a rotation by
 *   another process (the CLI) takes effect at once, without restarting the gateway;
 * - the session token (`SessionToken`): minted in memory at each start for the local CLI (written
 *   only to the 0600 run file, see http/cli-endpoint.ts), never stored, gone when the gateway stops.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MasterKey } from '../store/keys';
import type { AdminTokenRecord, AdminTokenStore } from '../store/types';
import { WalCheckpointError } from '../store/errors';

/** Label of the operator's token (the store may hold others in future versions). */
export const ADMIN_TOKEN_LABEL = 'admin';
export const TOKEN_BYTES = 32;
/** base64url of 32 bytes, unpadded. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface MintedToken {
  /** Public identifier, recorded in the audit log as the actor ("token:<id>"). */
  readonly id: string;
  /** The bearer token itself. Show once; it is not kept anywhere. */
  readonly token: string;
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

  /** The stored verifier of a token. */
  mac(token: string): Buffer {
    return createHmac('sha256', this.#key).update(`admin-token\0${token}`, 'utf8').digest();
  }

  /** Mints a token and stores its verifier. */
  async mint(label: string = ADMIN_TOKEN_LABEL): Promise<MintedToken> {
    const token = generateToken();
    const id = randomBytes(6).toString('hex');
    await this.store.create({ id, mac: this.mac(token), label, createdAt: this.now() });
    return { id, token };
  }

  /** First start: mints the operator's token when the store holds none. */
  async ensureInitial(): Promise<MintedToken | undefined> {
    if ((await this.store.list()).some((t) => t.label === ADMIN_TOKEN_LABEL)) return undefined;
    return this.mint(ADMIN_TOKEN_LABEL);
  }

  /**
   * Mints a new operator token, then revokes every older one. In that order: a crash in between
   * leaves two valid tokens (the operator still holds the old one), never none.
   */
  async rotate(): Promise<RotatedToken> {
    const minted = await this.mint(ADMIN_TOKEN_LABEL);
    const revoked: string[] = [];
    let walWarning: string | undefined;
    for (const old of await this.store.list()) {
      if (old.label !== ADMIN_TOKEN_LABEL || old.id === minted.id) continue;
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
   */
  async verify(token: string): Promise<AdminTokenRecord | undefined> {
    if (!isTokenShaped(token)) return undefined;
    const mac = this.mac(token);
    const record = await this.store.findByMac(mac);
    if (record === undefined || record.mac.length !== mac.length || !timingSafeEqual(record.mac, mac)) return undefined;
    const now = this.now();
    if (record.expiresAt !== undefined && record.expiresAt <= now) return undefined;
    await this.store.touch(record.id, now);
    return record;
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
