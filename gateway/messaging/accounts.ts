/**
 * Account lookups for the MESSAGE path, cached for a short time. A message needs its sender's
 * display name and its recipient's existence and state; at thousands of messages per second the
 * same few accounts are read over and over. Entries live `ttlMs` (default 1 s), and are dropped at
 * once when the registrar blocks a user or the user's messages are erased, so a block is applied
 * to delivery decisions immediately and any other change (unblock, display name, removal) within
 * the TTL. Authentication never uses this cache: it reads the HA1 and the state on every request.
 */
import type { UserService } from '../admin/users';
import type { UserRecord } from '../store/types';

interface Entry {
  readonly at: number;
  readonly user: Promise<UserRecord | undefined>;
}

/** Most accounts remembered; beyond it the cache starts over (bounded memory). */
const MAX_ENTRIES = 10_000;

export class AccountCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly users: Pick<UserService, 'get'>,
    private readonly ttlMs = 1000,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  get(name: string): Promise<UserRecord | undefined> {
    const now = this.clock();
    const hit = this.entries.get(name);
    if (hit !== undefined && now - hit.at < this.ttlMs) return hit.user;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const user = this.users.get(name);
    this.entries.set(name, { at: now, user });
    // A failed read is not remembered.
    user.catch(() => this.entries.delete(name));
    return user;
  }

  forget(name: string): void {
    this.entries.delete(name);
  }
}
