import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  MASTER_KEY_LENGTH,
  MasterKey,
  MasterKeyError,
  destroyMasterKey,
  masterKeyPath,
  openMasterKey,
} from '../../gateway/store';
import { makeDataDir, removeDataDir } from './fixtures';

describe('store: master key file (keys/master.key)', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = makeDataDir();
  });
  afterEach(() => removeDataDir(dataDir));

  describe('creation on first open', () => {
    it('MUST create 32 random bytes with file mode 0600 in a 0700 directory', () => {
      openMasterKey(dataDir).dispose();
      const file = masterKeyPath(dataDir);
      const st = statSync(file);
      assert.equal(st.size, MASTER_KEY_LENGTH);
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
      assert.notDeepEqual(readFileSync(file), Buffer.alloc(MASTER_KEY_LENGTH));
    });

    it('MUST read back the same key on the next open (same derived keys)', () => {
      const a = openMasterKey(dataDir);
      const b = openMasterKey(dataDir);
      assert.deepEqual(a.derive('ha1'), b.derive('ha1'));
      assert.deepEqual(a.checkValue(), b.checkValue());
    });

    it('MUST give two data directories different keys', () => {
      const other = makeDataDir();
      try {
        assert.notDeepEqual(openMasterKey(dataDir).derive('ha1'), openMasterKey(other).derive('ha1'));
      } finally {
        removeDataDir(other);
      }
    });

    it('MUST NOT create a key when told the database already depends on one', () => {
      assert.throws(() => openMasterKey(dataDir, { create: false }), (err: unknown) => {
        assert.ok(err instanceof MasterKeyError);
        assert.match(err.message, /missing.*restore the file from your backup/);
        return true;
      });
      assert.equal(existsSync(masterKeyPath(dataDir)), false);
    });
  });

  describe('refusal to start', () => {
    it('MUST refuse a key file readable by group or others (0644) and say how to fix it', () => {
      openMasterKey(dataDir).dispose();
      const file = masterKeyPath(dataDir);
      const secretHex = readFileSync(file).toString('hex');
      chmodSync(file, 0o644);
      assert.throws(() => openMasterKey(dataDir), (err: unknown) => {
        assert.ok(err instanceof MasterKeyError);
        assert.match(err.message, /accessible by group or others \(mode 0644\)/);
        assert.match(err.message, /chmod 600/);
        assert.ok(!err.message.includes(secretHex), 'the key must not appear in the message');
        return true;
      });
    });

    it('MUST refuse a key file writable by group (0620)', () => {
      openMasterKey(dataDir).dispose();
      chmodSync(masterKeyPath(dataDir), 0o620);
      assert.throws(() => openMasterKey(dataDir), MasterKeyError);
    });

    it('MUST refuse a key directory accessible by others (0755)', () => {
      openMasterKey(dataDir).dispose();
      chmodSync(path.dirname(masterKeyPath(dataDir)), 0o755);
      assert.throws(() => openMasterKey(dataDir), /key directory .* chmod 700/);
    });

    for (const size of [0, 31, 33, 64]) {
      it(`MUST refuse a key file of ${size} bytes`, () => {
        openMasterKey(dataDir).dispose();
        const file = masterKeyPath(dataDir);
        writeFileSync(file, Buffer.alloc(size, 7), { mode: 0o600 });
        assert.throws(() => openMasterKey(dataDir), new RegExp(`has ${size} bytes, expected 32`));
      });
    }

    it('MUST refuse a symbolic link in place of the key file', () => {
      openMasterKey(dataDir).dispose();
      const file = masterKeyPath(dataDir);
      const real = path.join(dataDir, 'elsewhere.key');
      writeFileSync(real, readFileSync(file), { mode: 0o600 });
      unlinkSync(file);
      symlinkSync(real, file);
      assert.throws(() => openMasterKey(dataDir), /symbolic link/);
    });
  });

  describe('destroyMasterKey', () => {
    it('MUST remove the key so that it cannot be opened without creating a new one', () => {
      const before = openMasterKey(dataDir).checkValue();
      assert.equal(destroyMasterKey(dataDir), true);
      assert.equal(existsSync(masterKeyPath(dataDir)), false);
      assert.throws(() => openMasterKey(dataDir, { create: false }), MasterKeyError);
      assert.notDeepEqual(openMasterKey(dataDir).checkValue(), before);
    });

    it('MUST report false when there is no key', () => {
      assert.equal(destroyMasterKey(dataDir), false);
    });
  });

  describe('RFC 5869 HKDF subkeys', () => {
    it('MUST derive a different 32-byte key per purpose', () => {
      const key = MasterKey.fromBytes(Buffer.alloc(32, 1));
      const keys = (['ha1', 'otp', 'adminToken', 'keyCheck'] as const).map((p) => key.derive(p).toString('hex'));
      assert.equal(new Set(keys).size, 4);
      for (const k of keys) assert.equal(k.length, 64);
    });

    it('MUST reject raw key material of the wrong length', () => {
      assert.throws(() => MasterKey.fromBytes(Buffer.alloc(16)), MasterKeyError);
    });
  });
});
