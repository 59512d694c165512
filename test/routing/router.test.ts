/**
 * The routing table: what each dialled string becomes, for callers with and without rights
 * (RFC 3261 §21.4 answers: 403, 404, 480, 484).
 */
import assert from 'node:assert/strict';
import { REASONS, Router } from '../../gateway/routing/router';
import type { RouteDecision, RoutingConfig, TrunkRoute, UserRoute } from '../../gateway/routing/types';
import { RoutingConfigError } from '../../gateway/routing/types';
import { parseUri } from '../../gateway/sip/message/uri';
import type { Trunk } from '../../gateway/trunk/types';
import { binding, Directory, DOMAIN, trunk, user } from './fixtures';

const PLAN: RoutingConfig = {
  countryCode: '33',
  nationalPrefix: '0',
  internationalPrefix: '00',
  minDigits: 8,
  shortCodes: [
    { code: '112', trunks: ['emergency'], emergency: true },
    { code: '3949', trunks: ['pbx'], number: '+333949' },
  ],
  rules: [
    { name: 'fr-mobile', pattern: '+33[67]XXXXXXXX', trunks: ['gsm', 'pbx'] },
    { name: 'france', prefix: '+33', trunks: ['pbx'] },
    { name: 'world', prefix: '+', trunks: ['pbx', 'backup'] },
  ],
};

function setup(config: RoutingConfig = PLAN): { router: Router; dir: Directory; trunks: Map<string, Trunk> } {
  const trunks = new Map(['pbx', 'gsm', 'backup', 'emergency'].map((n) => [n, trunk(n)]));
  const dir = new Directory()
    .add(user('alice', { number: '+33140000001', mayCallOffNet: true }), binding('alice', 'sip:alice@127.0.0.1:40000;transport=tls'))
    .add(user('bob', { number: '+33140000002' }), binding('bob', 'sip:bob@127.0.0.1:40001;transport=tls'), binding('bob', 'sip:bob@127.0.0.1:40002;transport=tls'))
    .add(user('carol', { number: '+33140000003', mayCallOffNet: true, mayCallInternational: true }), binding('carol', 'sip:c@127.0.0.1:1', false))
    .add(user('1001', { number: '+33140001001' }), binding('1001', 'sip:1001@127.0.0.1:40003'))
    .add(user('eve', { state: 'blocked', number: '+33140000009' }));
  const router = new Router({ config, users: dir, registrar: dir, trunks: { get: (n) => trunks.get(n) } });
  return { router, dir, trunks };
}

async function route(router: Router, caller: ReturnType<typeof user> | undefined, uri: string, dir: Directory): Promise<RouteDecision> {
  return router.route({ caller: caller ?? (dir.users.get('alice') as ReturnType<typeof user>), requestUri: parseUri(uri) });
}

function asTrunk(d: RouteDecision): TrunkRoute {
  assert.equal(d.kind, 'trunk', `expected a trunk route, got ${JSON.stringify(d)}`);
  return d as TrunkRoute;
}

function asUser(d: RouteDecision): UserRoute {
  assert.equal(d.kind, 'user', `expected a user route, got ${JSON.stringify(d)}`);
  return d as UserRoute;
}

describe('Routing: the virtual operator dial plan', () => {
  describe('on-net (RFC 3261 §16.6 targets from the location service)', () => {
    it('routes a user name to every reachable binding of that user', async () => {
      const { router, dir } = setup();
      const d = asUser(await route(router, undefined, `sip:bob@${DOMAIN}`, dir));
      assert.equal(d.user.name, 'bob');
      assert.equal(d.aor, `sip:bob@${DOMAIN}`);
      assert.equal(d.bindings.length, 2);
    });

    it('routes an E.164 number held by a user to that user, in any dialled form', async () => {
      const { router, dir } = setup();
      for (const uri of [
        `sip:+33140000002@${DOMAIN};user=phone`,
        `sip:0140000002@${DOMAIN}`,
        `sip:01-40-00-00-02@${DOMAIN}`,
        `sip:0033140000002@${DOMAIN}`,
        'tel:+33-1-40-00-00-02',
      ]) {
        assert.equal(asUser(await route(router, undefined, uri, dir)).user.name, 'bob', uri);
      }
    });

    it('routes a numeric account name before treating it as a number', async () => {
      const { router, dir } = setup();
      assert.equal(asUser(await route(router, undefined, `sip:1001@${DOMAIN}`, dir)).user.name, '1001');
    });

    it('lets a user without off-net rights call on-net numbers', async () => {
      const { router, dir } = setup();
      const bob = dir.users.get('bob');
      assert.equal(asUser(await route(router, bob, `sip:0140000001@${DOMAIN}`, dir)).user.name, 'alice');
    });

    it('answers 480 when the callee has no reachable binding', async () => {
      const { router, dir } = setup();
      assert.deepEqual(await route(router, undefined, `sip:carol@${DOMAIN}`, dir), { kind: 'reject', status: 480, reason: REASONS.offline });
    });

    it('answers 480, not 403, for a blocked callee (the block is not disclosed)', async () => {
      const { router, dir } = setup();
      assert.deepEqual(await route(router, undefined, `sip:eve@${DOMAIN}`, dir), { kind: 'reject', status: 480, reason: REASONS.offline });
    });

    it('answers 404 for an unknown name', async () => {
      const { router, dir } = setup();
      assert.deepEqual(await route(router, undefined, `sip:mallory@${DOMAIN}`, dir), { kind: 'reject', status: 404, reason: REASONS.unknown });
    });

    it('answers 404 for a Request-URI without a user part or of another scheme', async () => {
      const { router, dir } = setup();
      assert.equal((await route(router, undefined, `sip:${DOMAIN}`, dir)).kind, 'reject');
      assert.equal((await route(router, undefined, 'urn:service:sos', dir)).kind, 'reject');
    });
  });

  describe('off-net: E.164 normalisation and ordered rules', () => {
    it('normalises the national prefix to +<country code> and picks the first matching rule', async () => {
      const { router, dir } = setup();
      const d = asTrunk(await route(router, undefined, `sip:0612345678@${DOMAIN}`, dir));
      assert.equal(d.number, '+33612345678');
      assert.equal(d.dialled, '0612345678');
      assert.equal(d.rule, 'fr-mobile');
      assert.deepEqual(d.trunks.map((t) => t.name), ['gsm', 'pbx']);
      assert.equal(d.international, false);
    });

    it('falls through to a later rule when an earlier pattern does not match', async () => {
      const { router, dir } = setup();
      const d = asTrunk(await route(router, undefined, `sip:0140000099@${DOMAIN}`, dir));
      assert.equal(d.rule, 'france');
      assert.deepEqual(d.trunks.map((t) => t.name), ['pbx']);
    });

    it('turns the international prefix 00 into +', async () => {
      const { router, dir } = setup();
      const carol = dir.users.get('carol');
      const d = asTrunk(await route(router, carol, `sip:004930123456@${DOMAIN}`, dir));
      assert.equal(d.number, '+4930123456');
      assert.equal(d.rule, 'world');
      assert.equal(d.international, true);
    });

    it('routes short codes exactly, with their configured outgoing number', async () => {
      const { router, dir } = setup();
      const d = asTrunk(await route(router, undefined, `sip:3949@${DOMAIN}`, dir));
      assert.equal(d.number, '+333949');
      assert.equal(d.emergency, false);
      assert.deepEqual(d.trunks.map((t) => t.name), ['pbx']);
    });

    it('answers 484 for a number too short to be complete', async () => {
      const { router, dir } = setup();
      assert.deepEqual(await route(router, undefined, `sip:01234@${DOMAIN}`, dir), { kind: 'reject', status: 484, reason: REASONS.incomplete });
    });

    it('answers 404 when no rule matches', async () => {
      const { router, dir } = setup({ ...PLAN, rules: [{ name: 'france', prefix: '+33', trunks: ['pbx'] }] });
      const carol = dir.users.get('carol');
      assert.deepEqual(await route(router, carol, `sip:+4930123456@${DOMAIN}`, dir), { kind: 'reject', status: 404, reason: REASONS.noRoute });
    });

    it('answers 404 for a number with more than 15 digits or with * outside a short code', async () => {
      const { router, dir } = setup();
      assert.equal((await route(router, undefined, `sip:+3314000000000000@${DOMAIN}`, dir)).kind, 'reject');
      assert.deepEqual(await route(router, undefined, `sip:*21*0612345678%23@${DOMAIN}`, dir), { kind: 'reject', status: 404, reason: REASONS.unknown });
    });
  });

  describe('per-user permissions', () => {
    it('answers 403 to an off-net call by a user without mayCallOffNet', async () => {
      const { router, dir } = setup();
      const bob = dir.users.get('bob');
      assert.deepEqual(await route(router, bob, `sip:0612345678@${DOMAIN}`, dir), { kind: 'reject', status: 403, reason: REASONS.offNetForbidden });
      assert.deepEqual(await route(router, bob, `sip:3949@${DOMAIN}`, dir), { kind: 'reject', status: 403, reason: REASONS.offNetForbidden });
    });

    it('answers 403 to an international call by a user without mayCallInternational', async () => {
      const { router, dir } = setup();
      assert.deepEqual(await route(router, undefined, `sip:+4930123456@${DOMAIN}`, dir), {
        kind: 'reject',
        status: 403,
        reason: REASONS.internationalForbidden,
      });
    });

    it('lets every active user call an emergency short code, whatever their rights', async () => {
      const { router, dir } = setup();
      const bob = dir.users.get('bob');
      const d = asTrunk(await route(router, bob, `sip:112@${DOMAIN}`, dir));
      assert.equal(d.emergency, true);
      assert.equal(d.number, '112');
      assert.deepEqual(d.trunks.map((t) => t.name), ['emergency']);
    });

    it('routes a short code before an account of the same name (an account cannot shadow 112)', async () => {
      const { router, dir } = setup();
      dir.add(user('112'), binding('112', 'sip:112@127.0.0.1:1'));
      assert.equal((await route(router, undefined, `sip:112@${DOMAIN}`, dir)).kind, 'trunk');
    });

    it('answers 403 to any call by a caller that is not active', async () => {
      const { router, dir } = setup();
      const eve = dir.users.get('eve');
      assert.deepEqual(await route(router, eve, `sip:bob@${DOMAIN}`, dir), { kind: 'reject', status: 403, reason: REASONS.callerNotAllowed });
    });
  });

  describe('inbound from a trunk: the DID maps to a user', () => {
    it('maps an E.164 DID, a national DID and a digits-only DID to the user holding the number', async () => {
      const { router, trunks } = setup();
      const pbx = trunks.get('pbx') as Trunk;
      for (const uri of ['sip:+33140000002@192.0.2.2', 'sip:0140000002@192.0.2.2', 'tel:+33140000002']) {
        const d = await router.routeInbound(pbx, parseUri(uri));
        assert.equal(d.kind, 'user', uri);
        assert.equal((d as UserRoute).user.name, 'bob');
      }
      const digits = trunk('digits', 'up', 'digits');
      const d = await router.routeInbound(digits, parseUri('sip:33140000002@192.0.2.2'));
      assert.equal((d as UserRoute).user.name, 'bob');
    });

    it('answers 404 for a DID no user holds and 480 for an offline user', async () => {
      const { router, trunks } = setup();
      const pbx = trunks.get('pbx') as Trunk;
      assert.deepEqual(await router.routeInbound(pbx, parseUri('sip:+33199999999@192.0.2.2')), { kind: 'reject', status: 404, reason: REASONS.unknown });
      assert.deepEqual(await router.routeInbound(pbx, parseUri('sip:+33140000003@192.0.2.2')), { kind: 'reject', status: 480, reason: REASONS.offline });
    });

    it('never routes an inbound call back out to a trunk', async () => {
      const { router, trunks } = setup();
      const d = await router.routeInbound(trunks.get('pbx') as Trunk, parseUri('sip:+4930123456@192.0.2.2'));
      assert.equal(d.kind, 'reject');
    });
  });

  describe('configuration checks', () => {
    it('refuses a rule naming an unknown trunk', () => {
      assert.throws(() => setup({ ...PLAN, rules: [{ name: 'x', prefix: '+', trunks: ['nope'] }] }), RoutingConfigError);
    });

    it('refuses a prefix or pattern that cannot match an E.164 number', () => {
      assert.throws(() => setup({ ...PLAN, rules: [{ name: 'x', prefix: '33', trunks: ['pbx'] }] }), /prefix must be \+/);
      assert.throws(() => setup({ ...PLAN, rules: [{ name: 'x', pattern: '33X.', trunks: ['pbx'] }] }), /must start with \+/);
    });

    it('refuses duplicate short codes and rule names, and a rule with both prefix and pattern', () => {
      assert.throws(() => setup({ ...PLAN, shortCodes: [...PLAN.shortCodes, { code: '112', trunks: ['pbx'] }] }), /listed twice/);
      assert.throws(() => setup({ ...PLAN, rules: [...PLAN.rules, { name: 'world', prefix: '+1', trunks: ['pbx'] }] }), /used twice/);
      assert.throws(() => setup({ ...PLAN, rules: [{ name: 'x', prefix: '+', pattern: '+X.', trunks: ['pbx'] }] }), /exactly one/);
    });

    it('refuses a country code starting with 0 and equal national and international prefixes', () => {
      assert.throws(() => setup({ ...PLAN, countryCode: '033' }), /countryCode/);
      assert.throws(() => setup({ ...PLAN, nationalPrefix: '00' }), /must differ/);
    });
  });
});
