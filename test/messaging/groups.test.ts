/**
 * Groups: admin-managed, sip:NAME@domain, fan-out to every member but the sender with each
 * member's delivery tracked on its own; non-members refused; confidential groups.
 */
import assert from 'node:assert/strict';
import { UnknownUserError } from '../../gateway/admin/errors';
import { GroupExistsError, GroupFullError, GroupNameTakenError, InvalidGroupNameError, UnknownGroupError } from '../../gateway/messaging';
import { DOMAIN, openMessagingHarness, until, type MessagingHarness } from './harness';

describe('Messaging: groups', function () {
  this.timeout(30_000);
  let h: MessagingHarness;

  beforeEach(async () => {
    h = await openMessagingHarness({ maxGroupMembers: 4 });
    h.messaging.groups.create('team', false, h.clock.now);
    for (const u of ['alice', 'bob', 'carol', 'dave']) h.messaging.groups.addMember('team', u, h.clock.now, 4);
  });
  afterEach(async () => {
    await h?.close();
  });

  it('MUST fan out to every member except the sender, one of them offline (202), each tracked on its own', async () => {
    const alice = await h.online('alice');
    const bob = await h.online('bob');
    const carol = await h.online('carol');
    const res = await alice.send('team', 'hello team');
    assert.equal(res.status, 202, 'dave is offline: stored for him');
    await bob.waitReceived(1);
    await carol.waitReceived(1);
    assert.equal(bob.received[0].to, `<sip:team@${DOMAIN}>`, 'To is the group');
    assert.match(bob.received[0].from, /^<sip:alice@/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(alice.received.length, 0, 'the sender does not get its own message');
    assert.equal(h.messaging.storedCount('dave'), 1);
    assert.equal(h.messaging.storedCount(), 1, 'members who got it online have nothing stored');

    const dave = await h.online('dave');
    await dave.waitReceived(1);
    assert.equal(dave.received[0].body, 'hello team');
    assert.equal(dave.received[0].to, `<sip:team@${DOMAIN}>`);
    await until('store empty', () => h.messaging.storedCount() === 0);
  });

  it('answers 200 when every other member is online', async () => {
    await h.online('bob');
    await h.online('carol');
    await h.online('dave');
    assert.equal((await (await h.ua('alice')).send('team', 'all here')).status, 200);
  });

  it('MUST refuse a non-member with 403', async () => {
    const res = await (await h.ua('erin')).send('team', 'let me in');
    assert.equal(res.status, 403);
    assert.equal(res.reason, 'Forbidden - Not a Group Member');
    assert.equal(h.messaging.storedCount(), 0);
  });

  it('a confidential group stores nothing: online members get it, offline ones never', async () => {
    h.messaging.groups.setConfidential('team', true);
    const bob = await h.online('bob');
    assert.equal((await (await h.ua('alice')).send('team', 'confidential group')).status, 200);
    await bob.waitReceived(1);
    assert.equal(h.messaging.storedCount(), 0);
    bob.close();
    await until('bob unreachable', () => h.registrar.locate(`sip:bob@${DOMAIN}`).every((b) => !b.reachable));
    assert.equal((await (await h.ua('alice')).send('team', 'nobody online')).status, 480);
  });

  describe('administration (GroupStore)', () => {
    it('refuses a duplicate, a user\'s name, an invalid name', () => {
      assert.throws(() => h.messaging.groups.create('team', false, 0), GroupExistsError);
      assert.throws(() => h.messaging.groups.create('bob', false, 0), GroupNameTakenError);
      assert.throws(() => h.messaging.groups.create('Team!', false, 0), InvalidGroupNameError);
    });

    it('adds members idempotently, refuses unknown users and groups, bounds the size', () => {
      const g = h.messaging.groups.addMember('team', 'bob', 0, 4);
      assert.deepEqual(g.members, ['alice', 'bob', 'carol', 'dave']);
      assert.throws(() => h.messaging.groups.addMember('team', 'nobody', 0, 4), UnknownUserError);
      assert.throws(() => h.messaging.groups.addMember('ghosts', 'bob', 0, 4), UnknownGroupError);
      assert.throws(() => h.messaging.groups.addMember('team', 'erin', 0, 4), GroupFullError);
      assert.deepEqual(h.messaging.groups.removeMember('team', 'dave').members, ['alice', 'bob', 'carol']);
      assert.throws(() => h.messaging.groups.removeMember('team', 'dave'), UnknownUserError);
    });

    it('a removed account leaves every group (ON DELETE CASCADE)', async () => {
      await h.users.remove('dave');
      assert.deepEqual(h.messaging.groups.get('team')?.members, ['alice', 'bob', 'carol']);
    });
  });
});
