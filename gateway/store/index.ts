/**
 * Entry point of the accounts data layer: opens the store and the master key together and checks
 * that they belong together.
 *
 * The database records a key check value (keys.ts) the first time it is opened. Afterwards a
 * missing key file is an error (never silently re-created: that would orphan every sealed secret)
 * and a different key is refused with MasterKeyMismatchError.
 */
import { timingSafeEqual } from 'node:crypto';
import { MasterKeyMismatchError } from './errors';
import { MasterKey, masterKeyPath, openMasterKey } from './keys';
import type { OpenDatabaseOptions } from './sqlite/database';
import { SqliteStore } from './sqlite/store';

export * from './errors';
export * from './types';
export { MasterKey, KEY_LABELS, MASTER_KEY_LENGTH, destroyMasterKey, masterKeyPath, openMasterKey, type KeyPurpose } from './keys';
export { Sealer, SEALED_VERSION } from './sealed';
export { SqliteStore } from './sqlite/store';
export { DATABASE_FILE, databasePath, type OpenDatabaseOptions } from './sqlite/database';
export { MIGRATIONS, type Migration } from './sqlite/migrations';

export interface OpenedStore {
  readonly store: SqliteStore;
  readonly masterKey: MasterKey;
}

export async function openAccountStore(dataDir: string, options?: OpenDatabaseOptions): Promise<OpenedStore> {
  const store = SqliteStore.open(dataDir, options);
  let masterKey: MasterKey | undefined;
  try {
    const recorded = await store.secrets.getKeyCheck();
    masterKey = openMasterKey(dataDir, { create: recorded === undefined });
    const check = masterKey.checkValue();
    if (recorded === undefined) {
      await store.secrets.setKeyCheck(check);
    } else if (recorded.length !== check.length || !timingSafeEqual(recorded, check)) {
      const file = masterKeyPath(dataDir);
      throw new MasterKeyMismatchError(
        `master key ${file} is not the key this database was sealed under; restore the original key ` +
          'file from your backup (no password or one-time password can be verified with this one)',
        file,
      );
    }
    return { store, masterKey };
  } catch (err) {
    masterKey?.dispose();
    await store.close();
    throw err;
  }
}
