/**
 * Groups (admin-managed chat rooms): a group `team` is the URI sip:team@<domain>; a MESSAGE to it
 * fans out to every member except the sender. Users and groups share that namespace, so a group
 * may not be created under an existing user's name (the user would win, service.ts).
 *
 * SQLite tables message_groups / message_group_members (migration 2). Members reference users
 * ON DELETE CASCADE: removing an account takes it out of every group.
 */
import type { Database, Statement } from 'better-sqlite3';
import { UnknownUserError } from '../admin/errors';
import { isValidUserName } from '../admin/user-fields';
import { GroupExistsError, GroupFullError, GroupNameTakenError, InvalidGroupNameError, UnknownGroupError } from './errors';

export interface Group {
  readonly name: string;
  /** Every message to the group is confidential (never stored, 480 for members not online). */
  readonly confidential: boolean;
  readonly createdAt: number;
  /** Account names, sorted. */
  readonly members: readonly string[];
}

export function checkGroupName(name: string): string {
  if (!isValidUserName(name)) throw new InvalidGroupNameError();
  return name;
}

interface GroupRow {
  name: string;
  confidential: number;
  created_at: number;
}

export class GroupStore {
  private readonly s: {
    get: Statement<[string], GroupRow>;
    members: Statement<[string], { user_name: string }>;
    isMember: Statement<[string, string], { one: number }>;
    userExists: Statement<[string], { one: number }>;
  };

  constructor(private readonly db: Database) {
    this.s = {
      get: db.prepare<[string], GroupRow>('SELECT name, confidential, created_at FROM message_groups WHERE name = ?'),
      members: db.prepare<[string], { user_name: string }>('SELECT user_name FROM message_group_members WHERE group_name = ? ORDER BY user_name'),
      isMember: db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM message_group_members WHERE group_name = ? AND user_name = ?'),
      userExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM users WHERE name = ?'),
    };
  }

  /** GroupExistsError, GroupNameTakenError (a user has the name), InvalidGroupNameError. */
  create(name: string, confidential: boolean, now: number): Group {
    checkGroupName(name);
    const tx = this.db.transaction((): void => {
      if (this.s.userExists.get(name) !== undefined) throw new GroupNameTakenError(name);
      if (this.s.get.get(name) !== undefined) throw new GroupExistsError(name);
      this.db.prepare('INSERT INTO message_groups (name, confidential, created_at) VALUES (?, ?, ?)').run(name, confidential ? 1 : 0, now);
    });
    tx.immediate();
    return { name, confidential, createdAt: now, members: [] };
  }

  /** UnknownGroupError when there is none. */
  remove(name: string): void {
    if (this.db.prepare('DELETE FROM message_groups WHERE name = ?').run(checkGroupName(name)).changes === 0) throw new UnknownGroupError(name);
  }

  get(name: string): Group | undefined {
    if (!isValidUserName(name)) return undefined;
    const row = this.s.get.get(name);
    return row === undefined ? undefined : this.view(row);
  }

  /** Whether a group of that name exists (one indexed read). */
  exists(name: string): boolean {
    return isValidUserName(name) && this.s.get.get(name) !== undefined;
  }

  isMember(group: string, user: string): boolean {
    return this.s.isMember.get(group, user) !== undefined;
  }

  list(): Group[] {
    return this.db.prepare<[], GroupRow>('SELECT name, confidential, created_at FROM message_groups ORDER BY name').all().map((r) => this.view(r));
  }

  /** Idempotent. UnknownGroupError, UnknownUserError, GroupFullError beyond `maxMembers`. */
  addMember(group: string, user: string, now: number, maxMembers: number): Group {
    checkGroupName(group);
    const tx = this.db.transaction((): void => {
      if (this.s.get.get(group) === undefined) throw new UnknownGroupError(group);
      if (!isValidUserName(user) || this.s.userExists.get(user) === undefined) throw new UnknownUserError(user);
      if (this.s.isMember.get(group, user) !== undefined) return;
      const n = this.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM message_group_members WHERE group_name = ?').get(group)?.n ?? 0;
      if (n >= maxMembers) throw new GroupFullError(group, maxMembers);
      this.db.prepare('INSERT INTO message_group_members (group_name, user_name, added_at) VALUES (?, ?, ?)').run(group, user, now);
    });
    tx.immediate();
    return this.require(group);
  }

  /** UnknownGroupError; UnknownUserError when the user is not a member. */
  removeMember(group: string, user: string): Group {
    checkGroupName(group);
    if (this.s.get.get(group) === undefined) throw new UnknownGroupError(group);
    const removed = this.db.prepare('DELETE FROM message_group_members WHERE group_name = ? AND user_name = ?').run(group, user).changes;
    if (removed === 0) throw new UnknownUserError(user);
    return this.require(group);
  }

  setConfidential(group: string, confidential: boolean): Group {
    checkGroupName(group);
    if (this.db.prepare('UPDATE message_groups SET confidential = ? WHERE name = ?').run(confidential ? 1 : 0, group).changes === 0) {
      throw new UnknownGroupError(group);
    }
    return this.require(group);
  }

  private require(name: string): Group {
    const g = this.get(name);
    if (g === undefined) throw new UnknownGroupError(name);
    return g;
  }

  private view(row: GroupRow): Group {
    return {
      name: row.name,
      confidential: row.confidential === 1,
      createdAt: row.created_at,
      members: this.s.members.all(row.name).map((r) => r.user_name),
    };
  }
}

/**
 * Per-user confidential policy (message_policies): every message to or from such a user is
 * confidential. Read on every MESSAGE, so cached; the cache is the only writer's copy.
 */
export class PolicyStore {
  private readonly cache = new Map<string, boolean>();

  constructor(private readonly db: Database) {
    for (const r of db.prepare<[], { user_name: string; confidential: number }>('SELECT user_name, confidential FROM message_policies').all()) {
      if (r.confidential === 1) this.cache.set(r.user_name, true);
    }
  }

  isConfidential(user: string): boolean {
    return this.cache.get(user) === true;
  }

  /** UnknownUserError for an unknown account. */
  setConfidential(user: string, confidential: boolean, now: number): void {
    if (!isValidUserName(user) || this.db.prepare('SELECT 1 FROM users WHERE name = ?').get(user) === undefined) throw new UnknownUserError(user);
    this.db.prepare(
      'INSERT INTO message_policies (user_name, confidential, updated_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT (user_name) DO UPDATE SET confidential = excluded.confidential, updated_at = excluded.updated_at',
    ).run(user, confidential ? 1 : 0, now);
    if (confidential) this.cache.set(user, true);
    else this.cache.delete(user);
  }

  /** Drops a removed account from the cache (its row went with the account). */
  forget(user: string): void {
    this.cache.delete(user);
  }
}
