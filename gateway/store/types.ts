/**
 * The accounts data layer's contract: what the registrar, the digest server, the admin API and the
 * CLI may ask of storage. Records hold plain data and opaque bytes; sealing and hashing happen
 * above (gateway/admin/users.ts), so a backend stores bytes it cannot read.
 *
 * Why every method returns a Promise: the SQLite backend (better-sqlite3) is synchronous and
 * resolves at once, but a PostgreSQL backend cannot be. Making the contract asynchronous now costs
 * one microtask per call (nothing next to a SIP round trip) and means callers written today need no
 * change when a networked backend arrives. Each method is one atomic unit of work: a backend runs
 * it in one transaction, so callers never hold a transaction open across an `await`.
 *
 * Times are milliseconds since the Unix epoch (wall clock), supplied by the caller: the store has
 * no clock of its own, which keeps expiry testable and backends consistent.
 */
import type { TransportProtocol } from '../sip/transport/types';

/** The digest hash functions a HA1 is kept for (RFC 7616 §6.1, RFC 8760 §2). */
export type Ha1Algorithm = 'MD5' | 'SHA-256' | 'SHA-512-256';
export const HA1_ALGORITHMS: readonly Ha1Algorithm[] = ['SHA-512-256', 'SHA-256', 'MD5'];

/**
 * - active: may register and call;
 * - blocked: refused by the registrar, secrets kept;
 * - password-change-required: refused until a new password is set (one-time password pending,
 *   or keys destroyed).
 */
export type UserState = 'active' | 'blocked' | 'password-change-required';

export interface UserRecord {
  /** SIP user part (RFC 3261 §19.1.1), the account's primary key. Never renamed. */
  readonly name: string;
  /** E.164 number (`+` and 8..15 digits), unique across users. */
  readonly number?: string;
  readonly displayName?: string;
  readonly state: UserState;
  readonly mayCallOffNet: boolean;
  readonly mayCallInternational: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Fields `UserStore.update` may change; `null` clears an optional field. */
export interface UserPatch {
  number?: string | null;
  displayName?: string | null;
  state?: UserState;
  mayCallOffNet?: boolean;
  mayCallInternational?: boolean;
}

export interface UserStore {
  /** Throws StoreConflictError (field 'name' or 'number') when either is taken. */
  create(user: UserRecord): Promise<void>;
  get(name: string): Promise<UserRecord | undefined>;
  getByNumber(e164: string): Promise<UserRecord | undefined>;
  /** Every user, ordered by name. */
  list(): Promise<UserRecord[]>;
  /** Returns the updated record, or undefined for an unknown user. StoreConflictError on a taken number. */
  update(name: string, patch: UserPatch, now: number): Promise<UserRecord | undefined>;
  /**
   * Deletes the user with everything attached: secrets are wiped as by `SecretStore.wipe`,
   * registrations and certificate bindings deleted. Returns false for an unknown user.
   */
  remove(name: string): Promise<boolean>;
}

/** A digest HA1 sealed by the caller (sealed.ts), for one realm and hash. */
export interface SealedHa1 {
  readonly algorithm: Ha1Algorithm;
  readonly realm: string;
  readonly sealed: Buffer;
}

/** A one-time password verifier: HMAC-SHA256 of the OTP, never the OTP itself. */
export interface OtpRecord {
  readonly mac: Buffer;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Set once the OTP was redeemed; a used OTP never verifies again. */
  readonly usedAt?: number;
}

/** Which secrets `SecretStore.wipe` destroys. */
export type SecretKind = 'ha1' | 'otp' | 'all';

/**
 * Secret columns. Replacing or wiping a secret destroys the old bytes: overwritten with zeros of
 * the same length, deleted, and the write-ahead log truncated, so they survive in no file.
 */
export interface SecretStore {
  /** Replaces every HA1 of the user (old ones wiped). StoreNotFoundError for an unknown user. */
  putHa1s(name: string, ha1s: readonly SealedHa1[]): Promise<void>;
  getHa1(name: string, algorithm: Ha1Algorithm): Promise<SealedHa1 | undefined>;
  hasHa1s(name: string): Promise<boolean>;
  /** Replaces the user's OTP verifier (the old one wiped). StoreNotFoundError for an unknown user. */
  putOtp(name: string, otp: OtpRecord): Promise<void>;
  getOtp(name: string): Promise<OtpRecord | undefined>;
  /**
   * Marks the OTP whose verifier is `mac` used, if it is still unused and unexpired at `now`.
   * Atomic compare-and-set: of two concurrent redemptions exactly one gets true.
   */
  consumeOtp(name: string, mac: Buffer, now: number): Promise<boolean>;
  wipe(name: string, kind: SecretKind): Promise<void>;
  /** Key check value of the master key the secrets were sealed under (keys.ts). */
  getKeyCheck(): Promise<Buffer | undefined>;
  setKeyCheck(value: Buffer): Promise<void>;
}

/**
 * A registration binding (RFC 3261 §10.3): AOR → Contact, with what RFC 5626 outbound needs to
 * reach the UA over the flow it registered on (§5.2, §6), and the Path (RFC 3327 §5.3).
 */
export interface RegistrationBinding {
  /** Address-of-record, canonical form chosen by the registrar (RFC 3261 §10.3 step 5). */
  readonly aor: string;
  /**
   * Contact URI as the registrar compares it (RFC 3261 §10.3 step 7 uses URI equality, §19.1.4:
   * the registrar stores a canonical form so that string equality is URI equality).
   */
  readonly contact: string;
  /** The authenticated user that created the binding (RFC 3261 §10.3 step 3). */
  readonly user: string;
  /** Call-ID and CSeq of the last update, for the §10.3 step 7 ordering check. */
  readonly callId: string;
  readonly cseq: number;
  readonly expiresAt: number;
  /** q-value in thousandths (RFC 3261 §20.10: three decimals), 0..1000. */
  readonly qMilli?: number;
  /** RFC 5626 §4.1 `+sip.instance` and `reg-id`; both or neither. */
  readonly instanceId?: string;
  readonly regId?: number;
  /** Where the REGISTER came from: where requests to this contact go (RFC 5626 §5.3). */
  readonly transport: TransportProtocol;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  /** The connection the REGISTER arrived on (TCP/TLS), see transport/types.ts. */
  readonly flowId?: string;
  /** Path header URIs in order (RFC 3327 §5.3). */
  readonly path: readonly string[];
  readonly userAgent?: string;
  readonly registeredAt: number;
  readonly updatedAt: number;
}

export interface RegistrationStore {
  /**
   * Inserts or replaces the binding for (aor, contact). When instanceId and regId are set, any
   * other binding of the same AOR with the same pair is replaced too (RFC 5626 §6 step 3).
   * StoreNotFoundError for an unknown user.
   */
  upsert(binding: RegistrationBinding): Promise<void>;
  remove(aor: string, contact: string): Promise<boolean>;
  /** `Contact: *` with Expires 0 (RFC 3261 §10.3 step 6). Returns the number removed. */
  removeAll(aor: string): Promise<number>;
  /** Bindings of one AOR, or all; ordered by AOR, then q-value descending. */
  list(aor?: string): Promise<RegistrationBinding[]>;
  /** Deletes bindings with expiresAt <= now; returns how many. */
  expire(now: number): Promise<number>;
}

/** User → client certificate (SHA-256 fingerprint, 64 lower-case hex digits, RFC 8122 §5). */
export interface CertBinding {
  readonly user: string;
  readonly fingerprint: string;
  readonly createdAt: number;
}

export interface CertBindingStore {
  /** StoreConflictError (field 'fingerprint') when bound to another user; StoreNotFoundError for an unknown user. */
  bind(binding: CertBinding): Promise<void>;
  unbind(user: string, fingerprint: string): Promise<boolean>;
  listFor(user: string): Promise<CertBinding[]>;
  userFor(fingerprint: string): Promise<string | undefined>;
}

/** An admin API token, stored as an HMAC of the token (never the token). */
export interface AdminTokenRecord {
  readonly id: string;
  readonly mac: Buffer;
  readonly label: string;
  readonly createdAt: number;
  readonly expiresAt?: number;
  readonly lastUsedAt?: number;
}

export interface AdminTokenStore {
  /** StoreConflictError (field 'token') when the id or mac exists. */
  create(token: AdminTokenRecord): Promise<void>;
  findByMac(mac: Buffer): Promise<AdminTokenRecord | undefined>;
  list(): Promise<AdminTokenRecord[]>;
  touch(id: string, now: number): Promise<void>;
  /** Wipes the verifier like a secret. */
  remove(id: string): Promise<boolean>;
}

/** A whole backend. */
export interface AccountStore {
  readonly users: UserStore;
  readonly secrets: SecretStore;
  readonly registrations: RegistrationStore;
  readonly certs: CertBindingStore;
  readonly adminTokens: AdminTokenStore;
  close(): Promise<void>;
}
