/**
 * Token scopes (gateway/admin/tokens.ts): an admin and a metrics kind, stored the same way (an
 * HMAC verifier under the master-key-derived key), rotated independently, the scope bound to the
 * verifier (RFC 6750 §3 `scope`).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { grantedScopes } from '../../../gateway/admin/http/auth';
import { ADMIN_TOKEN_LABEL, AdminTokens, METRICS_TOKEN_LABEL } from '../../../gateway/admin/tokens';
import type { AdminTokenRecord, AdminTokenStore } from '../../../gateway/store/types';
import { tokenFixture } from './token-fixture';

/** A store whose rows a test can rewrite, as someone with write access to the database could. */
class MemoryTokenStore implements AdminTokenStore {
  rows: AdminTokenRecord[] = [];
  async create(t: AdminTokenRecord): Promise<void> { this.rows.push(t); }
  async findByMac(mac: Buffer): Promise<AdminTokenRecord | undefined> { return this.rows.find((r) => r.mac.equals(mac)); }
  async list(): Promise<AdminTokenRecord[]> { return [...this.rows]; }
  async touch(id: string, now: number): Promise<void> { this.rows = this.rows.map((r) => (r.id === id ? { ...r, lastUsedAt: now } : r)); }
  async remove(id: string): Promise<boolean> {
    const before = this.rows.length;
    this.rows = this.rows.filter((r) => r.id !== id);
    return this.rows.length < before;
  }
  relabel(id: string, label: string): void { this.rows = this.rows.map((r) => (r.id === id ? { ...r, label } : r)); }
}

describe('token scopes (gateway/admin/tokens.ts)', () => {
  const f = tokenFixture();

  describe('storage (HMAC verifier under the derived key, shown once)', () => {
    it('MUST store a metrics token as a verifier only, labelled metrics, distinct from the admin verifier', async () => {
      const minted = await f.tokens.mint(METRICS_TOKEN_LABEL);
      const [row] = await f.opened.store.adminTokens.list();
      assert.equal(row!.label, 'metrics');
      assert.ok(row!.mac.equals(f.tokens.mac(minted.token, 'metrics')));
      assert.ok(!row!.mac.equals(f.tokens.mac(minted.token, 'admin')), 'one verifier per scope (domain separation)');
      assert.ok(!row!.mac.includes(Buffer.from(minted.token)), 'the token itself is not stored');
      const verified = await f.tokens.verify(minted.token);
      assert.equal(verified?.id, minted.id);
      assert.equal(verified?.label, 'metrics');
    });

    it('MUST keep verifying admin f.tokens stored before scopes existed (same HMAC input)', async () => {
      const minted = await f.tokens.mint(ADMIN_TOKEN_LABEL);
      const key = f.opened.masterKey.derive('adminToken');
      const legacy = createHmac('sha256', key).update(`admin-token\0${minted.token}`, 'utf8').digest();
      key.fill(0);
      assert.ok((await f.opened.store.adminTokens.list())[0]!.mac.equals(legacy));
      assert.equal((await f.tokens.verify(minted.token))?.label, 'admin');
    });
  });

  describe('rotation, one scope at a time', () => {
    it('MUST revoke only older metrics f.tokens on a metrics rotation', async () => {
      const admin = await f.tokens.ensureInitial();
      assert.ok(admin);
      const m1 = await f.tokens.mint(METRICS_TOKEN_LABEL);
      const rotated = await f.tokens.rotate(METRICS_TOKEN_LABEL);
      assert.deepEqual(rotated.revoked, [m1.id]);
      assert.equal(await f.tokens.verify(m1.token), undefined, 'the old metrics token is refused');
      assert.equal((await f.tokens.verify(rotated.minted.token))?.label, 'metrics');
      assert.equal((await f.tokens.verify(admin.token))?.label, 'admin', 'the admin token survives');
    });

    it('MUST revoke only older admin f.tokens on an admin rotation', async () => {
      const admin = await f.tokens.ensureInitial();
      assert.ok(admin);
      const metrics = await f.tokens.mint(METRICS_TOKEN_LABEL);
      const rotated = await f.tokens.rotate();
      assert.deepEqual(rotated.revoked, [admin.id]);
      assert.equal(await f.tokens.verify(admin.token), undefined);
      assert.equal((await f.tokens.verify(metrics.token))?.label, 'metrics', 'the metrics token survives');
      const labels = (await f.opened.store.adminTokens.list()).map((t) => t.label).sort();
      assert.deepEqual(labels, ['admin', 'metrics']);
    });

    it('MUST mint the first admin token even when a metrics token already exists', async () => {
      await f.tokens.mint(METRICS_TOKEN_LABEL);
      const first = await f.tokens.ensureInitial();
      assert.ok(first, 'a metrics token is not an operator token');
      assert.equal((await f.tokens.verify(first.token))?.label, 'admin');
    });
  });

  describe('the scope is bound by the key, not by the label column', () => {
    let store: MemoryTokenStore;
    let memTokens: AdminTokens;
    beforeEach(() => {
      store = new MemoryTokenStore();
      memTokens = new AdminTokens(store, f.opened.masterKey);
    });
    afterEach(() => memTokens.dispose());

    it('MUST NOT verify a metrics token whose row was relabelled admin', async () => {
      const minted = await memTokens.mint(METRICS_TOKEN_LABEL);
      store.relabel(minted.id, 'admin');
      assert.equal(await memTokens.verify(minted.token), undefined);
    });

    it('MUST NOT verify a row with a label it does not know', async () => {
      const minted = await memTokens.mint(ADMIN_TOKEN_LABEL);
      store.relabel(minted.id, 'backup');
      assert.equal(await memTokens.verify(minted.token), undefined);
    });
  });

  describe('what each kind grants (gateway/admin/http/auth.ts)', () => {
    it('MUST grant the admin token every scope and a metrics token only metrics', () => {
      assert.deepEqual([...grantedScopes('admin')].sort(), ['admin', 'metrics']);
      assert.deepEqual([...grantedScopes('metrics')], ['metrics']);
      const a = grantedScopes('metrics') as Set<string>;
      a.add('admin');
      assert.ok(!grantedScopes('metrics').has('admin'), 'no shared set to widen');
    });
  });
});
