/**
 * Every admin action, once: the account change (UserService), the registrar told at once where
 * live state must go (block, destroy-keys, remove), and one audit entry whatever the outcome.
 * The HTTP API and the CLI (working on a stopped gateway's files) both call this, so an action is
 * audited and enforced the same way whichever tool ran it.
 */
import type { RegistrationBinding } from '../../store/types';
import type { AuditEvent, AuditLog } from '../audit';
import { isValidUserName } from '../user-fields';
import type { AddedUser, AddUserOptions, IssuedOtp, User, UserDetails, UserService, UserUpdate } from '../users';
import { changedFields } from './user-body';
import type { RegistrarControl } from './registrar-control';
import type { MessagingAdmin } from '../../messaging/admin';

/** Who acts, and from where (see AuditEvent). */
export interface Actor {
  readonly actor: string;
  readonly source: string;
}

export interface AdminActionsOptions {
  readonly users: UserService;
  readonly registrar: RegistrarControl;
  readonly audit: AuditLog;
  /** Lifetime of issued one-time passwords (admin.otpTtlSec). */
  readonly otpTtlMs: number;
  /** Messaging (groups; stored messages erased on destroy-keys and removal), when running. */
  readonly messaging?: MessagingAdmin;
}

export class AdminActions {
  readonly users: UserService;
  readonly messaging?: MessagingAdmin;
  private readonly registrar: RegistrarControl;
  private readonly audit: AuditLog;
  private readonly otpTtlMs: number;

  constructor(options: AdminActionsOptions) {
    this.users = options.users;
    this.registrar = options.registrar;
    this.audit = options.audit;
    this.otpTtlMs = options.otpTtlMs;
    if (options.messaging !== undefined) this.messaging = options.messaging;
  }

  listUsers(by: Actor): Promise<User[]> {
    return this.audited(by, 'user.list', undefined, () => this.users.list());
  }

  addUser(by: Actor, name: string, options: AddUserOptions): Promise<AddedUser> {
    return this.audited(by, 'user.add', name, () => this.users.add(name, options),
      (added) => permissionDetail(added.user));
  }

  /**
   * Number, display name, calling permissions. The dial plan reads the account on every call, so a
   * permission change applies from the next call; calls in progress keep their route.
   */
  updateUser(by: Actor, name: string, change: UserUpdate): Promise<User> {
    return this.audited(by, 'user.update', name, () => this.users.update(name, change),
      (user) => ({ changed: changedFields(change), ...permissionDetail(user) }));
  }

  showUser(by: Actor, name: string): Promise<UserDetails> {
    return this.audited(by, 'user.show', name, () => this.users.show(name));
  }

  /** Blocks the account, then drops its registrations and connections. */
  block(by: Actor, name: string): Promise<User> {
    return this.audited(by, 'user.block', name, async () => {
      const user = await this.users.block(name);
      await this.registrar.blockUser(name);
      return user;
    });
  }

  unblock(by: Actor, name: string): Promise<User> {
    return this.audited(by, 'user.unblock', name, () => this.users.unblock(name));
  }

  /** Issues a one-time password; the account needs a new password before it registers again. */
  reset(by: Actor, name: string): Promise<IssuedOtp> {
    return this.audited(by, 'user.reset', name, () => this.users.resetOtp(name, this.otpTtlMs),
      (otp) => ({ expiresAt: new Date(otp.expiresAt).toISOString() }));
  }

  /** Wipes HA1s and OTP (a compromised device), then drops the live registrations. */
  destroyKeys(by: Actor, name: string): Promise<User> {
    return this.audited(by, 'user.destroy-keys', name, async () => {
      const user = await this.users.destroyKeys(name);
      await this.registrar.blockUser(name);
      await this.messaging?.eraseUserMessages(name);
      return user;
    });
  }

  /** Drops the live registrations first (the store's cascade cannot close connections), then deletes. */
  remove(by: Actor, name: string): Promise<void> {
    return this.audited(by, 'user.remove', name, async () => {
      await this.users.show(name); // UnknownUserError before touching the registrar
      await this.registrar.blockUser(name);
      await this.messaging?.eraseUserMessages(name);
      await this.users.remove(name);
    });
  }

  bindCert(by: Actor, name: string, fingerprint: string): Promise<string> {
    return this.audited(by, 'user.bind-cert', name, () => this.users.bindCert(name, fingerprint),
      (fp) => ({ fingerprint: fp }));
  }

  registrations(by: Actor, aor?: string): Promise<readonly RegistrationBinding[]> {
    return this.audited(by, 'registrations.list', undefined, () => this.registrar.registrations(aor),
      (list) => ({ count: list.length, ...(aor !== undefined && { aor }) }));
  }

  /** Self-service: the user sets a new password with the one-time password (no admin token). */
  redeemOtp(source: string, name: string, otp: string, newPassword: string): Promise<User> {
    return this.audited({ actor: 'anonymous', source }, 'self.password', name,
      () => this.users.redeemOtp(name, otp, newPassword));
  }

  private async audited<T>(
    by: Actor,
    action: string,
    target: string | undefined,
    run: () => Promise<T>,
    detail?: (result: T) => AuditEvent['detail'],
  ): Promise<T> {
    // An invalid name is not recorded verbatim: it may be anything typed into the wrong field.
    const shown = target === undefined ? undefined : isValidUserName(target) ? target : '(invalid name)';
    const base = { action, actor: by.actor, source: by.source, ...(shown !== undefined && { target: shown }) };
    try {
      const result = await run();
      this.audit.record({ ...base, result: 'ok', ...(detail !== undefined && { detail: detail(result) }) });
      return result;
    } catch (err) {
      const reason = err instanceof Error ? err.name : 'Error';
      const denied = reason === 'InvalidOtpError' || reason === 'UserBlockedError';
      this.audit.record({ ...base, result: denied ? 'denied' : 'failed', reason });
      throw err;
    }
  }
}

/** The account's calling permissions after the action, for its audit entry. */
function permissionDetail(user: User): { mayCallOffNet: boolean; mayCallInternational: boolean } {
  return { mayCallOffNet: user.mayCallOffNet, mayCallInternational: user.mayCallInternational };
}
