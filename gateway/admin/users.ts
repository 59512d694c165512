/**
 * UserService: the account operations the CLI, the admin API and the registrar share.
 *
 * Secrets: the password is never stored; its HA1 for every supported digest hash (RFC 7616 §3.4.2,
 * RFC 8760) is sealed with the master key (credentials.ts). A generated password or an OTP is
 * returned once, by the call that created it, and exists nowhere else afterwards.
 *
 * States (store/types.ts): `blocked` is only left by `unblock`; a password change (setPassword,
 * redeemOtp) or wipe keeps a blocked user blocked. `ha1For` answers only for `active` users, so a
 * blocked user, or one whose password must change, fails digest authentication like a wrong
 * password (RFC 3261 §22.4), whatever the registrar does about the state.
 *
 * Multi-step operations are ordered so that a crash between steps leaves a safe state: a user is
 * created without credentials first (cannot register), the OTP is consumed before the new HA1s
 * are written (an OTP is never usable twice).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { MasterKey } from '../store/keys';
import { StoreConflictError } from '../store/errors';
import type { AccountStore, Ha1Algorithm, UserPatch, UserRecord } from '../store/types';
import { Credentials, generateOtp } from './credentials';
import {
  AdminError,
  CertificateInUseError,
  InvalidOtpError,
  NumberInUseError,
  PasswordPolicyError,
  UnknownUserError,
  UserBlockedError,
  UserExistsError,
} from './errors';
import { checkPassword, generatePassword, resolvePolicy, type PasswordPolicy } from './password-policy';
import { checkDisplayName, checkNumber, checkUserName, isValidUserName, normalizeFingerprint } from './user-fields';

export type User = UserRecord;

export const DEFAULT_OTP_TTL_MS = 24 * 60 * 60 * 1000;
const MIN_OTP_TTL_MS = 60 * 1000;
const MAX_OTP_TTL_MS = 30 * DEFAULT_OTP_TTL_MS;

export interface UserServiceOptions {
  readonly store: Pick<AccountStore, 'users' | 'secrets' | 'certs'>;
  readonly masterKey: MasterKey;
  /** Digest realm from configuration (sip.realm): every HA1 is computed for it. */
  readonly realm: string;
  readonly policy?: Partial<PasswordPolicy>;
  /** Wall clock in ms since the epoch (tests inject one). */
  readonly now?: () => number;
}

export interface AddUserOptions {
  readonly number?: string;
  readonly displayName?: string;
  /** Checked against the policy; when absent a strong one is generated and returned once. */
  readonly password?: string;
  /** Default false: off-net and international calling are granted explicitly. */
  readonly mayCallOffNet?: boolean;
  readonly mayCallInternational?: boolean;
}

export interface AddedUser {
  readonly user: User;
  /** The generated password, only when none was given. Show it once; it is not kept. */
  readonly generatedPassword?: string;
}

/** What `update` may change; `null` clears number or display name. */
export interface UserUpdate {
  readonly number?: string | null;
  readonly displayName?: string | null;
  readonly mayCallOffNet?: boolean;
  readonly mayCallInternational?: boolean;
}

export interface UserDetails extends User {
  readonly hasPassword: boolean;
  /** An unused, unexpired OTP exists. */
  readonly otpPending: boolean;
  readonly otpExpiresAt?: number;
  /** SHA-256 fingerprints of bound client certificates. */
  readonly certificates: readonly string[];
}

export interface IssuedOtp {
  /** Show once. Case and dashes do not matter when it is redeemed. */
  readonly otp: string;
  readonly expiresAt: number;
}

export class UserService {
  readonly realm: string;
  private readonly store: UserServiceOptions['store'];
  private readonly credentials: Credentials;
  private readonly policy: PasswordPolicy;
  private readonly now: () => number;

  constructor(options: UserServiceOptions) {
    this.store = options.store;
    this.realm = options.realm;
    this.credentials = new Credentials(options.masterKey);
    this.policy = resolvePolicy(options.policy);
    this.now = options.now ?? Date.now;
  }

  async add(name: string, options: AddUserOptions = {}): Promise<AddedUser> {
    checkUserName(name);
    if (options.number !== undefined) checkNumber(options.number);
    if (options.displayName !== undefined) checkDisplayName(options.displayName);
    const password = options.password ?? generatePassword(this.policy, name);
    const generated = options.password === undefined ? password : undefined;
    this.assertPolicy(password, name);
    if ((await this.store.users.get(name)) !== undefined) throw new UserExistsError(name);
    if (options.number !== undefined) await this.assertNumberFree(options.number, name);
    const now = this.now();
    try {
      await this.store.users.create({
        name,
        ...(options.number !== undefined && { number: options.number }),
        ...(options.displayName !== undefined && { displayName: options.displayName }),
        state: 'password-change-required',
        mayCallOffNet: options.mayCallOffNet ?? false,
        mayCallInternational: options.mayCallInternational ?? false,
        createdAt: now,
        updatedAt: now,
      });
    } catch (err) {
      throw await this.mapConflict(err, name, options.number);
    }
    await this.store.secrets.putHa1s(name, this.credentials.sealHa1s(name, this.realm, password));
    const user = await this.patch(name, { state: 'active' });
    return generated === undefined ? { user } : { user, generatedPassword: generated };
  }

  async get(name: string): Promise<User | undefined> {
    return isValidUserName(name) ? this.store.users.get(name) : undefined;
  }

  async getByNumber(e164: string): Promise<User | undefined> {
    return this.store.users.getByNumber(e164);
  }

  async list(): Promise<User[]> {
    return this.store.users.list();
  }

  async show(name: string): Promise<UserDetails> {
    const user = await this.require(name);
    const otp = await this.store.secrets.getOtp(name);
    const otpPending = otp !== undefined && otp.usedAt === undefined && otp.expiresAt > this.now();
    return {
      ...user,
      hasPassword: await this.store.secrets.hasHa1s(name),
      otpPending,
      ...(otpPending && { otpExpiresAt: otp.expiresAt }),
      certificates: (await this.store.certs.listFor(name)).map((c) => c.fingerprint),
    };
  }

  async update(name: string, change: UserUpdate): Promise<User> {
    await this.require(name);
    if (typeof change.number === 'string') {
      checkNumber(change.number);
      await this.assertNumberFree(change.number, name);
    }
    if (typeof change.displayName === 'string') checkDisplayName(change.displayName);
    const patch: UserPatch = {
      ...(change.number !== undefined && { number: change.number }),
      ...(change.displayName !== undefined && { displayName: change.displayName }),
      ...(change.mayCallOffNet !== undefined && { mayCallOffNet: change.mayCallOffNet }),
      ...(change.mayCallInternational !== undefined && { mayCallInternational: change.mayCallInternational }),
    };
    try {
      return await this.patch(name, patch);
    } catch (err) {
      throw await this.mapConflict(err, name, change.number ?? undefined);
    }
  }

  async block(name: string): Promise<User> {
    await this.require(name);
    return this.patch(name, { state: 'blocked' });
  }

  /** Back to `active` when the user has a password and no OTP pending, else `password-change-required`. */
  async unblock(name: string): Promise<User> {
    const user = await this.require(name);
    if (user.state !== 'blocked') return user;
    const otp = await this.store.secrets.getOtp(name);
    const otpPending = otp !== undefined && otp.usedAt === undefined && otp.expiresAt > this.now();
    const usable = (await this.store.secrets.hasHa1s(name)) && !otpPending;
    return this.patch(name, { state: usable ? 'active' : 'password-change-required' });
  }

  /** Administrator sets the password: replaces the HA1s, cancels a pending OTP. */
  async setPassword(name: string, password: string): Promise<User> {
    const user = await this.require(name);
    this.assertPolicy(password, name);
    await this.store.secrets.putHa1s(name, this.credentials.sealHa1s(name, this.realm, password));
    await this.store.secrets.wipe(name, 'otp');
    return user.state === 'blocked' ? user : this.patch(name, { state: 'active' });
  }

  /**
   * Issues a single-use OTP with which the user sets a new password (redeemOtp). Replaces any
   * earlier OTP. The user is `password-change-required` until then; the old password stops working.
   */
  async resetOtp(name: string, ttlMs: number = DEFAULT_OTP_TTL_MS): Promise<IssuedOtp> {
    if (!Number.isInteger(ttlMs) || ttlMs < MIN_OTP_TTL_MS || ttlMs > MAX_OTP_TTL_MS) {
      throw new AdminError('OTP lifetime must be a whole number of milliseconds between 1 minute and 30 days');
    }
    const user = await this.require(name);
    if (user.state === 'blocked') throw new UserBlockedError(name);
    const otp = generateOtp();
    const now = this.now();
    const expiresAt = now + ttlMs;
    await this.store.secrets.putOtp(name, { mac: this.credentials.otpMac(name, otp), createdAt: now, expiresAt });
    await this.patch(name, { state: 'password-change-required' });
    return { otp, expiresAt };
  }

  /**
   * The user sets a new password with an OTP. Any OTP failure (wrong, expired, used, unknown or
   * blocked user) is the same InvalidOtpError after the same work (a constant-time comparison
   * against a dummy when there is nothing to compare with). A policy failure does not use up the OTP.
   */
  async redeemOtp(name: string, otp: string, newPassword: string): Promise<User> {
    const now = this.now();
    const user = isValidUserName(name) ? await this.store.users.get(name) : undefined;
    const record = user === undefined ? undefined : await this.store.secrets.getOtp(name);
    const candidate = this.credentials.otpMac(name, otp);
    const expected = record?.mac.length === candidate.length ? record.mac : randomBytes(candidate.length);
    const matches = timingSafeEqual(candidate, expected);
    const valid =
      matches && user !== undefined && user.state !== 'blocked' && record !== undefined &&
      record.usedAt === undefined && record.expiresAt > now;
    if (!valid) throw new InvalidOtpError();
    this.assertPolicy(newPassword, name);
    if (!(await this.store.secrets.consumeOtp(name, candidate, now))) throw new InvalidOtpError();
    await this.store.secrets.putHa1s(name, this.credentials.sealHa1s(name, this.realm, newPassword));
    return this.patch(name, { state: 'active' });
  }

  /** Wipes HA1s and OTP. The user cannot register until setPassword (or a new OTP is redeemed). */
  async destroyKeys(name: string): Promise<User> {
    const user = await this.require(name);
    await this.store.secrets.wipe(name, 'all');
    return user.state === 'blocked' ? user : this.patch(name, { state: 'password-change-required' });
  }

  /** Deletes the user, wiping its secrets and dropping its registrations and certificate bindings. */
  async remove(name: string): Promise<void> {
    if (!(await this.store.users.remove(checkUserName(name)))) throw new UnknownUserError(name);
  }

  /**
   * The HA1 for the digest server (RFC 7616 §3.4.2) as raw bytes (hex-encode for the
   * computation); undefined for another realm, an unknown or non-active user, or no HA1 of that
   * hash. Throws SealedValueError when the stored value does not authenticate (tampering).
   */
  async ha1For(name: string, realm: string, algorithm: Ha1Algorithm): Promise<Buffer | undefined> {
    if (realm !== this.realm || !isValidUserName(name)) return undefined;
    const user = await this.store.users.get(name);
    if (user?.state !== 'active') return undefined;
    const sealed = await this.store.secrets.getHa1(name, algorithm);
    if (sealed === undefined || sealed.realm !== realm) return undefined;
    return this.credentials.openHa1(name, sealed);
  }

  /** Binds a client certificate (SHA-256 fingerprint) to the user; returns the stored form. */
  async bindCert(name: string, fingerprint: string): Promise<string> {
    const fp = normalizeFingerprint(fingerprint);
    await this.require(name);
    try {
      await this.store.certs.bind({ user: name, fingerprint: fp, createdAt: this.now() });
    } catch (err) {
      if (err instanceof StoreConflictError) throw new CertificateInUseError((await this.store.certs.userFor(fp)) ?? 'another user');
      throw err;
    }
    return fp;
  }

  async unbindCert(name: string, fingerprint: string): Promise<boolean> {
    await this.require(name);
    return this.store.certs.unbind(name, normalizeFingerprint(fingerprint));
  }

  /** The user a verified client certificate belongs to, if bound. */
  async userForCert(fingerprint: string): Promise<User | undefined> {
    const name = await this.store.certs.userFor(normalizeFingerprint(fingerprint));
    return name === undefined ? undefined : this.store.users.get(name);
  }

  /** Overwrites the derived keys held in memory. */
  dispose(): void {
    this.credentials.dispose();
  }

  private async require(name: string): Promise<User> {
    checkUserName(name);
    const user = await this.store.users.get(name);
    if (user === undefined) throw new UnknownUserError(name);
    return user;
  }

  private async patch(name: string, patch: UserPatch): Promise<User> {
    const user = await this.store.users.update(name, patch, this.now());
    if (user === undefined) throw new UnknownUserError(name);
    return user;
  }

  private assertPolicy(password: string, name: string): void {
    const check = checkPassword(password, { username: name }, this.policy);
    if (!check.ok) throw new PasswordPolicyError(check.violations);
  }

  private async assertNumberFree(number: string, name: string): Promise<void> {
    const holder = await this.store.users.getByNumber(number);
    if (holder !== undefined && holder.name !== name) throw new NumberInUseError(number, holder.name);
  }

  /** A store conflict that slipped past the pre-checks (a concurrent writer) as the admin error. */
  private async mapConflict(err: unknown, name: string, number: string | undefined): Promise<unknown> {
    if (!(err instanceof StoreConflictError)) return err;
    if (err.field === 'name') return new UserExistsError(name);
    if (err.field === 'number' && number !== undefined) {
      return new NumberInUseError(number, (await this.store.users.getByNumber(number))?.name ?? 'another user');
    }
    return err;
  }
}
