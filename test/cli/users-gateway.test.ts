/**
 * The real thing: `ciphergate start` spawned (ephemeral ports, admin.port=0), the CLI and curl
 * against it. Checks the first-start token, the bearer check, that a CLI block reaches the running
 * process at once, the OTP flow over curl, and that the endpoint file goes away on stop.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cliEndpointPath } from '../../gateway/admin/http';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process';
import { cli } from './users-helpers';

const NEW_PASSWORD = 'Kw4!nRb8_Ts3$yHe';

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', '10', ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

describe('admin API and CLI against a spawned gateway (ciphergate start)', function () {
  this.timeout(60_000);
  let gw: GatewayProcess | undefined;
  let port = 0;
  let token = '';
  let curlBase: string[] = [];

  before(async function () {
    if (spawnSync('curl', ['--version']).status !== 0) this.skip();
    gw = await startGateway();
    const admin = /admin https 127\.0\.0\.1:(\d+)\n/.exec(gw.output());
    assert.ok(admin, gw.output());
    port = Number(admin[1]);
    const t = /Admin API token \(shown once\): ([A-Za-z0-9_-]{43})\n/.exec(gw.output());
    assert.ok(t, gw.output());
    token = t[1]!;
    // The generated certificate names sip.domain (ciphergate.local): resolve it to the loopback.
    curlBase = ['--cacert', path.join(gw.dataDir, 'tls', 'cert.pem'), '--resolve', `ciphergate.local:${port}:127.0.0.1`];
  });
  after(async () => { await gw?.stop(); });

  const url = (p: string): string => `https://ciphergate.local:${port}${p}`;

  it('prints the admin listener and the token once, before "Ciphergate ready"', () => {
    const out = gw!.output();
    assert.ok(out.indexOf('Admin API token (shown once)') < out.indexOf('Ciphergate ready'));
    assert.equal(out.split('Admin API token').length, 2);
  });

  it('GET /healthz without a token; /api/* 401 without, 200 with the bearer token', async () => {
    const health = await curl([...curlBase, url('/healthz')]);
    assert.equal(health.stdout, '{"status":"ok"}', health.stderr);
    const denied = await curl([...curlBase, '--output', '/dev/null', '--write-out', '%{http_code}', url('/api/users')]);
    assert.equal(denied.stdout, '401');
    const ok = await curl([...curlBase, '-H', `Authorization: Bearer ${token}`, url('/api/users')]);
    assert.deepEqual(JSON.parse(ok.stdout), { users: [] });
  });

  it('the CLI finds the running gateway: add, block (at once), reset, then the OTP flow over curl', async () => {
    const dir = gw!.dataDir;
    const add = await cli(dir, ['user', 'add', 'bob']);
    assert.equal(add.code, 0, add.stderr);
    const block = await cli(dir, ['user', 'block', 'bob']);
    assert.equal(block.code, 0, block.stderr);
    assert.match(block.stdout, /Applied by the running gateway/);
    const shown = await curl([...curlBase, '-H', `Authorization: Bearer ${token}`, url('/api/users/bob')]);
    assert.equal((JSON.parse(shown.stdout) as { user: { state: string } }).user.state, 'blocked');
    assert.equal((await cli(dir, ['user', 'unblock', 'bob'])).code, 0);

    const reset = await cli(dir, ['user', 'reset', 'bob']);
    const otp = /\(shown once\): (\S+)/.exec(reset.stdout)![1]!;
    const post = (body: unknown): Promise<{ stdout: string }> => curl([...curlBase, '--output', '/dev/null', '--write-out', '%{http_code}',
      '-H', 'Content-Type: application/json', '--data', JSON.stringify(body), url('/self/password')]);
    assert.equal((await post({ user: 'bob', otp: 'AAAA-BBBB-CCCC-DDDD', newPassword: NEW_PASSWORD })).stdout, '403');
    assert.equal((await post({ user: 'bob', otp, newPassword: 'weak' })).stdout, '400');
    assert.equal((await post({ user: 'bob', otp, newPassword: NEW_PASSWORD })).stdout, '204');
    const show = await cli(dir, ['user', 'show', 'bob']);
    assert.match(show.stdout, /\nstate +active\npassword set +yes\none-time pw +none\n/);
  });

  it('admin token rotate on the running gateway: the old token is refused at once', async () => {
    const rotated = await cli(gw!.dataDir, ['admin', 'token', 'rotate']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = /\(shown once\): (\S+)/.exec(rotated.stdout)![1]!;
    const old = await curl([...curlBase, '--output', '/dev/null', '--write-out', '%{http_code}', '-H', `Authorization: Bearer ${token}`, url('/api/users')]);
    assert.equal(old.stdout, '401');
    const now = await curl([...curlBase, '--output', '/dev/null', '--write-out', '%{http_code}', '-H', `Authorization: Bearer ${fresh}`, url('/api/users')]);
    assert.equal(now.stdout, '200');
    token = fresh;
  });

  it('the audit log holds the actions and none of the one-time values', async () => {
    const text = fs.readFileSync(path.join(gw!.dataDir, 'audit.log'), 'utf8');
    for (const action of ['token.mint', 'user.add', 'user.block', 'user.reset', 'self.password', 'token.rotate', 'admin.auth-failure']) {
      assert.match(text, new RegExp(`"action":"${action.replace('.', '\\.')}"`), action);
    }
    assert.ok(!text.includes(token) && !text.includes(NEW_PASSWORD));
  });

  it('stopping the gateway removes the endpoint file; the CLI then works on the files', async () => {
    const dir = gw!.dataDir;
    assert.ok(fs.existsSync(cliEndpointPath(dir)));
    try {
      const code = await new Promise<number | null>((resolve) => {
        const kill = setTimeout(() => gw!.child.kill('SIGKILL'), 10_000);
        gw!.child.once('exit', (c) => { clearTimeout(kill); resolve(c); });
        gw!.child.kill('SIGTERM');
      });
      assert.equal(code, 0);
      assert.equal(fs.existsSync(cliEndpointPath(dir)), false);
      const list = await cli(dir, ['user', 'list']);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /\nbob +- +active +on-net\n/);
    } finally {
      // gw.stop() only cleans up a gateway it stops itself.
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
