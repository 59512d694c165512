/**
 * Calling permissions from the command line: `user add --off-net / --international`,
 * `user set`, and how `user show` / `user list` display them, on a stopped gateway (files) and a
 * running one (admin API: PATCH /api/users/NAME).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { UsageError } from '../../gateway/cli/command';
import { callingScope, permissionsForAdd, permissionsForSet } from '../../gateway/cli/user-permissions';
import { makeDataDir, removeDataDir } from '../store/fixtures';
import { closeApiHarness, openApiHarness, STRONG_PASSWORD, type ApiHarness } from '../admin/http/harness';
import { cli, withUsers } from './users-helpers';

async function permissionsOf(dataDir: string, name: string): Promise<[boolean, boolean] | undefined> {
  const u = await withUsers(dataDir, (users) => users.get(name));
  return u === undefined ? undefined : [u.mayCallOffNet, u.mayCallInternational];
}

describe('calling permissions on the command line', () => {
  describe('the option semantics (gateway/cli/user-permissions.ts)', () => {
    it('--international implies --off-net on add; no flag grants nothing', () => {
      assert.deepEqual(permissionsForAdd({}), {});
      assert.deepEqual(permissionsForAdd({ 'off-net': true }), { mayCallOffNet: true });
      assert.deepEqual(permissionsForAdd({ international: true }), { mayCallOffNet: true, mayCallInternational: true });
    });

    it('set: international on grants off-net, off-net off revokes international, contradictions are usage errors', () => {
      assert.deepEqual(permissionsForSet({ international: 'on' }), { mayCallOffNet: true, mayCallInternational: true });
      assert.deepEqual(permissionsForSet({ 'off-net': 'off' }), { mayCallOffNet: false, mayCallInternational: false });
      assert.deepEqual(permissionsForSet({ international: 'off' }), { mayCallInternational: false });
      assert.deepEqual(permissionsForSet({ 'off-net': 'on', international: 'off' }), { mayCallOffNet: true, mayCallInternational: false });
      assert.throws(() => permissionsForSet({ 'off-net': 'off', international: 'on' }), UsageError);
      assert.throws(() => permissionsForSet({ 'off-net': 'yes' }), /--off-net takes on or off/);
    });

    it('names the scope the dial plan applies (international without off-net is on-net)', () => {
      assert.equal(callingScope({ mayCallOffNet: false, mayCallInternational: false }), 'on-net');
      assert.equal(callingScope({ mayCallOffNet: false, mayCallInternational: true }), 'on-net');
      assert.equal(callingScope({ mayCallOffNet: true, mayCallInternational: false }), 'national');
      assert.equal(callingScope({ mayCallOffNet: true, mayCallInternational: true }), 'international');
    });
  });

  describe('stopped gateway (on the files)', function () {
    this.timeout(60_000); // several CLI processes per test
    let dir: string;
    beforeEach(() => { dir = makeDataDir(); });
    afterEach(() => { removeDataDir(dir); });

    it('user add grants nothing by default, --off-net off-net, --international both', async () => {
      const plain = await cli(dir, ['user', 'add', 'alice', '--password-stdin'], { stdin: STRONG_PASSWORD });
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(plain.stdout, "User 'alice' added (state active).\n");
      const offNet = await cli(dir, ['user', 'add', 'bob', '--off-net', '--password-stdin'], { stdin: STRONG_PASSWORD });
      assert.equal(offNet.code, 0, offNet.stderr);
      assert.equal(offNet.stdout, "User 'bob' added (state active).\nCalls: national.\n");
      const intl = await cli(dir, ['user', 'add', 'carol', '--international', '--password-stdin'], { stdin: STRONG_PASSWORD });
      assert.equal(intl.code, 0, intl.stderr);
      assert.equal(intl.stdout, "User 'carol' added (state active).\nCalls: international.\n");
      assert.deepEqual(await permissionsOf(dir, 'alice'), [false, false]);
      assert.deepEqual(await permissionsOf(dir, 'bob'), [true, false]);
      assert.deepEqual(await permissionsOf(dir, 'carol'), [true, true]);
    });

    it('user show and user list display the permissions', async () => {
      await withUsers(dir, async (u) => {
        await u.add('alice', { password: STRONG_PASSWORD });
        await u.add('bob', { password: STRONG_PASSWORD, mayCallOffNet: true });
        await u.add('carol', { password: STRONG_PASSWORD, mayCallOffNet: true, mayCallInternational: true });
        await u.add('dave', { password: STRONG_PASSWORD, mayCallInternational: true });
      });
      const list = await cli(dir, ['user', 'list']);
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual(list.stdout.split('\n'), [
        'NAME   NUMBER  STATE   CALLS          DISPLAY NAME',
        'alice  -       active  on-net',
        'bob    -       active  national',
        'carol  -       active  international',
        'dave   -       active  on-net',
        '',
      ]);
      const carol = await cli(dir, ['user', 'show', 'carol']);
      assert.match(carol.stdout, /\noff-net calls +allowed\ninternational +allowed\n/);
      const alice = await cli(dir, ['user', 'show', 'alice']);
      assert.match(alice.stdout, /\noff-net calls +not allowed\ninternational +not allowed\n/);
      const dave = await cli(dir, ['user', 'show', 'dave']);
      assert.match(dave.stdout, /\ninternational +allowed \(no effect: off-net calls are not allowed\)\n/);
      const json = JSON.parse((await cli(dir, ['user', 'show', 'bob', '--json'])).stdout) as { user: Record<string, unknown> };
      assert.equal(json.user.mayCallOffNet, true);
      assert.equal(json.user.mayCallInternational, false);
    });

    it('user set turns the permissions on and off, and says what the user may now call', async () => {
      await withUsers(dir, (u) => u.add('bob', { password: STRONG_PASSWORD }));
      const on = await cli(dir, ['user', 'set', 'bob', '--off-net', 'on']);
      assert.equal(on.code, 0, on.stderr);
      assert.match(on.stdout, /^User 'bob' updated\.\n[\s\S]*\noff-net calls +allowed\ninternational +not allowed\ncalls +national\n$/);
      assert.deepEqual(await permissionsOf(dir, 'bob'), [true, false]);

      assert.equal((await cli(dir, ['user', 'set', 'bob', '--international', 'on'])).code, 0);
      assert.deepEqual(await permissionsOf(dir, 'bob'), [true, true]);
      assert.equal((await cli(dir, ['user', 'set', 'bob', '--international', 'off'])).code, 0);
      assert.deepEqual(await permissionsOf(dir, 'bob'), [true, false], '--international off keeps off-net');
      assert.equal((await cli(dir, ['user', 'set', 'bob', '--international', 'on'])).code, 0);
      const off = await cli(dir, ['user', 'set', 'bob', '--off-net', 'off']);
      assert.equal(off.code, 0, off.stderr);
      assert.match(off.stdout, /\ncalls +on-net\n$/);
      assert.deepEqual(await permissionsOf(dir, 'bob'), [false, false], '--off-net off revokes international too');
    });

    it('user set changes and clears the number and display name', async () => {
      await withUsers(dir, (u) => u.add('bob', { password: STRONG_PASSWORD }));
      const set = await cli(dir, ['user', 'set', 'bob', '--number', '+34911234567', '--display', 'Bob B']);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /\nnumber +\+34911234567\ndisplay name +Bob B\n/);
      const cleared = await cli(dir, ['user', 'set', 'bob', '--no-number', '--no-display']);
      assert.equal(cleared.code, 0, cleared.stderr);
      const bob = await withUsers(dir, (u) => u.get('bob'));
      assert.equal(bob?.number, undefined);
      assert.equal(bob?.displayName, undefined);
      const bad = await cli(dir, ['user', 'set', 'bob', '--number', '12345']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /E\.164/);
    });

    it('user set: exit 2 for nothing to change, a bad on/off, or contradicting options; nothing changes', async () => {
      await withUsers(dir, (u) => u.add('bob', { password: STRONG_PASSWORD, number: '+34911234567' }));
      const cases: [string[], RegExp][] = [
        [[], /user set: nothing to change/],
        [['--off-net', 'yes'], /user set: --off-net takes on or off/],
        [['--international'], /user set: option '--international'/],
        [['--off-net', 'off', '--international', 'on'], /--international on needs off-net calls/],
        [['--number', '+34911234568', '--no-number'], /--number and --no-number contradict each other/],
      ];
      for (const [options, message] of cases) {
        const r = await cli(dir, ['user', 'set', 'bob', ...options]);
        assert.equal(r.code, 2, options.join(' '));
        assert.match(r.stderr, message);
        assert.match(r.stderr, /Usage: ciphergate user set NAME/);
      }
      const bob = await withUsers(dir, (u) => u.get('bob'));
      assert.equal(bob?.number, '+34911234567');
      assert.equal(bob?.mayCallOffNet, false);
    });

    it('user set on an unknown user: exit 1 with the usual hint', async () => {
      await withUsers(dir, (u) => u.add('bob', { password: STRONG_PASSWORD }));
      const r = await cli(dir, ['user', 'set', 'zed', '--off-net', 'on']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, "ciphergate: user 'zed' does not exist; list users with `ciphergate user list`\n");
    });

    it('audits user set as user.update by cli:<OS user> from local', async () => {
      await withUsers(dir, (u) => u.add('bob', { password: STRONG_PASSWORD }));
      assert.equal((await cli(dir, ['user', 'set', 'bob', '--international', 'on'])).code, 0);
      const lines = fs.readFileSync(path.join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const update = lines.find((l) => l.action === 'user.update');
      assert.ok(update, 'a user.update entry');
      assert.equal(update.actor, `cli:${userInfo().username}`);
      assert.equal(update.source, 'local');
      assert.equal(update.target, 'bob');
      assert.equal(update.result, 'ok');
      assert.deepEqual(update.detail, { changed: 'mayCallOffNet,mayCallInternational', mayCallOffNet: true, mayCallInternational: true });
    });

    it('--help documents the options, and that --international implies --off-net', async () => {
      const add = await cli(dir, ['user', 'add', '--help']);
      assert.match(add.stdout, /--off-net +Allow calls to numbers outside the gateway/);
      assert.match(add.stdout, /--international +Also allow numbers in another country code \(implies --off-net\)/);
      const set = await cli(dir, ['user', 'set', '--help']);
      assert.match(set.stdout, /^Usage: ciphergate user set NAME \[--number \+E164\|--no-number\]/);
      assert.match(set.stdout, /--off-net on\|off .*off also revokes --international/);
      const all = await cli(dir, ['--help']);
      assert.match(all.stdout, /\n {2}user set +Change a user's number, display name or calling permissions/);
    });
  });

  describe('running gateway (admin API, PATCH /api/users/NAME)', () => {
    let h: ApiHarness | undefined;
    beforeEach(async () => {
      h = await openApiHarness({ cliEndpoint: true });
      await h.users.add('bob', { password: STRONG_PASSWORD });
    });
    afterEach(async () => { await closeApiHarness(h); h = undefined; });

    it('user add --international and user set reach the running gateway, audited from the loopback', async () => {
      const add = await cli(h!.dataDir, ['user', 'add', 'carol', '--international', '--password-stdin'], { stdin: STRONG_PASSWORD });
      assert.equal(add.code, 0, add.stderr);
      assert.match(add.stdout, /\nCalls: international\.\n$/);
      const carol = await h!.users.get('carol');
      assert.deepEqual([carol?.mayCallOffNet, carol?.mayCallInternational], [true, true]);

      const set = await cli(h!.dataDir, ['user', 'set', 'bob', '--off-net', 'on', '--number', '+34911234567']);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /\ncalls +national\n$/);
      const bob = await h!.users.get('bob');
      assert.equal(bob?.mayCallOffNet, true);
      assert.equal(bob?.number, '+34911234567');

      const taken = await cli(h!.dataDir, ['user', 'set', 'carol', '--number', '+34911234567']);
      assert.equal(taken.code, 1);
      assert.match(taken.stderr, /^ciphergate: .*\+34911234567/);

      await h!.audit.close();
      const lines = fs.readFileSync(path.join(h!.dataDir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const update = lines.find((l) => l.action === 'user.update' && l.result === 'ok');
      assert.equal(update?.actor, `cli:${userInfo().username}`);
      assert.equal(update?.source, '127.0.0.1');
      assert.deepEqual(update?.detail, { changed: 'number,mayCallOffNet', mayCallOffNet: true, mayCallInternational: false });
    });
  });
});
