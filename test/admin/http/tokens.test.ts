import assert from 'node:assert/strict';
import { isTokenShaped, SessionToken } from '../../../gateway/admin/tokens';
import { tokenFixture } from './token-fixture';

describe('admin tokens (gateway/admin/tokens.ts)', () => {
  const f = tokenFixture();

  it('mints 256-bit base64url f.tokens, stores an HMAC verifier, verifies only the token itself', async () => {
    const minted = await f.tokens.mint();
    assert.ok(isTokenShaped(minted.token));
    assert.equal(Buffer.from(minted.token, 'base64url').length, 32);
    const [record] = await f.opened.store.adminTokens.list();
    assert.ok(record!.mac.equals(f.tokens.mac(minted.token)));
    assert.equal((await f.tokens.verify(minted.token))?.id, minted.id);
    assert.equal(await f.tokens.verify(minted.token.slice(1) + 'A'), undefined);
    assert.equal(await f.tokens.verify(''), undefined);
    assert.ok((await f.opened.store.adminTokens.list())[0]!.lastUsedAt !== undefined, 'use is recorded');
  });

  it('ensureInitial mints once; rotate mints first and then revokes every older token', async () => {
    const first = await f.tokens.ensureInitial();
    assert.ok(first !== undefined);
    assert.equal(await f.tokens.ensureInitial(), undefined);
    const rotated = await f.tokens.rotate();
    assert.deepEqual(rotated.revoked, [first.id]);
    assert.equal(await f.tokens.verify(first.token), undefined);
    assert.equal((await f.tokens.verify(rotated.minted.token))?.id, rotated.minted.id);
    assert.deepEqual((await f.opened.store.adminTokens.list()).map((t) => t.id), [rotated.minted.id]);
  });

  it('a session token matches only itself', () => {
    const a = SessionToken.create();
    const b = SessionToken.create();
    assert.ok(a.matches(a.token));
    assert.ok(!a.matches(b.token));
    assert.ok(!a.matches('short'));
  });
});
