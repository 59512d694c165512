/**
 * What the group commands (group-*.ts) share. Like the account commands (admin-target.ts), they
 * act on the running gateway through its admin API when there is one (its session token from
 * <dataDir>/run/cli-endpoint.json), else on the files directly through the same audited
 * MessagingAdmin the API uses. Errors are HttpError either way and reported by user-common.ts.
 */
import fs from 'node:fs';
import type { Config } from '../../config/schema';
import { FileAuditLog } from '../admin/audit';
import { AdminClient, HttpError, readCliEndpoint, type Actor, type CliEndpoint } from '../admin/http';
import { groupView, MessagingAdmin, messagingHttpError, type GroupView } from '../messaging';
import { databasePath } from '../store';
import { openDatabase } from '../store/sqlite/database';
import { NoDatabaseError, osUser } from './admin-target';
import { localMessagingAdmin } from '../messaging/local-admin';
import type { CliArgument, CliCommand, CliIo, CliValues } from './command';
import { CONFIG_HELP, configFromArgs, configuredCommand, type ConfiguredCommandSpec } from './config-options';
import { report } from './user-common';


export const GROUP_ARG: readonly CliArgument[] = [{ name: 'NAME' }];
export const GROUP_USER_ARGS: readonly CliArgument[] = [{ name: 'NAME' }, { name: 'USER' }];

export interface GroupTarget {
  readonly running: boolean;
  listGroups(): Promise<GroupView[]>;
  addGroup(name: string, confidential: boolean): Promise<GroupView>;
  removeGroup(name: string): Promise<void>;
  addMember(group: string, user: string): Promise<GroupView>;
  removeMember(group: string, user: string): Promise<GroupView>;
  close(): Promise<void>;
}

const HELP = [
  CONFIG_HELP,
  '',
  'A group NAME is the SIP URI sip:NAME@<sip.domain>; a MESSAGE to it reaches every member but the',
  'sender. Works on a running gateway through its admin API, on a stopped one on <dataDir> directly.',
  'Every action is recorded in <dataDir>/audit.log.',
  '',
  'Exit status: 0 done, 1 failed (the reason on stderr), 2 bad command line.',
].join('\n');

export interface GroupCommandSpec extends ConfiguredCommandSpec {
  act(target: GroupTarget, values: CliValues, args: readonly string[], io: CliIo): Promise<number>;
}

export function groupCommand(spec: GroupCommandSpec): CliCommand {
  return {
    ...configuredCommand(spec, HELP),
    async run(values, io, args) {
      let target: GroupTarget;
      try {
        target = await openGroupTarget(configFromArgs(values, io));
      } catch (err) {
        return report(io, err, undefined);
      }
      try {
        return await spec.act(target, values, args, io);
      } catch (err) {
        return report(io, err, undefined);
      } finally {
        await target.close();
      }
    },
  };
}

/** The running gateway when there is one, else the files. */
export async function openGroupTarget(config: Config): Promise<GroupTarget> {
  const endpoint = readCliEndpoint(config.dataDir);
  if (endpoint !== undefined) return new RemoteGroups(endpoint);
  if (!fs.existsSync(databasePath(config.dataDir))) throw new NoDatabaseError(config.dataDir);
  return LocalGroups.open(config);
}

class RemoteGroups implements GroupTarget {
  readonly running = true;
  private readonly client: AdminClient;

  constructor(endpoint: CliEndpoint) {
    this.client = new AdminClient({ url: endpoint.url, token: endpoint.token, fingerprint: endpoint.fingerprint, osUser: osUser() });
  }

  async listGroups(): Promise<GroupView[]> {
    return (await this.call<{ groups: GroupView[] }>('GET', '/api/groups')).groups;
  }

  async addGroup(name: string, confidential: boolean): Promise<GroupView> {
    return (await this.call<{ group: GroupView }>('POST', '/api/groups', { name, confidential })).group;
  }

  async removeGroup(name: string): Promise<void> {
    await this.call('DELETE', `/api/groups/${encodeURIComponent(name)}`);
  }

  async addMember(group: string, user: string): Promise<GroupView> {
    return (await this.call<{ group: GroupView }>('POST', `/api/groups/${encodeURIComponent(group)}/members`, { user })).group;
  }

  async removeMember(group: string, user: string): Promise<GroupView> {
    const path = `/api/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(user)}`;
    return (await this.call<{ group: GroupView }>('DELETE', path)).group;
  }

  async close(): Promise<void> {
    // One connection per request (Connection: close): nothing held.
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.client.request(method, path, body);
    if (res.status >= 200 && res.status < 300) return res.body as T;
    const b = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as Record<string, unknown>;
    throw new HttpError(res.status, typeof b.error === 'string' ? b.error : `the gateway answered ${res.status}`,
      typeof b.field === 'string' ? { field: b.field } : {});
  }
}

class LocalGroups implements GroupTarget {
  readonly running = false;
  private readonly by: Actor = { actor: `cli:${osUser()}`, source: 'local' };

  private constructor(
    private readonly db: ReturnType<typeof openDatabase>,
    private readonly audit: FileAuditLog,
    private readonly admin: MessagingAdmin,
  ) {}

  static open(config: Config): LocalGroups {
    const db = openDatabase(config.dataDir);
    const audit = FileAuditLog.open(config.dataDir);
    return new LocalGroups(db, audit, localMessagingAdmin(config, db, audit));
  }

  listGroups(): Promise<GroupView[]> {
    return this.run(async () => (await this.admin.listGroups(this.by)).map((g) => this.view(g)));
  }

  addGroup(name: string, confidential: boolean): Promise<GroupView> {
    return this.run(async () => this.view(await this.admin.addGroup(this.by, name, confidential)));
  }

  removeGroup(name: string): Promise<void> {
    return this.run(() => this.admin.removeGroup(this.by, name));
  }

  addMember(group: string, user: string): Promise<GroupView> {
    return this.run(async () => this.view(await this.admin.addMember(this.by, group, user)));
  }

  removeMember(group: string, user: string): Promise<GroupView> {
    return this.run(async () => this.view(await this.admin.removeMember(this.by, group, user)));
  }

  async close(): Promise<void> {
    this.db.close();
    await this.audit.close();
  }

  private view(g: Parameters<typeof groupView>[0]): GroupView {
    return groupView(g, (n) => this.admin.aorOf(n));
  }

  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw messagingHttpError(err) ?? err;
    }
  }
}
