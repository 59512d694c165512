/**
 * The account commands against a RUNNING gateway: the CLI finds it through
 * <dataDir>/run/cli-endpoint.json and acts through its admin API, so changes reach live state (the
 * registrar) at once. The "gateway" here is the admin API in this test process with a fake
 * registrar; the CLI is spawned for real. The OTP flow ends with curl against /self/password.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { cliEndpointPath, readCliEndpoint } from '../../gateway/admin/http';
import { computeHa1 } from '../../gateway/admin/credentials';
import { binding, closeApiHarness, openApiHarness, REALM, STRONG_PASSWORD, type ApiHarness } from '../admin/http/harness';
import { cli } from './users-helpers';

const NEW_PASSWORD = 'Kw4!nRb8_Ts3$yHe';

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', args, { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('ciphergate user … against a running gateway (admin API + CLI endpoint file)', () => {
  let h: ApiHarness | undefined;
  beforeEach(async () => {
    h = await openApiHarness({ cliEndpoint: true });
    await h.users.add('bob', { password: STRONG_PASSWORD });
    h.registrar.bindings = [binding('bob', 'sip:bob@192.0.2.10:5061;transport=tls'), binding('alice', 'sip:alice@192.0.2.11')];
  });
  afterEach(async () => { await closeApiHarness(h); h = undefined; });

  it('the endpoint file is 0600 in a 0700 directory, names this process, and goes away at close', async () => {
    const file = cliEndpointPath(h!.dataDir);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    const ep = readCliEndpoint(h!.dataDir);
    assert.equal(ep?.pid, process.pid);
    assert.equal(ep?.fingerprint, h!.tls.fingerprint);
    assert.equal(ep?.url, `https://127.0.0.1:${h!.api.address.port}`);
    await h!.api.close();
    assert.equal(fs.existsSync(file), false);
  });

  it('user block takes effect at once: the registrar dropped the registrations when the CLI returns', async () => {
    const r = await cli(h!.dataDir, ['user', 'block', 'bob']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Applied by the running gateway: the registrations of 'bob' were dropped at once\./);
    assert.deepEqual(h!.registrar.blocked, ['bob']);
    assert.deepEqual(h!.registrar.bindings.map((b) => b.user), ['alice']);
    assert.equal((await h!.users.get('bob'))?.state, 'blocked');
    await h!.audit.close();
    const lines = fs.readFileSync(path.join(h!.dataDir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    const block = lines.find((l) => l.action === 'user.block');
    assert.equal(block?.actor, `cli:${userInfo().username}`);
    assert.equal(block?.source, '127.0.0.1');
  });

  it('destroy-keys and remove reach the registrar too', async () => {
    assert.equal((await cli(h!.dataDir, ['user', 'destroy-keys', 'bob'])).code, 0);
    assert.equal(await h!.store.secrets.hasHa1s('bob'), false);
    assert.equal((await cli(h!.dataDir, ['user', 'remove', 'bob'])).code, 0);
    assert.deepEqual(h!.registrar.blocked, ['bob', 'bob']);
    assert.equal(await h!.users.get('bob'), undefined);
  });

  it('user add / list / show / registrations work through the API; errors read the same', async () => {
    const add = await cli(h!.dataDir, ['user', 'add', 'carol', '--password-stdin'], { stdin: STRONG_PASSWORD });
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, "User 'carol' added (state active).\n");
    const list = await cli(h!.dataDir, ['user', 'list']);
    assert.match(list.stdout, /\nbob +- +active +on-net\ncarol +- +active +on-net\n$/);
    const regs = await cli(h!.dataDir, ['registrations', '--json']);
    assert.deepEqual((JSON.parse(regs.stdout) as { registrations: { user: string }[] }).registrations.map((b) => b.user), ['bob', 'alice']);
    const missing = await cli(h!.dataDir, ['user', 'show', 'zed']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "ciphergate: user 'zed' does not exist; list users with `ciphergate user list`\n");
    const weak = await cli(h!.dataDir, ['user', 'add', 'dave', '--password-stdin'], { stdin: 'dave' });
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /\n {2}- it must be at least 12 characters long\n/);
  });

  it('the full OTP reset flow: CLI reset → curl POST /self/password → the new password verifies', async function () {
    if (spawnSync('curl', ['--version']).status !== 0) this.skip();
    const reset = await cli(h!.dataDir, ['user', 'reset', 'bob']);
    assert.equal(reset.code, 0, reset.stderr);
    const otp = /\(shown once\): (\S+)/.exec(reset.stdout)![1]!;
    assert.equal((await h!.users.get('bob'))?.state, 'password-change-required');
    assert.equal(await h!.users.ha1For('bob', REALM, 'SHA-256'), undefined, 'the old password no longer works');

    const port = h!.api.address.port;
    const certFile = path.join(h!.dataDir, 'tls', 'cert.pem');
    const base = ['--silent', '--show-error', '--max-time', '10', '--cacert', certFile, '--resolve', `localhost:${port}:127.0.0.1`,
      '--output', '/dev/null', '--write-out', '%{http_code}', '-H', 'Content-Type: application/json'];
    const url = `https://localhost:${port}/self/password`;
    const weak = await curl([...base, '--data', JSON.stringify({ user: 'bob', otp, newPassword: 'short' }), url]);
    assert.equal(weak.stdout, '400', weak.stderr);
    const ok = await curl([...base, '--data', JSON.stringify({ user: 'bob', otp, newPassword: NEW_PASSWORD }), url]);
    assert.equal(ok.stdout, '204', ok.stderr);
    const again = await curl([...base, '--data', JSON.stringify({ user: 'bob', otp, newPassword: NEW_PASSWORD }), url]);
    assert.equal(again.stdout, '403', 'an OTP works once');

    const ha1 = await h!.users.ha1For('bob', REALM, 'SHA-256');
    assert.ok(ha1?.equals(computeHa1('SHA-256', 'bob', REALM, NEW_PASSWORD)));
    const show = await cli(h!.dataDir, ['user', 'show', 'bob']);
    assert.match(show.stdout, /\nstate +active\n/);
    await h!.audit.close();
    const audit = fs.readFileSync(path.join(h!.dataDir, 'audit.log'), 'utf8');
    assert.ok(!audit.includes(otp) && !audit.includes(NEW_PASSWORD));
    assert.match(audit, /"action":"self.password","actor":"anonymous","source":"127.0.0.1","target":"bob","result":"ok"/);
  });

  it('a stale endpoint file (its process is gone) is ignored: the CLI works on the files', async () => {
    const file = cliEndpointPath(h!.dataDir);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const ep = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify({ ...ep, pid: Number(dead) }), { mode: 0o600 });
    const r = await cli(h!.dataDir, ['user', 'block', 'bob']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('running gateway'));
    assert.deepEqual(h!.registrar.blocked, [], 'the running registrar was not involved');
    assert.equal((await h!.users.get('bob'))?.state, 'blocked');
  });

  it('refuses to send the session token to a listener whose certificate is not the pinned one', async () => {
    const file = cliEndpointPath(h!.dataDir);
    const ep = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify({ ...ep, fingerprint: Array.from({ length: 32 }, () => '00').join(':') }), { mode: 0o600 });
    const r = await cli(h!.dataDir, ['user', 'block', 'bob']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not present the gateway's certificate; not sending credentials/);
    assert.equal((await h!.users.get('bob'))?.state, 'active');
  });

  it('refuses an endpoint file others can read', async () => {
    fs.chmodSync(cliEndpointPath(h!.dataDir), 0o644);
    const r = await cli(h!.dataDir, ['user', 'list']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /accessible by group or others/);
  });
});
