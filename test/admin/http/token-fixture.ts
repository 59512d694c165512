/**
 * A fresh account store and its AdminTokens for each test (mocha hooks registered where this is
 * called), closed and removed after it.
 */
import { AdminTokens } from '../../../gateway/admin/tokens';
import { openAccountStore, type OpenedStore } from '../../../gateway/store';
import { makeDataDir, removeDataDir } from '../../store/fixtures';

export interface TokenFixture {
  readonly dir: string;
  readonly opened: OpenedStore;
  readonly tokens: AdminTokens;
}

export function tokenFixture(): TokenFixture {
  let current: { dir: string; opened: OpenedStore; tokens: AdminTokens } | undefined;
  beforeEach(async () => {
    const dir = makeDataDir();
    const opened = await openAccountStore(dir);
    current = { dir, opened, tokens: new AdminTokens(opened.store.adminTokens, opened.masterKey) };
  });
  afterEach(async () => {
    if (current === undefined) return;
    current.tokens.dispose();
    current.opened.masterKey.dispose();
    await current.opened.store.close();
    removeDataDir(current.dir);
    current = undefined;
  });
  const get = (): NonNullable<typeof current> => {
    if (current === undefined) throw new Error('token fixture used outside a test');
    return current;
  };
  return {
    get dir() { return get().dir; },
    get opened() { return get().opened; },
    get tokens() { return get().tokens; },
  };
}
