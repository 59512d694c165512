/**
 * The account commands against a STOPPED gateway: the CLI works on <dataDir> directly.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { checkPassword } from '../../gateway/admin/password-policy';
import { computeHa1 } from '../../gateway/admin/credentials';
import { defaultCommands } from '../../gateway/cli/registry';
import { runCli } from '../../gateway/cli/run';
import { openAccountStore } from '../../gateway/store';
import { makeDataDir, removeDataDir } from '../store/fixtures';
import { memoryIo } from '../helpers/cli-io';
import { hideShownOnce } from '../helpers/hide-secrets';
import { cli, REALM, withUsers } from './users-helpers';

const STRONG = 'Vq7#mLp2-Xr9!zTw';
describe('ciphergate user … / registrations / admin token rotate (stopped gateway)', () => {
  let dir: string;
  beforeEach(() => { dir = makeDataDir(); });
  afterEach(() => { removeDataDir(dir); });

  describe('user add', () => {
    it('generates a password, prints it once, exit 0; the password verifies', async () => {
      const r = await cli(dir, ['user', 'add', 'bob', '--number', '+34911234567', '--display', 'Bob B']);
      assert.equal(r.code, 0, r.stderr);
      const m = /^User 'bob' added \(state active\)\.\nPassword \(shown once\): (\S+)\n$/.exec(r.stdout);
      assert.ok(m, hideShownOnce(r.stdout));
      assert.ok(checkPassword(m[1]!, { username: 'bob' }).ok);
      const ha1 = await withUsers(dir, (u) => u.ha1For('bob', REALM, 'SHA-256'));
      assert.ok(ha1?.equals(computeHa1('SHA-256', 'bob', REALM, m[1]!)));
      const list = await cli(dir, ['user', 'list']);
      assert.ok(!list.stdout.includes(m[1]!));
    });

    it('--password-stdin reads the first line, prints no password', async () => {
      const r = await cli(dir, ['user', 'add', 'carol', '--password-stdin'], { stdin: `${STRONG}\n` });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "User 'carol' added (state active).\n");
      const ha1 = await withUsers(dir, (u) => u.ha1For('carol', REALM, 'MD5'));
      assert.ok(ha1?.equals(computeHa1('MD5', 'carol', REALM, STRONG)));
    });

    it('reads a piped password without --password-stdin when stdin has data', async () => {
      const r = await cli(dir, ['user', 'add', 'dave'], { stdin: STRONG });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes('Password'));
      const ha1 = await withUsers(dir, (u) => u.ha1For('dave', REALM, 'SHA-512-256'));
      assert.ok(ha1?.equals(computeHa1('SHA-512-256', 'dave', REALM, STRONG)));
    });

    it('a weak password: exit 1 listing every violation, never echoing it; nothing created', async () => {
      const weak = 'erin1234';
      const r = await cli(dir, ['user', 'add', 'erin', '--password-stdin'], { stdin: weak });
      assert.equal(r.code, 1);
      // First: the password is not echoed; only then may stderr serve as a failure message.
      assert.ok(!r.stderr.includes(weak) && !r.stdout.includes(weak));
      for (const v of checkPassword(weak, { username: 'erin' }).violations) assert.ok(r.stderr.includes(`  - it ${v}\n`), r.stderr);
      assert.deepEqual(await withUsers(dir, (u) => u.list()), []);
    });

    it('--password-stdin with empty input is a usage error (exit 2)', async () => {
      const r = await cli(dir, ['user', 'add', 'erin', '--password-stdin'], { stdin: '' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /standard input was empty[\s\S]*Usage: ciphergate user add NAME/);
    });

    it('an existing name or a bad number: exit 1 saying what to do', async () => {
      assert.equal((await cli(dir, ['user', 'add', 'bob'])).code, 0);
      const again = await cli(dir, ['user', 'add', 'bob']);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /user "bob" already exists; choose another name/);
      const number = await cli(dir, ['user', 'add', 'zoe', '--number', '12345']);
      assert.equal(number.code, 1);
      assert.match(number.stderr, /E\.164/);
    });
  });

  describe('the other user commands', () => {
    beforeEach(async () => {
      await withUsers(dir, async (u) => {
        await u.add('bob', { password: STRONG, number: '+34911234567', displayName: 'Bob' });
        await u.add('alice');
      });
    });

    it('user list: a table ordered by name; --json the API shape', async () => {
      const r = await cli(dir, ['user', 'list']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.split('\n'), [
        'NAME   NUMBER        STATE   CALLS   DISPLAY NAME',
        'alice  -             active  on-net',
        'bob    +34911234567  active  on-net  Bob',
        '',
      ]);
      const json = JSON.parse((await cli(dir, ['user', 'list', '--json'])).stdout) as { users: { name: string }[] };
      assert.deepEqual(json.users.map((u) => u.name), ['alice', 'bob']);
    });

    it('user show: the account without secrets', async () => {
      const r = await cli(dir, ['user', 'show', 'bob']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^name +bob\nnumber +\+34911234567\ndisplay name +Bob\nstate +active\npassword set +yes\none-time pw +none\n/);
      assert.ok(!r.stdout.includes(STRONG));
    });

    it('an unknown user: exit 1, "user \'zed\' does not exist; list users with `ciphergate user list`"', async () => {
      for (const cmd of ['show', 'block', 'unblock', 'reset', 'destroy-keys', 'remove']) {
        const r = await cli(dir, ['user', cmd, 'zed']);
        assert.equal(r.code, 1, cmd);
        assert.equal(r.stderr, "ciphergate: user 'zed' does not exist; list users with `ciphergate user list`\n", cmd);
      }
    });

    it('block / unblock change the state', async () => {
      const b = await cli(dir, ['user', 'block', 'bob']);
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stdout, /^User 'bob' blocked\. Undo with: ciphergate user unblock bob\n$/);
      assert.equal((await withUsers(dir, (u) => u.get('bob')))?.state, 'blocked');
      assert.equal((await cli(dir, ['user', 'unblock', 'bob'])).code, 0);
      assert.equal((await withUsers(dir, (u) => u.get('bob')))?.state, 'active');
    });

    it('reset prints the OTP once with its expiry; the OTP redeems', async () => {
      const r = await cli(dir, ['user', 'reset', 'bob']);
      assert.equal(r.code, 0, r.stderr);
      const m = /One-time password for 'bob' \(shown once\): (\S+)\nExpires: (\S+)\n/.exec(r.stdout);
      assert.ok(m, hideShownOnce(r.stdout));
      assert.ok(Date.parse(m[2]!) > Date.now() + 23 * 3600_000);
      assert.match(r.stdout, /POST https:\/\/127\.0\.0\.1:8089\/self\/password/);
      const user = await withUsers(dir, (u) => u.redeemOtp('bob', m[1]!, 'Kw4!nRb8_Ts3$yHe'));
      assert.equal(user.state, 'active');
    });

    it('admin.otpTtlSec sets the OTP lifetime', async () => {
      const r = await cli(dir, ['user', 'reset', 'bob'], { extra: ['--set', 'admin.otpTtlSec=600'] });
      const expires = Date.parse(/Expires: (\S+)/.exec(r.stdout)![1]!);
      assert.ok(expires > Date.now() + 500_000 && expires <= Date.now() + 600_000);
    });

    it('destroy-keys wipes the credentials; remove deletes the user', async () => {
      const d = await cli(dir, ['user', 'destroy-keys', 'bob']);
      assert.equal(d.code, 0, d.stderr);
      assert.equal(await withUsers(dir, (u) => u.ha1For('bob', REALM, 'SHA-256')), undefined);
      assert.equal((await withUsers(dir, (u) => u.show('bob'))).hasPassword, false);
      const rm = await cli(dir, ['user', 'remove', 'bob']);
      assert.equal(rm.code, 0, rm.stderr);
      assert.equal(await withUsers(dir, (u) => u.get('bob')), undefined);
    });

    it('bind-cert stores the normalized fingerprint; a bad one exits 1; a missing one exits 2', async () => {
      const fp = Array.from({ length: 32 }, () => 'AB').join(':');
      const r = await cli(dir, ['user', 'bind-cert', 'bob', '--fingerprint', fp]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `Certificate sha-256 ${'ab'.repeat(32)} bound to 'bob'.\n`);
      assert.equal((await cli(dir, ['user', 'bind-cert', 'bob', '--fingerprint', 'AB:CD'])).code, 1);
      const missing = await cli(dir, ['user', 'bind-cert', 'bob']);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--fingerprint is required/);
    });

    it('registrations: none yet', async () => {
      const r = await cli(dir, ['registrations']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'No registrations.\n');
    });

    it('every action is in the audit log as cli:<OS user> from "local", without the password', async () => {
      await cli(dir, ['user', 'block', 'bob']);
      await cli(dir, ['user', 'add', 'carol', '--password-stdin'], { stdin: STRONG });
      const text = fs.readFileSync(path.join(dir, 'audit.log'), 'utf8');
      const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
      const actor = `cli:${userInfo().username}`;
      assert.deepEqual(lines.map((l) => `${l.action} ${l.actor} ${l.source} ${l.target} ${l.result}`), [
        `user.block ${actor} local bob ok`,
        `user.add ${actor} local carol ok`,
      ]);
      assert.ok(!text.includes(STRONG));
    });
  });

  describe('usage and environment errors', () => {
    it('exit 2 for a missing NAME, an extra argument, a bare group word or an unknown subcommand', async () => {
      const missing = await cli(dir, ['user', 'block']);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /^ciphergate: user block: missing NAME\n[\s\S]*Usage: ciphergate user block NAME/);
      assert.equal((await cli(dir, ['user', 'block', 'a', 'b'])).code, 2);
      const bare = await cli(dir, ['user']);
      assert.equal(bare.code, 2);
      assert.match(bare.stderr, /'user' needs a subcommand: user add, user list/);
      const unknown = await cli(dir, ['admin', 'token', 'frob']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /unknown command 'admin token frob'; known: admin token rotate/);
    });

    it('exit 1 with a hint when there is no database yet', async () => {
      const empty = path.join(dir, 'empty');
      fs.mkdirSync(empty);
      const r = await cli(empty, ['user', 'list']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no accounts database in .*empty; start the gateway once, or add a user/);
      assert.deepEqual(fs.readdirSync(empty), [], 'a read-only command creates nothing');
    });

    it('--help lists the account commands', async () => {
      const io = memoryIo({ cwd: dir });
      assert.equal(await runCli(['--help'], io, defaultCommands()), 0);
      for (const name of ['user add', 'user list', 'user show', 'user block', 'user unblock', 'user reset',
        'user destroy-keys', 'user remove', 'user bind-cert', 'registrations', 'admin token rotate']) {
        assert.match(io.out(), new RegExp(`\\n {2}${name} +\\S`), name);
      }
    });
  });

  describe('admin token rotate', () => {
    it('prints a new token once and revokes the previous one', async () => {
      const first = await cli(dir, ['admin', 'token', 'rotate']);
      assert.equal(first.code, 0, first.stderr);
      const t1 = /^Admin API token \(shown once\): ([A-Za-z0-9_-]{43})\nNo earlier token existed\.\n$/.exec(first.stdout);
      assert.ok(t1, hideShownOnce(first.stdout));
      const second = await cli(dir, ['admin', 'token', 'rotate']);
      assert.match(second.stdout, /Revoked 1 earlier token\(s\)/);
      const { store, masterKey } = await openAccountStore(dir);
      try {
        assert.equal((await store.adminTokens.list()).length, 1);
      } finally {
        masterKey.dispose();
        await store.close();
      }
      assert.ok(!fs.readFileSync(path.join(dir, 'audit.log'), 'utf8').includes(t1[1]!));
    });
  });
});
