/**
 * Messaging administration: groups, the per-user confidential policy, and the erasure of a user's
 * stored messages when its keys are destroyed or the account removed. Every action is audited
 * once, whatever its outcome, like the account actions (admin/http/actions.ts); the admin API
 * (running gateway) and the CLI (stopped gateway, on the files) both go through this class.
 */
import type { AuditLog } from '../admin/audit';
import type { Actor } from '../admin/http/actions';
import { isValidUserName } from '../admin/user-fields';
import { UnknownGroupError } from './errors';
import type { Group, GroupStore, PolicyStore } from './groups';

/** What account administration calls when a user's keys are destroyed or the user is removed. */
export interface MessagingControl {
  /** Erases every message stored for the user (overwritten, deleted, WAL truncated). */
  eraseUserMessages(name: string): Promise<number>;
}

export interface MessagingAdminOptions {
  readonly groups: GroupStore;
  readonly policies: PolicyStore;
  /** Erasure of a user's stored messages (the running service's, or the store's directly). */
  readonly erase: (name: string) => number;
  readonly audit: AuditLog;
  readonly maxGroupMembers: number;
  /** AOR of an account (sip:name@domain), recorded for the member of a membership change. */
  readonly aorOf: (name: string) => string;
  readonly now?: () => number;
}

export class MessagingAdmin implements MessagingControl {
  private readonly now: () => number;

  constructor(private readonly o: MessagingAdminOptions) {
    this.now = o.now ?? Date.now;
  }

  /** The URI of a user or group (sip:NAME@domain). */
  aorOf(name: string): string {
    return this.o.aorOf(name);
  }

  listGroups(by: Actor): Promise<Group[]> {
    return this.audited(by, 'group.list', undefined, () => this.o.groups.list());
  }

  showGroup(by: Actor, name: string): Promise<Group> {
    return this.audited(by, 'group.show', name, () => {
      const g = this.o.groups.get(name);
      if (g === undefined) throw new UnknownGroupError(name);
      return g;
    });
  }

  addGroup(by: Actor, name: string, confidential: boolean): Promise<Group> {
    return this.audited(by, confidential ? 'group.add-confidential' : 'group.add', name, () => this.o.groups.create(name, confidential, this.now()));
  }

  removeGroup(by: Actor, name: string): Promise<void> {
    return this.audited(by, 'group.remove', name, () => this.o.groups.remove(name));
  }

  addMember(by: Actor, group: string, user: string): Promise<Group> {
    return this.audited(by, 'group.member-add', group, () => this.o.groups.addMember(group, user, this.now(), this.o.maxGroupMembers), user);
  }

  removeMember(by: Actor, group: string, user: string): Promise<Group> {
    return this.audited(by, 'group.member-remove', group, () => this.o.groups.removeMember(group, user), user);
  }

  setGroupConfidential(by: Actor, group: string, confidential: boolean): Promise<Group> {
    return this.audited(by, confidential ? 'group.confidential-on' : 'group.confidential-off', group,
      () => this.o.groups.setConfidential(group, confidential));
  }

  setUserConfidential(by: Actor, user: string, confidential: boolean): Promise<boolean> {
    return this.audited(by, confidential ? 'user.confidential-on' : 'user.confidential-off', user, () => {
      this.o.policies.setConfidential(user, confidential, this.now());
      return confidential;
    });
  }

  async eraseUserMessages(name: string): Promise<number> {
    const count = this.o.erase(name);
    this.o.audit.record({ action: 'messages.erase', actor: 'gateway', source: 'local', target: name, result: 'ok', detail: { count } });
    return count;
  }

  private async audited<T>(
    by: Actor,
    action: string,
    target: string | undefined,
    run: () => T,
    member?: string,
  ): Promise<T> {
    // An invalid name is not recorded verbatim: it may be anything typed into the wrong field.
    const shown = target === undefined ? undefined : isValidUserName(target) ? target : '(invalid name)';
    const aor = member === undefined ? undefined : isValidUserName(member) ? this.o.aorOf(member) : '(invalid name)';
    const base = {
      action, actor: by.actor, source: by.source,
      ...(shown !== undefined && { target: shown }),
      ...(aor !== undefined && { detail: { aor } }),
    };
    try {
      const result = run();
      this.o.audit.record({ ...base, result: 'ok' });
      return result;
    } catch (err) {
      this.o.audit.record({ ...base, result: 'failed', reason: err instanceof Error ? err.name : 'Error' });
      throw err;
    }
  }
}
