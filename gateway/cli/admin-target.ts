/**
 * Where the account commands act. Two cases, one interface:
 *
 * - the gateway is running (its <dataDir>/run/cli-endpoint.json names a live process): through its
 *   admin API, with the per-run session token from that file. The running process applies the
 *   change, so a block or a key destruction drops live registrations and closes connections at
 *   once, and the audit entry is written by the gateway ("cli:<OS user>");
 * - it is stopped: on the files directly (SQLite store + master key), through the same
 *   AdminActions the API uses, so the change is audited ("cli:<OS user>", source "local") and
 *   checked identically.
 *
 * Errors are HttpError either way (gateway/admin/http/errors.ts), so commands report them the same.
 */
import fs from 'node:fs';
import { userInfo } from 'node:os';
import type { Config } from '../../config/schema';
import { FileAuditLog } from '../admin/audit';
import {
  AdminActions, AdminClient, HttpError, httpErrorFor, readCliEndpoint, registrationView, storeRegistrarControl,
  userDetailsView, userView,
  type Actor, type CliEndpoint, type OtpView, type RegistrationView, type UserDetailsView, type UserView,
} from '../admin/http';
import { UserService, type UserUpdate } from '../admin/users';
import { databasePath, openAccountStore, type OpenedStore } from '../store';
import { openDatabase } from '../store/sqlite/database';
import { localMessagingAdmin } from '../messaging/local-admin';

export interface AddUserInput {
  readonly number?: string;
  readonly displayName?: string;
  readonly password?: string;
  readonly mayCallOffNet?: boolean;
  readonly mayCallInternational?: boolean;
}

export interface AddedUserView {
  readonly user: UserView;
  /** Only when the password was generated; show once. */
  readonly password?: string;
}

export interface AdminTarget {
  /** "running (pid N)" or "stopped". */
  readonly description: string;
  readonly running: boolean;
  listUsers(): Promise<UserView[]>;
  addUser(name: string, input: AddUserInput): Promise<AddedUserView>;
  showUser(name: string): Promise<UserDetailsView>;
  /** Number, display name (null clears), calling permissions: PATCH /api/users/NAME. */
  updateUser(name: string, change: UserUpdate): Promise<UserView>;
  block(name: string): Promise<UserView>;
  unblock(name: string): Promise<UserView>;
  reset(name: string): Promise<OtpView>;
  destroyKeys(name: string): Promise<UserView>;
  remove(name: string): Promise<void>;
  bindCert(name: string, fingerprint: string): Promise<string>;
  registrations(aor?: string): Promise<RegistrationView[]>;
  close(): Promise<void>;
}

/** Thrown when the accounts database does not exist and the command would not create it. */
export class NoDatabaseError extends Error {
  constructor(readonly dataDir: string) {
    super(`no accounts database in ${dataDir}; start the gateway once, or add a user with \`ciphergate user add\` ` +
      '(check --config / --set dataDir=... / CIPHERGATE_DATA point at the right directory)');
    this.name = 'NoDatabaseError';
  }
}

export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Opens the target for `config`: the running gateway when there is one, else the files. */
export async function openAdminTarget(config: Config, options: { readonly create?: boolean } = {}): Promise<AdminTarget> {
  const endpoint = readCliEndpoint(config.dataDir);
  if (endpoint !== undefined) return new RemoteTarget(endpoint);
  if (options.create !== true && !fs.existsSync(databasePath(config.dataDir))) throw new NoDatabaseError(config.dataDir);
  return LocalTarget.open(config);
}

class RemoteTarget implements AdminTarget {
  readonly running = true;
  readonly description: string;
  private readonly client: AdminClient;

  constructor(endpoint: CliEndpoint) {
    this.description = `running (pid ${endpoint.pid})`;
    this.client = new AdminClient({ url: endpoint.url, token: endpoint.token, fingerprint: endpoint.fingerprint, osUser: osUser() });
  }

  async listUsers(): Promise<UserView[]> {
    return (await this.call<{ users: UserView[] }>('GET', '/api/users')).users;
  }

  addUser(name: string, input: AddUserInput): Promise<AddedUserView> {
    return this.call('POST', '/api/users', { name, ...input });
  }

  async showUser(name: string): Promise<UserDetailsView> {
    return (await this.call<{ user: UserDetailsView }>('GET', userPath(name))).user;
  }

  async updateUser(name: string, change: UserUpdate): Promise<UserView> {
    return (await this.call<{ user: UserView }>('PATCH', userPath(name), change)).user;
  }

  async block(name: string): Promise<UserView> {
    return (await this.call<{ user: UserView }>('POST', `${userPath(name)}/block`)).user;
  }

  async unblock(name: string): Promise<UserView> {
    return (await this.call<{ user: UserView }>('POST', `${userPath(name)}/unblock`)).user;
  }

  reset(name: string): Promise<OtpView> {
    return this.call('POST', `${userPath(name)}/reset`);
  }

  async destroyKeys(name: string): Promise<UserView> {
    return (await this.call<{ user: UserView }>('POST', `${userPath(name)}/destroy-keys`)).user;
  }

  async remove(name: string): Promise<void> {
    await this.call('DELETE', userPath(name));
  }

  async bindCert(name: string, fingerprint: string): Promise<string> {
    return (await this.call<{ fingerprint: string }>('POST', `${userPath(name)}/certs`, { fingerprint })).fingerprint;
  }

  async registrations(aor?: string): Promise<RegistrationView[]> {
    const query = aor === undefined ? '' : `?aor=${encodeURIComponent(aor)}`;
    return (await this.call<{ registrations: RegistrationView[] }>('GET', `/api/registrations${query}`)).registrations;
  }

  async close(): Promise<void> {
    // Each request used its own connection (Connection: close): nothing to release.
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.client.request(method, path, body);
    if (res.status >= 200 && res.status < 300) return res.body as T;
    const b = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as Record<string, unknown>;
    const message = typeof b.error === 'string' ? b.error : `the gateway answered ${res.status}`;
    const violations = Array.isArray(b.violations) ? b.violations.filter((v): v is string => typeof v === 'string') : undefined;
    throw new HttpError(res.status, message, {
      ...(typeof b.field === 'string' && { field: b.field }),
      ...(violations !== undefined && { violations }),
    });
  }
}

class LocalTarget implements AdminTarget {
  readonly running = false;
  readonly description = 'stopped';
  private readonly by: Actor = { actor: `cli:${osUser()}`, source: 'local' };

  private constructor(
    private readonly opened: OpenedStore,
    private readonly users: UserService,
    private readonly audit: FileAuditLog,
    private readonly actions: AdminActions,
    private readonly messagingDb: ReturnType<typeof openDatabase>,
  ) {}

  static async open(config: Config): Promise<LocalTarget> {
    const opened = await openAccountStore(config.dataDir);
    const users = new UserService({ store: opened.store, masterKey: opened.masterKey, realm: config.sip.realm });
    const audit = FileAuditLog.open(config.dataDir);
    // destroy-keys and remove also erase the user's stored messages, gateway running or not.
    const messagingDb = openDatabase(config.dataDir);
    const actions = new AdminActions({
      users, audit, registrar: storeRegistrarControl(opened.store.registrations), otpTtlMs: config.admin.otpTtlSec * 1000,
      messaging: localMessagingAdmin(config, messagingDb, audit),
    });
    return new LocalTarget(opened, users, audit, actions, messagingDb);
  }

  listUsers(): Promise<UserView[]> {
    return this.run(async () => (await this.actions.listUsers(this.by)).map(userView));
  }

  addUser(name: string, input: AddUserInput): Promise<AddedUserView> {
    return this.run(async () => {
      const added = await this.actions.addUser(this.by, name, input);
      return { user: userView(added.user), ...(added.generatedPassword !== undefined && { password: added.generatedPassword }) };
    });
  }

  showUser(name: string): Promise<UserDetailsView> {
    return this.run(async () => userDetailsView(await this.actions.showUser(this.by, name)));
  }

  updateUser(name: string, change: UserUpdate): Promise<UserView> {
    return this.run(async () => userView(await this.actions.updateUser(this.by, name, change)));
  }

  block(name: string): Promise<UserView> {
    return this.run(async () => userView(await this.actions.block(this.by, name)));
  }

  unblock(name: string): Promise<UserView> {
    return this.run(async () => userView(await this.actions.unblock(this.by, name)));
  }

  reset(name: string): Promise<OtpView> {
    return this.run(async () => {
      const issued = await this.actions.reset(this.by, name);
      return { user: name, otp: issued.otp, expiresAt: new Date(issued.expiresAt).toISOString() };
    });
  }

  destroyKeys(name: string): Promise<UserView> {
    return this.run(async () => userView(await this.actions.destroyKeys(this.by, name)));
  }

  remove(name: string): Promise<void> {
    return this.run(() => this.actions.remove(this.by, name));
  }

  bindCert(name: string, fingerprint: string): Promise<string> {
    return this.run(() => this.actions.bindCert(this.by, name, fingerprint));
  }

  registrations(aor?: string): Promise<RegistrationView[]> {
    return this.run(async () => (await this.actions.registrations(this.by, aor)).map(registrationView));
  }

  async close(): Promise<void> {
    this.messagingDb.close();
    this.users.dispose();
    this.opened.masterKey.dispose();
    await this.opened.store.close();
    await this.audit.close();
  }

  /** Account errors become the HttpError the API would have answered. */
  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw httpErrorFor(err) ?? err;
    }
  }
}

function userPath(name: string): string {
  return `/api/users/${encodeURIComponent(name)}`;
}
