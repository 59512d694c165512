/**
 * Route scopes on the admin listener (RFC 6750 §3.1): a metrics token reads GET /metrics and
 * nothing else; the admin token keeps reading /metrics; a valid token without the scope is 403
 * insufficient_scope (not 401), audited without the token; each kind rotates on its own, also
 * while the API runs (the CLI works on the store).
 */
import assert from 'node:assert/strict';
import { OS_USER_HEADER } from '../../../gateway/admin/http/auth';
import { RouteTableError, AdminHttpServer } from '../../../gateway/admin/http/server';
import { RateLimiter } from '../../../gateway/admin/http/rate-limit';
import type { Authenticator } from '../../../gateway/admin/http/auth';
import type { Route } from '../../../gateway/admin/http/routes';
import { nullAudit } from '../../../gateway/admin/audit';
import { nullLogger } from '../../../gateway/log/logger';
import { cli } from '../../cli/users-helpers';
import { hideShownOnce } from '../../helpers/hide-secrets';
import { call } from './harness';
import { closeScopeHarness, openScopeHarness, PROBE_METRIC, type ScopeHarness } from './scope-harness';

const UNKNOWN_TOKEN = 'Q'.repeat(43);
const INSUFFICIENT = /^Bearer realm="ciphergate-admin", error="insufficient_scope", scope="admin"$/;

describe('admin API scopes (gateway/admin/http/server.ts, RFC 6750)', function () {
  this.timeout(30_000);
  let h: ScopeHarness;
  let metricsToken = '';
  let metricsId = '';
  /** Every token this suite saw: none may appear in the log or the audit file. */
  const seen: string[] = [];

  before(async () => {
    h = await openScopeHarness();
    const minted = await h.mint('metrics');
    metricsToken = minted.token;
    metricsId = minted.id;
    seen.push(h.token, metricsToken, h.sessionToken());
  });
  after(async () => {
    const log = await closeScopeHarness(h);
    assert.ok(log.includes('admin API listening'), 'the log was captured');
    for (const t of seen) assert.ok(!log.includes(t), 'a token appears in the gateway log');
  });

  describe('§2.1 GET /metrics', () => {
    it('MUST serve the exposition to a metrics token', async () => {
      const r = await call(h, 'GET', '/metrics', { token: metricsToken });
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      assert.match(r.text, new RegExp(`^${PROBE_METRIC} 1$`, 'm'));
    });

    it('MUST keep serving it to the admin token', async () => {
      const r = await call(h, 'GET', '/metrics', { token: h.token });
      assert.equal(r.status, 200);
      assert.match(r.text, new RegExp(`^${PROBE_METRIC} 1$`, 'm'));
    });

    it('MUST answer an unknown token 401 invalid_token on /metrics and on /api/*', async () => {
      for (const p of ['/metrics', '/api/users']) {
        const r = await call(h, 'GET', p, { token: UNKNOWN_TOKEN });
        assert.equal(r.status, 401, p);
        assert.match(String(r.headers['www-authenticate']), /error="invalid_token"/, p);
        assert.doesNotMatch(r.text, new RegExp(PROBE_METRIC));
      }
    });
  });

  describe('§3.1 insufficient_scope', () => {
    it('MUST answer a metrics token on GET /api/users 403 with insufficient_scope and a JSON error', async () => {
      const r = await call(h, 'GET', '/api/users', { token: metricsToken });
      assert.equal(r.status, 403);
      assert.match(String(r.headers['www-authenticate']), INSUFFICIENT);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      assert.match(r.json.error as string, /^insufficient scope: this endpoint needs the admin token/);
    });

    it('MUST NOT let a metrics token change an account (POST /api/users 403, nothing added)', async () => {
      const r = await call(h, 'POST', '/api/users', { token: metricsToken, body: { name: 'mallory' } });
      assert.equal(r.status, 403);
      assert.equal((await call(h, 'GET', '/api/users/mallory', { token: h.token })).status, 404);
    });

    it('MUST answer 403, not 404 or 405, for a path or method a metrics token may not use', async () => {
      for (const [method, p] of [['GET', '/api/no-such-thing'], ['POST', '/metrics'], ['DELETE', '/api/users/bob'], ['GET', '/api/registrations']]) {
        const r = await call(h, method!, p!, { token: metricsToken });
        assert.equal(r.status, 403, `${method} ${p}`);
        assert.match(String(r.headers['www-authenticate']), INSUFFICIENT);
      }
      assert.equal((await call(h, 'GET', '/api/no-such-thing', { token: h.token })).status, 404, 'the admin learns it');
      assert.equal((await call(h, 'POST', '/metrics', { token: h.token })).status, 405);
    });

    it('MUST refuse a metrics token on the CLI endpoints, OS-user header or not; the session token passes', async () => {
      const headers = { [OS_USER_HEADER]: 'operator' };
      const session = await call(h, 'GET', '/api/users', { token: h.sessionToken(), headers });
      assert.equal(session.status, 200, 'the CLI session token reaches the API');
      const r = await call(h, 'GET', '/api/users', { token: metricsToken, headers });
      assert.equal(r.status, 403);
      assert.equal((await call(h, 'GET', '/metrics', { token: h.sessionToken() })).status, 200);
    });

    it('MUST audit the refusal with the token id, method and path, never the token', async () => {
      await call(h, 'GET', '/api/users/carol', { token: metricsToken });
      const isRefusal = (e: Record<string, unknown>): boolean => e.action === 'admin.insufficient-scope'
        && (e.detail as { path?: string }).path === '/api/users/carol';
      const refusal = (await h.auditEntries(isRefusal)).find(isRefusal);
      assert.ok(refusal, 'the refusal is audited');
      assert.equal(refusal.actor, `token:${metricsId}`);
      assert.equal(refusal.result, 'denied');
      assert.deepEqual(refusal.detail, { method: 'GET', path: '/api/users/carol' });
      assert.equal(refusal.reason, 'needs admin scope');
      const text = h.auditText();
      for (const t of seen) assert.ok(!text.includes(t), 'a token appears in the audit log');
    });
  });

  describe('rotation of one kind leaves the other (CLI against the running API)', () => {
    it('MUST refuse the old metrics token at once after `metrics token rotate`; the admin token still works', async () => {
      const r = await cli(h.dataDir, ['metrics', 'token', 'rotate']);
      assert.equal(r.code, 0, r.stderr);
      const m = /^Metrics token \(shown once\): ([A-Za-z0-9_-]{43})\nRevoked 1 earlier metrics token\(s\): scrapes with them now get 401\.\n$/.exec(r.stdout);
      assert.ok(m, hideShownOnce(r.stdout));
      seen.push(m[1]!);
      assert.equal((await call(h, 'GET', '/metrics', { token: metricsToken })).status, 401);
      assert.equal((await call(h, 'GET', '/metrics', { token: m[1]! })).status, 200);
      assert.equal((await call(h, 'GET', '/api/users', { token: h.token })).status, 200);
      metricsToken = m[1]!;
    });

    it('MUST refuse the old admin token at once after `admin token rotate`; the metrics token still works', async () => {
      const r = await cli(h.dataDir, ['admin', 'token', 'rotate']);
      assert.equal(r.code, 0, r.stderr);
      const fresh = /^Admin API token \(shown once\): ([A-Za-z0-9_-]{43})\n/.exec(r.stdout)?.[1];
      assert.ok(fresh, hideShownOnce(r.stdout));
      seen.push(fresh);
      assert.equal((await call(h, 'GET', '/api/users', { token: h.token })).status, 401);
      assert.equal((await call(h, 'GET', '/api/users', { token: fresh })).status, 200);
      assert.equal((await call(h, 'GET', '/metrics', { token: metricsToken })).status, 200);
      const entries = await h.auditEntries((e) => e.action === 'token.rotate');
      assert.ok(entries.some((e) => e.action === 'token.rotate-metrics' && e.result === 'ok'));
      assert.ok(entries.some((e) => e.action === 'token.rotate' && e.result === 'ok'));
      const text = h.auditText();
      for (const t of seen) assert.ok(!text.includes(t), 'a token appears in the audit log');
    });
  });
});

describe('insufficient-scope refusals count toward the per-source limit', function () {
  this.timeout(30_000);
  let h: ScopeHarness | undefined;
  after(async () => { await closeScopeHarness(h); });

  it('MUST turn repeated 403s from one address into 429 (the audit log cannot be flooded)', async () => {
    h = await openScopeHarness();
    const { token } = await h.mint('metrics');
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push((await call(h, 'GET', '/api/users', { token })).status);
    assert.deepEqual(statuses.slice(0, 20), new Array<number>(20).fill(403));
    assert.deepEqual(statuses.slice(20), [429, 429]);
    assert.equal((await call(h, 'GET', '/metrics', { token })).status, 200, 'its own scope still works');
    const entries = await h.auditEntries((e) => e.action === 'admin.rate-limited');
    assert.equal(entries.filter((e) => e.action === 'admin.insufficient-scope').length, 20);
    assert.equal(entries.filter((e) => e.action === 'admin.rate-limited').length, 1);
  });
});

describe('route table check (gateway/admin/http/server.ts)', () => {
  const route = (path: string, auth: Route['auth']): Route => ({ method: 'GET', path, auth, handle: async () => undefined });
  const build = (routes: Route[]): AdminHttpServer => new AdminHttpServer({
    tls: { cert: Buffer.alloc(0), key: Buffer.alloc(0) }, routes, authenticator: {} as Authenticator,
    authFailureLimit: new RateLimiter({ maxAttempts: 1, windowMs: 1000 }), audit: nullAudit, log: nullLogger,
  });

  it('MUST refuse an /api route that a metrics token could reach, or an open one', () => {
    assert.throws(() => build([route('/api/stats', 'metrics')]), RouteTableError);
    assert.throws(() => build([route('/api/stats', false)]), RouteTableError);
    assert.throws(() => build([route('/metrics', false)]), RouteTableError);
  });
});
