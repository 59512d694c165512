import assert from 'node:assert/strict';
import { AdminTokens, isTokenShaped, SessionToken } from '../../../gateway/admin/tokens';
import { openAccountStore, type OpenedStore } from '../../../gateway/store';
import { makeDataDir, removeDataDir } from '../../store/fixtures';

describe('admin tokens (gateway/admin/tokens.ts)', () => {
  let dir: string;
  let opened: OpenedStore;
  let tokens: AdminTokens;
  beforeEach(async () => {
    dir = makeDataDir();
    opened = await openAccountStore(dir);
    tokens = new AdminTokens(opened.store.adminTokens, opened.masterKey);
  });
  afterEach(async () => {
    tokens.dispose();
    opened.masterKey.dispose();
    await opened.store.close();
    removeDataDir(dir);
  });

  it('mints 256-bit base64url tokens, stores an HMAC verifier, verifies only the token itself', async () => {
    const minted = await tokens.mint();
    assert.ok(isTokenShaped(minted.token));
    assert.equal(Buffer.from(minted.token, 'base64url').length, 32);
    const [record] = await opened.store.adminTokens.list();
    assert.ok(record!.mac.equals(tokens.mac(minted.token)));
    assert.equal((await tokens.verify(minted.token))?.id, minted.id);
    assert.equal(await tokens.verify(minted.token.slice(1) + 'A'), undefined);
    assert.equal(await tokens.verify(''), undefined);
    assert.ok((await opened.store.adminTokens.list())[0]!.lastUsedAt !== undefined, 'use is recorded');
  });

  it('ensureInitial mints once; rotate mints first and then revokes every older token', async () => {
    const first = await tokens.ensureInitial();
    assert.ok(first !== undefined);
    assert.equal(await tokens.ensureInitial(), undefined);
    const rotated = await tokens.rotate();
    assert.deepEqual(rotated.revoked, [first.id]);
    assert.equal(await tokens.verify(first.token), undefined);
    assert.equal((await tokens.verify(rotated.minted.token))?.id, rotated.minted.id);
    assert.deepEqual((await opened.store.adminTokens.list()).map((t) => t.id), [rotated.minted.id]);
  });

  it('a session token matches only itself', () => {
    const a = SessionToken.create();
    const b = SessionToken.create();
    assert.ok(a.matches(a.token));
    assert.ok(!a.matches(b.token));
    assert.ok(!a.matches('short'));
  });
});
