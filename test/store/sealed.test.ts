import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import {
  MasterKey,
  MasterKeyError,
  MasterKeyMismatchError,
  SEALED_VERSION,
  Sealer,
  SealedValueError,
  destroyMasterKey,
  masterKeyPath,
  openAccountStore,
} from '../../gateway/store';
import { makeDataDir, removeDataDir } from './fixtures';

const HEADER = 1 + 12;
const TAG = 16;

describe('store: sealed values (AES-256-GCM, NIST SP 800-38D)', () => {
  const master = MasterKey.fromBytes(randomBytes(32));
  const sealer = new Sealer(master, 'ha1');
  const secret = randomBytes(32);
  const identity = ['ha1', 'alice', 'ciphergate.local', 'SHA-256'];

  describe('round trip', () => {
    it('MUST open what it sealed, for the same identity', () => {
      assert.deepEqual(sealer.open(identity, sealer.seal(identity, secret)), secret);
    });

    it('MUST lay out version | 12-byte IV | ciphertext | 16-byte tag', () => {
      const sealed = sealer.seal(identity, secret);
      assert.equal(sealed[0], SEALED_VERSION);
      assert.equal(sealed.length, HEADER + secret.length + TAG);
      assert.ok(!sealed.includes(secret), 'plaintext must not appear in the sealed value');
    });

    it('MUST use a fresh random IV per value (same plaintext seals differently)', () => {
      const a = sealer.seal(identity, secret);
      const b = sealer.seal(identity, secret);
      assert.notDeepEqual(a.subarray(1, HEADER), b.subarray(1, HEADER));
      assert.notDeepEqual(a, b);
    });
  });

  describe('authentication of the record identity (AAD)', () => {
    const sealed = sealer.seal(identity, secret);
    const cases: Array<[string, string[]]> = [
      ['another user', ['ha1', 'bob', 'ciphergate.local', 'SHA-256']],
      ['another realm', ['ha1', 'alice', 'other.example', 'SHA-256']],
      ['another algorithm', ['ha1', 'alice', 'ciphergate.local', 'MD5']],
      ['parts joined differently', ['ha1', 'alicec', 'iphergate.local', 'SHA-256']],
      ['an empty identity', []],
    ];
    for (const [what, other] of cases) {
      it(`MUST refuse to open a value sealed for alice under ${what}`, () => {
        assert.throws(() => sealer.open(other, sealed), SealedValueError);
      });
    }

    it('MUST refuse a value sealed for another purpose (per-purpose HKDF subkey)', () => {
      const otpSealer = new Sealer(master, 'otp');
      assert.throws(() => otpSealer.open(identity, sealed), SealedValueError);
    });
  });

  describe('tampering', () => {
    const sealed = sealer.seal(identity, secret);
    const flip = (index: number): Buffer => {
      const copy = Buffer.from(sealed);
      copy[index] = copy[index]! ^ 0x01;
      return copy;
    };
    it('MUST detect a flipped ciphertext bit', () => assert.throws(() => sealer.open(identity, flip(HEADER + 3)), SealedValueError));
    it('MUST detect a flipped IV bit', () => assert.throws(() => sealer.open(identity, flip(2)), SealedValueError));
    it('MUST detect a flipped tag bit', () => assert.throws(() => sealer.open(identity, flip(sealed.length - 1)), SealedValueError));
    it('MUST refuse an unknown version byte', () => assert.throws(() => sealer.open(identity, flip(0)), /unknown format version/));
    it('MUST refuse a truncated value', () => {
      assert.throws(() => sealer.open(identity, sealed.subarray(0, sealed.length - 1)), SealedValueError);
      assert.throws(() => sealer.open(identity, sealed.subarray(0, HEADER + TAG - 1)), /too short/);
    });
    it('MUST NOT put the secret in the error message', () => {
      try {
        sealer.open(identity, flip(HEADER));
        assert.fail('expected SealedValueError');
      } catch (err) {
        assert.ok(err instanceof SealedValueError);
        assert.ok(!err.message.includes(secret.toString('hex')));
      }
    });
  });

  describe('without the master key nothing decrypts', () => {
    it('MUST fail to open under any other master key', () => {
      const sealed = sealer.seal(identity, secret);
      const other = new Sealer(MasterKey.fromBytes(randomBytes(32)), 'ha1');
      assert.throws(() => other.open(identity, sealed), SealedValueError);
    });

    it('MUST fail to open after dispose() zeroed the subkey', () => {
      const s = new Sealer(MasterKey.fromBytes(randomBytes(32)), 'ha1');
      const sealed = s.seal(identity, secret);
      s.dispose();
      assert.throws(() => s.open(identity, sealed), SealedValueError);
    });

    describe('openAccountStore key check', () => {
      let dataDir: string;
      beforeEach(() => {
        dataDir = makeDataDir();
      });
      afterEach(() => removeDataDir(dataDir));

      it('MUST refuse to start when the key file of a used database is gone (never re-create it)', async () => {
        const first = await openAccountStore(dataDir);
        await first.store.close();
        destroyMasterKey(dataDir);
        await assert.rejects(openAccountStore(dataDir), (err: unknown) => {
          assert.ok(err instanceof MasterKeyError);
          assert.match(err.message, /missing/);
          return true;
        });
      });

      it('MUST refuse to start with a different key than the database was sealed under', async () => {
        const first = await openAccountStore(dataDir);
        await first.store.close();
        writeFileSync(masterKeyPath(dataDir), randomBytes(32), { mode: 0o600 });
        await assert.rejects(openAccountStore(dataDir), MasterKeyMismatchError);
      });

      it('MUST open again with the original key', async () => {
        const first = await openAccountStore(dataDir);
        const check = first.masterKey.checkValue();
        await first.store.close();
        const second = await openAccountStore(dataDir);
        assert.deepEqual(second.masterKey.checkValue(), check);
        await second.store.close();
      });
    });
  });
});
