/**
 * Messaging wired into the real gateway (gateway/server.ts): the 64 KiB default size limit, the
 * admin API's group and policy endpoints, the `ciphergate group …` commands on a running and on
 * a stopped gateway, and destroy-keys erasing stored messages through the API.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AdminClient, readCliEndpoint } from '../../gateway/admin/http';
import { startTestGateway, type TestGateway } from '../helpers/in-process-gateway';
import { provision } from '../integration/peers/gateway';
import { cli } from '../cli/users-helpers';
import { MessagingUa } from './ua';

const USERS: Record<string, string> = { alice: 'Tr0ub4dor&3x!', bob: 'correct-Horse-7-battery', carol: 'Sings-42-Loudly-Kx' };
const DOMAIN = 'localhost';

describe('Messaging in the gateway: limits, admin API, CLI', function () {
  this.timeout(60_000);

  describe('running gateway', () => {
    let t: TestGateway;
    let dataDir: string;
    const uas: MessagingUa[] = [];

    before(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-msg-gw-'));
      await provision(dataDir, DOMAIN, USERS);
      // The transport must carry a message larger than the body limit for the 413 to be seen.
      t = await startTestGateway([`sip.domain=${DOMAIN}`, 'sip.limits.maxMessageSize=131072'], dataDir);
    });
    after(async () => {
      for (const u of uas) u.close();
      await t?.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    async function ua(user: string): Promise<MessagingUa> {
      const u = await MessagingUa.connect({ port: t.port('TLS'), ca: t.tls.cert, user, password: USERS[user]!, domain: DOMAIN, realm: DOMAIN });
      uas.push(u);
      return u;
    }

    function api(): AdminClient {
      const ep = readCliEndpoint(dataDir);
      assert.ok(ep !== undefined);
      return new AdminClient({ url: ep.url, token: ep.token, fingerprint: ep.fingerprint });
    }

    it('MUST answer 413 above 64 KiB by default and accept exactly 64 KiB', async () => {
      const alice = await ua('alice');
      assert.equal((await alice.send('bob', Buffer.alloc(64 * 1024 + 1, 0x62))).status, 413);
      assert.equal((await alice.send('bob', Buffer.alloc(64 * 1024, 0x62))).status, 202);
      assert.equal(t.gw.messaging.storedCount('bob'), 1);
    });

    it('destroy-keys through the CLI erases the user\'s stored messages at once', async () => {
      assert.ok(t.gw.messaging.storedCount('bob') >= 1);
      const r = await cli(dataDir, ['user', 'destroy-keys', 'bob']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(t.gw.messaging.storedCount('bob'), 0);
      const audit = fs.readFileSync(path.join(dataDir, 'audit.log'), 'utf8');
      assert.match(audit, /"action":"messages.erase"[^\n]*"target":"bob"[^\n]*"count":1/);
    });

    it('group add / member add / list through the running gateway\'s admin API; the group works at once', async () => {
      assert.equal((await cli(dataDir, ['group', 'add', 'team'])).code, 0);
      for (const u of ['alice', 'carol']) assert.equal((await cli(dataDir, ['group', 'member', 'add', 'team', u])).code, 0);
      const list = await cli(dataDir, ['group', 'list', '--json']);
      const groups = (JSON.parse(list.stdout) as { groups: Array<{ name: string; uri: string; confidential: boolean; createdAt: string; members: string[] }> }).groups;
      assert.deepEqual(groups, [{ name: 'team', uri: `sip:team@${DOMAIN}`, confidential: false, createdAt: groups[0]!.createdAt, members: ['alice', 'carol'] }]);
      assert.deepEqual(t.gw.messaging.groups.get('team')?.members, ['alice', 'carol']);
      const carol = await ua('carol');
      assert.equal(await carol.register(), 200);
      assert.equal((await (await ua('alice')).send('team', 'team news')).status, 200);
      await carol.waitReceived(1);
      assert.equal(carol.received[0]!.to, `<sip:team@${DOMAIN}>`);
    });

    it('the API answers 409 for a user\'s name, 404 for an unknown group, and sets a user\'s confidential policy', async () => {
      const c = api();
      assert.equal((await c.request('POST', '/api/groups', { name: 'alice' })).status, 409);
      assert.equal((await c.request('GET', '/api/groups/ghosts')).status, 404);
      assert.equal((await c.request('POST', '/api/groups/team/members', { user: 'nobody' })).status, 404);
      const policy = await c.request('POST', '/api/users/carol/messaging', { confidential: true });
      assert.equal(policy.status, 200);
      assert.deepEqual(policy.body, { user: 'carol', confidential: true });
      uas.find((u) => u.o.user === 'carol')?.close();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await (await ua('alice')).send('carol', 'never stored')).status, 480);
      assert.equal((await c.request('DELETE', '/api/groups/team')).status, 204);
      assert.equal(t.gw.messaging.groups.get('team'), undefined);
    });
  });

  describe('stopped gateway (the CLI on the files)', () => {
    let dataDir: string;
    before(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-msg-cli-'));
      await provision(dataDir, DOMAIN, USERS);
    });
    after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

    it('creates, fills, lists and removes groups, audited; errors say what to do', async () => {
      const add = await cli(dataDir, ['group', 'add', 'ops', '--confidential', '--set', `sip.domain=${DOMAIN}`]);
      assert.equal(add.code, 0, add.stderr);
      assert.match(add.stdout, /^Group 'ops' created: sip:ops@localhost \(confidential\)\n/);
      assert.equal((await cli(dataDir, ['group', 'member', 'add', 'ops', 'bob'])).code, 0);
      const list = await cli(dataDir, ['group', 'list']);
      assert.match(list.stdout, /^NAME +CONFIDENTIAL +MEMBERS\nops +yes +bob\n$/);
      const taken = await cli(dataDir, ['group', 'add', 'bob']);
      assert.equal(taken.code, 1);
      assert.match(taken.stderr, /"bob" is a user name/);
      const unknown = await cli(dataDir, ['group', 'member', 'add', 'ops', 'zed']);
      assert.equal(unknown.code, 1);
      assert.equal((await cli(dataDir, ['group', 'member', 'remove', 'ops', 'bob'])).code, 0);
      assert.equal((await cli(dataDir, ['group', 'remove', 'ops'])).code, 0);
      assert.match((await cli(dataDir, ['group', 'list'])).stdout, /^No groups\./);
      const audit = fs.readFileSync(path.join(dataDir, 'audit.log'), 'utf8');
      for (const action of ['group.add-confidential', 'group.member-add', 'group.member-remove', 'group.remove']) {
        assert.match(audit, new RegExp(`"action":"${action}"`), action);
      }
    });
  });
});
