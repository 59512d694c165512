import assert from 'node:assert/strict';
import { connect, type SecureVersion } from 'node:tls';
import { checkPassword } from '../../../gateway/admin/password-policy';
import { AdminTokens } from '../../../gateway/admin/tokens';
import { binding, call, closeApiHarness, openApiHarness, STRONG_PASSWORD, type ApiHarness } from './harness';

const FP_HEX = 'ab'.repeat(32);
const FP_COLONS = Array.from({ length: 32 }, () => 'AB').join(':');

describe('admin API (gateway/admin/http)', () => {
  let h: ApiHarness;
  beforeEach(async () => { h = await openApiHarness(); });
  afterEach(async () => { await closeApiHarness(h); });

  describe('RFC 6750 §2.1/§3 bearer token', () => {
    it('MUST answer 401 with WWW-Authenticate: Bearer when no token is sent', async () => {
      const r = await call(h, 'GET', '/api/users');
      assert.equal(r.status, 401);
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="ciphergate-admin"');
      assert.match(r.json.error, /Authorization: Bearer/);
    });

    it('MUST answer 401 error="invalid_token" for a wrong token, well-formed or not', async () => {
      for (const token of ['A'.repeat(43), 'not-a-token', h.token.slice(0, 42) + (h.token.endsWith('A') ? 'B' : 'A')]) {
        const r = await call(h, 'GET', '/api/users', { token });
        assert.equal(r.status, 401, token.length.toString());
        assert.equal(r.headers['www-authenticate'], 'Bearer realm="ciphergate-admin", error="invalid_token"');
      }
    });

    it('MUST NOT reveal which /api paths exist to an unauthenticated client (401, not 404)', async () => {
      assert.equal((await call(h, 'GET', '/api/nothing-here')).status, 401);
      assert.equal((await call(h, 'GET', '/api/nothing-here', { token: h.token })).status, 404);
    });

    it('accepts the first-start token, announced once in notices', async () => {
      assert.equal(h.api.notices.length, 2);
      // assert.ok, not equal/match: a failure must not print the token.
      assert.ok(h.api.notices[0] === `Admin API token (shown once): ${h.token}`, 'the first notice announces the token');
      assert.ok(/^[A-Za-z0-9_-]{43}$/.test(h.token), 'the token is 256 bits, base64url');
      const r = await call(h, 'GET', '/api/users', { token: h.token });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { users: [] });
    });

    it('stores only an HMAC of the token, and a second start mints none', async () => {
      const stored = await h.store.adminTokens.list();
      assert.equal(stored.length, 1);
      assert.ok(!stored[0]!.mac.equals(Buffer.from(h.token)));
      assert.equal(stored[0]!.mac.length, 32);
      const tokens = new AdminTokens(h.store.adminTokens, h.masterKey);
      assert.equal(await tokens.ensureInitial(), undefined);
      tokens.dispose();
    });

    it('a rotation by another party takes effect at once: old token 401, new token 200', async () => {
      const tokens = new AdminTokens(h.store.adminTokens, h.masterKey);
      const rotated = await tokens.rotate();
      tokens.dispose();
      assert.equal(rotated.revoked.length, 1);
      assert.equal((await call(h, 'GET', '/api/users', { token: h.token })).status, 401);
      assert.equal((await call(h, 'GET', '/api/users', { token: rotated.minted.token })).status, 200);
    });

    it('limits token failures per source: 429 with Retry-After after 20', async () => {
      let last = 0;
      let retryAfter: string | string[] | undefined;
      for (let i = 0; i < 21; i++) {
        const r = await call(h, 'GET', '/api/users', { token: 'B'.repeat(43) });
        last = r.status;
        retryAfter = r.headers['retry-after'];
      }
      assert.equal(last, 429);
      assert.ok(Number(retryAfter) > 0);
    });
  });

  describe('GET /healthz', () => {
    it('answers 200 {"status":"ok"} without a token', async () => {
      const r = await call(h, 'GET', '/healthz');
      assert.equal(r.status, 200);
      assert.equal(r.text, '{"status":"ok"}');
      assert.equal(r.headers['cache-control'], 'no-store');
    });
  });

  describe('POST /api/users', () => {
    it('201 with the generated password once, and a Location', async () => {
      const r = await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'bob', number: '+34911234567', displayName: 'Bob' } });
      assert.equal(r.status, 201);
      assert.equal(r.headers.location, '/api/users/bob');
      assert.equal(r.json.user.name, 'bob');
      assert.equal(r.json.user.state, 'active');
      assert.equal(r.json.user.number, '+34911234567');
      assert.ok(checkPassword(r.json.password, { username: 'bob' }).ok);
      const again = await call(h, 'GET', '/api/users/bob', { token: h.token });
      assert.ok(!again.text.includes(r.json.password));
    });

    it('201 without any password in the answer when one is given', async () => {
      const r = await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'carol', password: STRONG_PASSWORD } });
      assert.equal(r.status, 201);
      assert.equal(r.json.password, undefined);
      assert.ok(!r.text.includes(STRONG_PASSWORD));
    });

    it('400 naming the field, with every password-policy violation', async () => {
      const r = await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'dave', password: 'aaaa1234' } });
      assert.equal(r.status, 400);
      assert.equal(r.json.field, 'password');
      assert.deepEqual(r.json.violations, checkPassword('aaaa1234', { username: 'dave' }).violations);
      assert.ok(r.json.violations.length >= 4);
      assert.ok(!r.text.includes('aaaa1234'));
    });

    const badInputs: [string, Record<string, unknown>, string][] = [
      ['missing name', {}, 'name'],
      ['name not a string', { name: 7 }, 'name'],
      ['invalid name', { name: 'Bob Smith' }, 'name'],
      ['invalid number', { name: 'erin', number: '0034911' }, 'number'],
      ['invalid display name', { name: 'erin', displayName: 'a\u0007b' }, 'displayName'],
      ['unknown field', { name: 'erin', admin: true }, 'admin'],
    ];
    for (const [what, body, field] of badInputs) {
      it(`400 naming the field: ${what}`, async () => {
        const r = await call(h, 'POST', '/api/users', { token: h.token, body });
        assert.equal(r.status, 400, r.text);
        assert.equal(r.json.field, field);
      });
    }

    it('409 for an existing name (field name) or a number in use (field number)', async () => {
      await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'bob', number: '+34911234567' } });
      const name = await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'bob' } });
      assert.equal(name.status, 409);
      assert.equal(name.json.field, 'name');
      const number = await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'bobby', number: '+34911234567' } });
      assert.equal(number.status, 409);
      assert.equal(number.json.field, 'number');
    });

    it('415 for a non-JSON content type, 400 for bad JSON or a non-object, 413 above the size limit', async () => {
      const form = await call(h, 'POST', '/api/users', { token: h.token, raw: 'name=bob', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(form.status, 415);
      assert.equal((await call(h, 'POST', '/api/users', { token: h.token, raw: '{"name":' })).status, 400);
      assert.equal((await call(h, 'POST', '/api/users', { token: h.token, raw: '["bob"]' })).status, 400);
      const big = await call(h, 'POST', '/api/users', { token: h.token, raw: JSON.stringify({ name: 'x'.repeat(20_000) }) });
      assert.equal(big.status, 413);
      assert.deepEqual(await h.users.list(), []);
    });

    it('405 with Allow for a wrong method', async () => {
      const r = await call(h, 'PUT', '/api/users', { token: h.token, body: {} });
      assert.equal(r.status, 405);
      assert.equal(r.headers.allow, 'GET, POST');
    });
  });

  describe('per-user endpoints', () => {
    beforeEach(async () => {
      await h.users.add('bob', { password: STRONG_PASSWORD });
      h.registrar.bindings = [binding('bob', 'sip:bob@192.0.2.10:5061;transport=tls'), binding('alice', 'sip:alice@192.0.2.11')];
    });

    it('GET /api/users and /api/users/:name show the account without secrets; 404 for an unknown user', async () => {
      const list = await call(h, 'GET', '/api/users', { token: h.token });
      assert.deepEqual(list.json.users.map((u: { name: string }) => u.name), ['bob']);
      const one = await call(h, 'GET', '/api/users/bob', { token: h.token });
      assert.equal(one.status, 200);
      assert.equal(one.json.user.hasPassword, true);
      assert.equal(one.json.user.otpPending, false);
      assert.deepEqual(one.json.user.certificates, []);
      assert.match(one.json.user.createdAt, /^\d{4}-\d\d-\d\dT/);
      const missing = await call(h, 'GET', '/api/users/zed', { token: h.token });
      assert.equal(missing.status, 404);
      assert.match(missing.json.error, /zed/);
    });

    it('block: state blocked and the registrar drops the registrations at once; unblock: active again', async () => {
      const r = await call(h, 'POST', '/api/users/bob/block', { token: h.token });
      assert.equal(r.status, 200);
      assert.equal(r.json.user.state, 'blocked');
      assert.deepEqual(h.registrar.blocked, ['bob']);
      assert.deepEqual(h.registrar.bindings.map((b) => b.user), ['alice']);
      const u = await call(h, 'POST', '/api/users/bob/unblock', { token: h.token });
      assert.equal(u.json.user.state, 'active');
      assert.equal((await call(h, 'POST', '/api/users/zed/block', { token: h.token })).status, 404);
    });

    it('block refuses a body it does not understand (400 naming the field)', async () => {
      const r = await call(h, 'POST', '/api/users/bob/block', { token: h.token, body: { force: true } });
      assert.equal(r.status, 400);
      assert.equal(r.json.field, 'force');
    });

    it('reset: the OTP once with its expiry; GET shows only that one is pending', async () => {
      const r = await call(h, 'POST', '/api/users/bob/reset', { token: h.token });
      assert.equal(r.status, 200);
      assert.ok(/^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}$/.test(String(r.json.otp)), 'OTP format (not printed on failure)');
      assert.ok(Date.parse(r.json.expiresAt) > Date.now() + 23 * 3600_000);
      const show = await call(h, 'GET', '/api/users/bob', { token: h.token });
      assert.equal(show.json.user.state, 'password-change-required');
      assert.equal(show.json.user.otpPending, true);
      assert.equal(show.json.user.otpExpiresAt, r.json.expiresAt);
      assert.ok(!show.text.includes(r.json.otp));
    });

    it('reset of a blocked user is 409', async () => {
      await h.users.block('bob');
      assert.equal((await call(h, 'POST', '/api/users/bob/reset', { token: h.token })).status, 409);
    });

    it('destroy-keys: credentials wiped, password-change-required, registrations dropped', async () => {
      const r = await call(h, 'POST', '/api/users/bob/destroy-keys', { token: h.token });
      assert.equal(r.status, 200);
      assert.equal(r.json.user.state, 'password-change-required');
      assert.equal(await h.store.secrets.hasHa1s('bob'), false);
      assert.deepEqual(h.registrar.blocked, ['bob']);
    });

    it('DELETE: 204, registrations dropped first, then 404', async () => {
      const r = await call(h, 'DELETE', '/api/users/bob', { token: h.token });
      assert.equal(r.status, 204);
      assert.equal(r.text, '');
      assert.deepEqual(h.registrar.blocked, ['bob']);
      assert.equal((await call(h, 'GET', '/api/users/bob', { token: h.token })).status, 404);
      assert.equal((await call(h, 'DELETE', '/api/users/bob', { token: h.token })).status, 404);
    });

    it('POST certs: 201 with the stored form; 400 field fingerprint; 409 when bound elsewhere', async () => {
      const r = await call(h, 'POST', '/api/users/bob/certs', { token: h.token, body: { fingerprint: FP_COLONS } });
      assert.equal(r.status, 201);
      assert.deepEqual(r.json, { user: 'bob', fingerprint: FP_HEX });
      const bad = await call(h, 'POST', '/api/users/bob/certs', { token: h.token, body: { fingerprint: 'AB:CD' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.field, 'fingerprint');
      const missing = await call(h, 'POST', '/api/users/bob/certs', { token: h.token, body: {} });
      assert.equal(missing.json.field, 'fingerprint');
      await h.users.add('carol');
      const taken = await call(h, 'POST', '/api/users/carol/certs', { token: h.token, body: { fingerprint: FP_HEX } });
      assert.equal(taken.status, 409);
      assert.equal(taken.json.field, 'fingerprint');
    });

    it('GET /api/registrations lists the registrar\'s bindings, optionally of one AOR', async () => {
      const all = await call(h, 'GET', '/api/registrations', { token: h.token });
      assert.equal(all.status, 200);
      assert.equal(all.json.registrations.length, 2);
      assert.equal(all.json.registrations[0].source, '192.0.2.10:50000');
      const one = await call(h, 'GET', `/api/registrations?aor=${encodeURIComponent('sip:alice@ciphergate.local')}`, { token: h.token });
      assert.deepEqual(one.json.registrations.map((b: { user: string }) => b.user), ['alice']);
    });

    it('no GET response carries a password, OTP, HA1 or token', async () => {
      const added = await call(h, 'POST', '/api/users', { token: h.token, body: { name: 'carol' } });
      const otp = (await call(h, 'POST', '/api/users/bob/reset', { token: h.token })).json.otp as string;
      const secrets = [STRONG_PASSWORD, added.json.password as string, otp, otp.replace(/-/g, ''), h.token];
      const gets = ['/api/users', '/api/users/bob', '/api/users/carol', '/api/registrations', '/healthz'];
      for (const path of gets) {
        const r = await call(h, 'GET', path, { token: h.token });
        assert.equal(r.status, 200, path);
        for (const s of secrets) assert.ok(!r.text.includes(s), `${path} leaks a secret`);
        assert.doesNotMatch(r.text, /"(ha1|mac|otp|password|token)"/i, path);
      }
    });
  });

  describe('TLS policy (RFC 9325 §4, as for SIP)', () => {
    function handshake(options: { maxVersion?: SecureVersion; ciphers?: string }): Promise<string> {
      return new Promise((resolve) => {
        const s = connect({ host: '127.0.0.1', port: h.api.address.port, rejectUnauthorized: false, minVersion: 'TLSv1', ...options });
        const timer = setTimeout(() => { s.destroy(); resolve('timeout'); }, 5000);
        s.once('secureConnect', () => { clearTimeout(timer); const v = s.getProtocol() ?? ''; s.destroy(); resolve(v); });
        s.once('error', () => { clearTimeout(timer); resolve('refused'); });
      });
    }

    it('refuses TLS 1.1 and TLS 1.2 CBC suites, accepts TLS 1.3', async () => {
      assert.equal(await handshake({ maxVersion: 'TLSv1.1' }), 'refused');
      assert.equal(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA' }), 'refused');
      assert.equal(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }), 'TLSv1.2');
      assert.equal(await handshake({}), 'TLSv1.3');
    });
  });
});
