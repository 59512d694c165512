/**
 * Calling permissions and account changes through the admin API: POST /api/users with
 * mayCallOffNet / mayCallInternational, PATCH /api/users/NAME, and their audit entries.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AUDIT_FILE } from '../../../gateway/admin/audit';
import { call, closeApiHarness, openApiHarness, STRONG_PASSWORD, type ApiHarness } from './harness';

function auditLines(h: ApiHarness): Record<string, any>[] { // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed JSON lines
  return fs.readFileSync(path.join(h.dataDir, AUDIT_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('admin API: calling permissions (POST /api/users, PATCH /api/users/NAME)', () => {
  let h: ApiHarness;
  beforeEach(async () => { h = await openApiHarness(); });
  afterEach(async () => { await closeApiHarness(h); });

  describe('POST /api/users', () => {
    it('grants nothing by default: a new user calls on-net only', async () => {
      const r = await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'bob', password: STRONG_PASSWORD } });
      assert.equal(r.status, 201);
      assert.equal(r.json.user.mayCallOffNet, false);
      assert.equal(r.json.user.mayCallInternational, false);
    });

    it('stores mayCallOffNet and mayCallInternational as sent', async () => {
      const r = await call(h, 'POST', '/api/users', {
        token: h.token, body: { name: 'bob', password: STRONG_PASSWORD, mayCallOffNet: true, mayCallInternational: true },
      });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.user.mayCallOffNet, true);
      assert.equal(r.json.user.mayCallInternational, true);
      const stored = await h.users.get('bob');
      assert.equal(stored?.mayCallOffNet, true);
      assert.equal(stored?.mayCallInternational, true);
      const only = await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'carol', mayCallOffNet: true } });
      assert.equal(only.status, 201);
      assert.equal((await h.users.get('carol'))?.mayCallInternational, false);
    });

    it('MUST answer 400 naming the field for a permission that is not a boolean; nothing is created', async () => {
      const cases: [string, unknown][] = [
        ['mayCallOffNet', 'true'], ['mayCallOffNet', 1], ['mayCallOffNet', null],
        ['mayCallInternational', 'yes'], ['mayCallInternational', [true]], ['mayCallInternational', {}],
      ];
      for (const [field, value] of cases) {
        const r = await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'bob', [field]: value } });
        assert.equal(r.status, 400, `${field}=${JSON.stringify(value)}`);
        assert.equal(r.json.field, field);
        assert.equal(r.json.error, `${field}: must be true or false`);
      }
      assert.deepEqual(await h.users.list(), []);
    });
  });

  describe('PATCH /api/users/NAME', () => {
    beforeEach(async () => {
      await h.users.add('bob', { password: STRONG_PASSWORD, number: '+34911234567', displayName: 'Bob' });
      await h.users.add('alice', { password: STRONG_PASSWORD, number: '+34911234568' });
    });

    it('grants and revokes the permissions; answers 200 with the user; GET shows the change', async () => {
      const grant = await call(h, 'PATCH', '/api/users/bob', { token: h.token, body: { mayCallOffNet: true, mayCallInternational: true } });
      assert.equal(grant.status, 200, grant.text);
      assert.equal(grant.json.user.name, 'bob');
      assert.equal(grant.json.user.mayCallOffNet, true);
      assert.equal(grant.json.user.mayCallInternational, true);
      assert.equal(grant.json.user.number, '+34911234567', 'fields not sent are left alone');
      const shown = await call(h, 'GET', '/api/users/bob', { token: h.token });
      assert.equal(shown.json.user.mayCallInternational, true);

      const revoke = await call(h, 'PATCH', '/api/users/bob', { token: h.token, body: { mayCallInternational: false } });
      assert.equal(revoke.status, 200);
      const stored = await h.users.get('bob');
      assert.equal(stored?.mayCallOffNet, true);
      assert.equal(stored?.mayCallInternational, false);
    });

    it('sets the number and display name; null clears them', async () => {
      const set = await call(h, 'PATCH', '/api/users/bob', { token: h.token, body: { number: '+34911234569', displayName: 'Robert' } });
      assert.equal(set.status, 200, set.text);
      assert.equal(set.json.user.number, '+34911234569');
      assert.equal(set.json.user.displayName, 'Robert');
      assert.equal((await h.users.getByNumber('+34911234569'))?.name, 'bob');
      const clear = await call(h, 'PATCH', '/api/users/bob', { token: h.token, body: { number: null, displayName: null } });
      assert.equal(clear.status, 200);
      assert.equal('number' in clear.json.user, false);
      assert.equal('displayName' in clear.json.user, false);
      assert.equal(await h.users.getByNumber('+34911234569'), undefined);
    });

    it('MUST answer 400 naming the field for a malformed value, and change nothing', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ mayCallOffNet: 'on' }, 'mayCallOffNet'],
        [{ mayCallOffNet: true, mayCallInternational: 0 }, 'mayCallInternational'],
        [{ number: '12345' }, 'number'],
        [{ number: 34911234569 }, 'number'],
        [{ displayName: '' }, 'displayName'],
        [{ displayName: 'a\u0000b' }, 'displayName'],
        [{ state: 'active' }, 'state'],
        [{ name: 'robert' }, 'name'],
      ];
      for (const [body, field] of cases) {
        const r = await call(h, 'PATCH', '/api/users/bob', { token: h.token, body });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.json.field, field, JSON.stringify(body));
      }
      const bob = await h.users.get('bob');
      assert.equal(bob?.mayCallOffNet, false, 'a rejected request changes nothing, not even its valid fields');
      assert.equal(bob?.number, '+34911234567');
      assert.equal(bob?.displayName, 'Bob');
    });

    it('MUST answer 400 for an empty change, 409 for a number another user holds, 404 for an unknown user', async () => {
      const empty = await call(h, 'PATCH', '/api/users/bob', { token: h.token, body: {} });
      assert.equal(empty.status, 400);
      assert.match(empty.json.error, /^nothing to change; send at least one of number, displayName, mayCallOffNet, mayCallInternational$/);
      const none = await call(h, 'PATCH', '/api/users/bob', { token: h.token });
      assert.equal(none.status, 415, 'a PATCH needs a JSON body');
      const taken = await call(h, 'PATCH', '/api/users/bob', { token: h.token, body: { number: '+34911234568' } });
      assert.equal(taken.status, 409);
      assert.equal(taken.json.field, 'number');
      const unknown = await call(h, 'PATCH', '/api/users/zed', { token: h.token, body: { mayCallOffNet: true } });
      assert.equal(unknown.status, 404);
    });

    it('MUST require the bearer token (401), and is listed in Allow for the user resource', async () => {
      const anonymous = await call(h, 'PATCH', '/api/users/bob', { body: { mayCallOffNet: true } });
      assert.equal(anonymous.status, 401);
      assert.equal((await h.users.get('bob'))?.mayCallOffNet, false);
      const put = await call(h, 'PUT', '/api/users/bob', { token: h.token, body: {} });
      assert.equal(put.status, 405);
      assert.ok(String(put.headers.allow).split(', ').includes('PATCH'), String(put.headers.allow));
    });
  });

  describe('audit (gateway/admin/audit.ts)', () => {
    it('records user.update with the changed field names and the resulting permissions, and user.add grants', async () => {
      await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'bob', password: STRONG_PASSWORD, mayCallOffNet: true } });
      await call(h, 'PATCH', '/api/users/bob', { token: h.token, body: { number: '+34911234567', mayCallInternational: true } });
      await call(h, 'PATCH', '/api/users/zed', { token: h.token, body: { mayCallOffNet: false } });
      await call(h, 'PATCH', '/api/users/bob', { token: h.token, body: { mayCallOffNet: 'no' } });
      await h.audit.close();
      const tokenId = (await h.store.adminTokens.list())[0]!.id;
      const lines = auditLines(h).filter((l) => l.action === 'user.add' || l.action === 'user.update');
      assert.deepEqual(lines.map(({ time: _t, ...rest }) => rest), [
        {
          action: 'user.add', actor: `token:${tokenId}`, source: '127.0.0.1', target: 'bob', result: 'ok',
          detail: { mayCallOffNet: true, mayCallInternational: false },
        },
        {
          action: 'user.update', actor: `token:${tokenId}`, source: '127.0.0.1', target: 'bob', result: 'ok',
          detail: { changed: 'number,mayCallInternational', mayCallOffNet: true, mayCallInternational: true },
        },
        { action: 'user.update', actor: `token:${tokenId}`, source: '127.0.0.1', target: 'zed', result: 'failed', reason: 'UnknownUserError' },
      ], 'a request refused before the action (400) is not an account change');
    });
  });
});
