/** SQLite UserStore. See types.ts for the contract. */
import type { Database, Statement } from 'better-sqlite3';
import { StoreConflictError } from '../errors';
import type { UserPatch, UserRecord, UserState, UserStore } from '../types';
import { truncateWal, wipeRows } from './database';

interface UserRow {
  name: string;
  number: string | null;
  display_name: string | null;
  state: UserState;
  may_call_off_net: number;
  may_call_international: number;
  created_at: number;
  updated_at: number;
}

const COLUMNS = 'name, number, display_name, state, may_call_off_net, may_call_international, created_at, updated_at';

export function toUser(row: UserRow): UserRecord {
  return {
    name: row.name,
    ...(row.number !== null && { number: row.number }),
    ...(row.display_name !== null && { displayName: row.display_name }),
    state: row.state,
    mayCallOffNet: row.may_call_off_net === 1,
    mayCallInternational: row.may_call_international === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class SqliteUserStore implements UserStore {
  private readonly byName: Statement<[string], UserRow>;
  private readonly byNumber: Statement<[string], UserRow>;
  private readonly all: Statement<[], UserRow>;
  private readonly insert: Statement<unknown[]>;
  private readonly updateRow: Statement<[UserRow]>;

  constructor(private readonly db: Database) {
    this.byName = db.prepare(`SELECT ${COLUMNS} FROM users WHERE name = ?`);
    this.byNumber = db.prepare(`SELECT ${COLUMNS} FROM users WHERE number = ?`);
    this.all = db.prepare(`SELECT ${COLUMNS} FROM users ORDER BY name`);
    this.insert = db.prepare(`INSERT INTO users (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    this.updateRow = db.prepare(
      `UPDATE users SET number = @number, display_name = @display_name, state = @state,
         may_call_off_net = @may_call_off_net, may_call_international = @may_call_international,
         updated_at = @updated_at WHERE name = @name`,
    );
  }

  async create(user: UserRecord): Promise<void> {
    this.db.transaction(() => {
      if (this.byName.get(user.name) !== undefined) {
        throw new StoreConflictError(`user "${user.name}" already exists`, 'name');
      }
      this.assertNumberFree(user.number, user.name);
      this.insert.run(
        user.name,
        user.number ?? null,
        user.displayName ?? null,
        user.state,
        user.mayCallOffNet ? 1 : 0,
        user.mayCallInternational ? 1 : 0,
        user.createdAt,
        user.updatedAt,
      );
    }).immediate();
  }

  async get(name: string): Promise<UserRecord | undefined> {
    const row = this.byName.get(name);
    return row && toUser(row);
  }

  async getByNumber(e164: string): Promise<UserRecord | undefined> {
    const row = this.byNumber.get(e164);
    return row && toUser(row);
  }

  async list(): Promise<UserRecord[]> {
    return this.all.all().map(toUser);
  }

  async update(name: string, patch: UserPatch, now: number): Promise<UserRecord | undefined> {
    return this.db.transaction((): UserRecord | undefined => {
      const row = this.byName.get(name);
      if (row === undefined) return undefined;
      if (patch.number !== undefined && patch.number !== null) this.assertNumberFree(patch.number, name);
      const next: UserRow = {
        ...row,
        ...(patch.number !== undefined && { number: patch.number }),
        ...(patch.displayName !== undefined && { display_name: patch.displayName }),
        ...(patch.state !== undefined && { state: patch.state }),
        ...(patch.mayCallOffNet !== undefined && { may_call_off_net: patch.mayCallOffNet ? 1 : 0 }),
        ...(patch.mayCallInternational !== undefined && { may_call_international: patch.mayCallInternational ? 1 : 0 }),
        updated_at: now,
      };
      this.updateRow.run(next);
      return toUser(next);
    }).immediate();
  }

  async remove(name: string): Promise<boolean> {
    const removed = this.db.transaction((): boolean => {
      if (this.byName.get(name) === undefined) return false;
      wipeRows(this.db, 'ha1s', 'sealed', 'user_name = ?', [name]);
      wipeRows(this.db, 'otps', 'mac', 'user_name = ?', [name]);
      // Registrations and certificate bindings are not secrets: the cascade deletes them.
      this.db.prepare('DELETE FROM users WHERE name = ?').run(name);
      return true;
    }).immediate();
    if (removed) truncateWal(this.db);
    return removed;
  }

  private assertNumberFree(number: string | undefined, owner: string): void {
    if (number === undefined) return;
    const holder = this.byNumber.get(number);
    if (holder !== undefined && holder.name !== owner) {
      throw new StoreConflictError(`number ${number} already belongs to user "${holder.name}"`, 'number');
    }
  }
}
