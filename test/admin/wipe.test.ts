/**
 * Forensics: after a wipe, the old secret bytes must be in no file under the data directory
 * (ciphergate.db, -wal, -shm, keys/). Each test first proves the scan sees the sealed values
 * while they exist, so an absence afterwards means they were destroyed, not missed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Ha1Algorithm } from '../../gateway/store';
import { filesContaining, readAllFiles } from '../store/fixtures';
import { REALM, closeHarness, openHarness, type Harness } from './harness';

const ALGS: readonly Ha1Algorithm[] = ['MD5', 'SHA-256', 'SHA-512-256'];
const NODE: Record<Ha1Algorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };
const PW = 'Tr0ub4dor&3x!';
const PW2 = 'correct-Horse-7-battery';
const SEALED_HEADER = 13;
const SEALED_TAG = 16;

interface Needle {
  readonly what: string;
  readonly bytes: Buffer;
}

/** Every form the user's current secrets could take on disk. */
async function secretNeedles(h: Harness, name: string, password: string): Promise<{ sealed: Needle[]; derived: Needle[] }> {
  const sealed: Needle[] = [];
  const derived: Needle[] = [{ what: 'password', bytes: Buffer.from(password) }];
  for (const alg of ALGS) {
    const ha1 = createHash(NODE[alg]).update(`${name}:${REALM}:${password}`).digest();
    derived.push(
      { what: `${alg} HA1 raw`, bytes: ha1 },
      { what: `${alg} HA1 hex`, bytes: Buffer.from(ha1.toString('hex')) },
      { what: `${alg} HA1 HEX`, bytes: Buffer.from(ha1.toString('hex').toUpperCase()) },
    );
    const stored = await h.store.secrets.getHa1(name, alg);
    assert.ok(stored !== undefined, `${alg} HA1 stored`);
    sealed.push(
      { what: `${alg} sealed HA1`, bytes: Buffer.from(stored.sealed) },
      { what: `${alg} sealed HA1 ciphertext`, bytes: Buffer.from(stored.sealed.subarray(SEALED_HEADER, stored.sealed.length - SEALED_TAG)) },
    );
  }
  const otp = await h.store.secrets.getOtp(name);
  if (otp !== undefined) sealed.push({ what: 'OTP verifier', bytes: Buffer.from(otp.mac) });
  return { sealed, derived };
}

function assertNowhere(h: Harness, needles: readonly Needle[], when: string): void {
  const files = readAllFiles(h.dataDir);
  for (const n of needles) assert.deepEqual(filesContaining(files, n.bytes), [], `${n.what} found ${when}`);
}

function assertPresent(h: Harness, needles: readonly Needle[], when: string): void {
  const files = readAllFiles(h.dataDir);
  for (const n of needles) assert.notDeepEqual(filesContaining(files, n.bytes), [], `${n.what} missing ${when}`);
}

describe('admin: secrets wiped from every file of the data directory', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
    await h.users.add('alice', { password: PW });
    await h.users.add('bob', { password: PW2 });
  });
  afterEach(async () => closeHarness(h));

  it('MUST scan the database, its -wal and -shm files and the key file', () => {
    const names = [...readAllFiles(h.dataDir).keys()].sort();
    for (const f of ['ciphergate.db', 'ciphergate.db-shm', 'ciphergate.db-wal', 'keys/master.key']) {
      assert.ok(names.includes(f), `${f} among ${names.join(', ')}`);
    }
  });

  it('MUST leave no trace of HA1s (hex, raw, sealed) or OTP verifier after destroyKeys', async () => {
    const { otp } = await h.users.resetOtp('alice');
    const alice = await secretNeedles(h, 'alice', PW);
    const bob = await secretNeedles(h, 'bob', PW2);
    assertPresent(h, alice.sealed, 'before the wipe (the scan must see stored values)');
    assertNowhere(h, [...alice.derived, { what: 'OTP', bytes: Buffer.from(otp) }], 'ever (only sealed forms are stored)');

    await h.users.destroyKeys('alice');
    assertNowhere(h, [...alice.sealed, ...alice.derived], 'after destroyKeys');
    assertPresent(h, bob.sealed, "after alice's wipe (bob's secrets are untouched)");

    await h.users.update('bob', { displayName: 'Bob' }); // more writes must not resurrect anything
    await h.store.close();
    assertNowhere(h, [...alice.sealed, ...alice.derived], 'after close');
  });

  it('MUST leave no trace of the replaced HA1s after setPassword', async () => {
    const before = await secretNeedles(h, 'alice', PW);
    assertPresent(h, before.sealed, 'before the change');
    await h.users.setPassword('alice', 'An0ther-Passw0rd!');
    assertNowhere(h, [...before.sealed, ...before.derived], 'after setPassword');
  });

  it('MUST leave no trace of the secrets of a removed user', async () => {
    await h.users.resetOtp('alice');
    const alice = await secretNeedles(h, 'alice', PW);
    assertPresent(h, alice.sealed, 'before remove');
    await h.users.remove('alice');
    assertNowhere(h, [...alice.sealed, ...alice.derived], 'after remove');
    await h.store.close();
    assertNowhere(h, alice.sealed, 'after close');
  });
});
