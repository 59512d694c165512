/** A UserService over a fresh SQLite store in a temp data dir, with an injected clock. */
import { UserService } from '../../gateway/admin/users';
import { openAccountStore, type SqliteStore } from '../../gateway/store';
import { makeDataDir, removeDataDir } from '../store/fixtures';

export const REALM = 'ciphergate.local';
export const T0 = 1_700_000_000_000;

export interface Harness {
  dataDir: string;
  store: SqliteStore;
  users: UserService;
  clock: { now: number };
}

export async function openHarness(): Promise<Harness> {
  const dataDir = makeDataDir();
  const { store, masterKey } = await openAccountStore(dataDir);
  const clock = { now: T0 };
  const users = new UserService({ store, masterKey, realm: REALM, now: () => clock.now });
  return { dataDir, store, users, clock };
}

export async function closeHarness(h: Harness): Promise<void> {
  h.users.dispose();
  await h.store.close();
  removeDataDir(h.dataDir);
}

