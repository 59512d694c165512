/**
 * The next hop of a request inside a trunk dialog (gateway/b2bua/next-hop.ts): RFC 3261 §8.1.2
 * (first route, else the remote target), §12.2.1.1 (strict routes), RFC 3263 §4 (transport from
 * the URI, host resolved), and what the leg's configured hop keeps deciding (transport, family, SNI).
 */
import assert from 'node:assert/strict';
import { parseUri } from '../../gateway/sip/message/grammar';
import type { NameAddr } from '../../gateway/sip/message/types';
import type { SendTarget } from '../../gateway/sip/transport/types';
import { NextHopRefusedError, NextHopRouter, nextHopUri, planNextHop, type DialogRoute, type HostLookup } from '../../gateway/b2bua/next-hop';

const LOCAL4 = { address: '192.0.2.10', port: 5060 };
const UDP_TRUNK: SendTarget = { protocol: 'UDP', remote: { address: '192.0.2.1', port: 5060 }, local: { ...LOCAL4 } };
const TLS_TRUNK: SendTarget = { protocol: 'TLS', remote: { address: '192.0.2.1', port: 5061 }, serverName: 'pbx.example.com' };

function route(uri: string): NameAddr {
  return { uri: parseUri(uri), params: new Map() };
}

function dialog(target: string, routes: string[] = []): DialogRoute {
  return { remoteTarget: parseUri(target), routeSet: routes.map(route) };
}

function targetOf(d: DialogRoute, configured = UDP_TRUNK, local = LOCAL4): SendTarget {
  const plan = planNextHop(d, configured, local);
  if (plan.kind === 'lookup') throw new Error('unexpected lookup');
  return plan.kind === 'target' ? plan.target : configured;
}

describe('Next hop of a request inside a trunk dialog', () => {
  describe('RFC 3261 §8.1.2 / §12.2.1.1: which URI', () => {
    it('MUST use the remote target (the Contact) when the route set is empty', () => {
      const t = targetOf(dialog('sip:pbx@198.51.100.7:5080'));
      assert.deepEqual(t.remote, { address: '198.51.100.7', port: 5080 });
      assert.equal(t.protocol, 'UDP');
      assert.deepEqual(t.local, LOCAL4, 'UDP leaves from the socket our Via names (RFC 3581)');
    });

    it('MUST use the first route when it is loose (lr)', () => {
      const d = dialog('sip:pbx@198.51.100.7:5080', ['sip:198.51.100.1:5070;lr', 'sip:198.51.100.2;lr']);
      assert.equal(nextHopUri(d), d.routeSet[0]!.uri);
      assert.deepEqual(targetOf(d).remote, { address: '198.51.100.1', port: 5070 });
    });

    it('MUST use the strict first route (the Request-URI §12.2.1.1 builds), default port 5060', () => {
      const d = dialog('sip:pbx@198.51.100.7:5080', ['sip:198.51.100.3']);
      assert.deepEqual(targetOf(d).remote, { address: '198.51.100.3', port: 5060 });
    });

    it('MUST ignore maddr (a peer must not aim our traffic)', () => {
      assert.deepEqual(targetOf(dialog('sip:pbx@198.51.100.7;maddr=203.0.113.66')).remote, { address: '198.51.100.7', port: 5060 });
    });
  });

  describe('RFC 3261 §26.2.2 / RFC 5630: SIPS never in clear', () => {
    it('MUST refuse a sips: Contact on a UDP leg', () => {
      assert.throws(() => planNextHop(dialog('sips:pbx@198.51.100.7'), UDP_TRUNK, LOCAL4), NextHopRefusedError);
    });

    it('MUST refuse transport=tls on a UDP leg, and a sips: target behind a sip: loose route', () => {
      assert.throws(() => planNextHop(dialog('sip:pbx@198.51.100.7;transport=tls'), UDP_TRUNK, LOCAL4), NextHopRefusedError);
      assert.throws(() => planNextHop(dialog('sips:pbx@198.51.100.7', ['sip:198.51.100.1;lr']), UDP_TRUNK, LOCAL4), NextHopRefusedError);
    });

    it('MUST reach a sips: Contact of a TLS leg over TLS, checked against the trunk name', () => {
      const t = targetOf(dialog('sips:pbx@198.51.100.7'), TLS_TRUNK);
      assert.deepEqual(t, { protocol: 'TLS', remote: { address: '198.51.100.7', port: 5061 }, serverName: 'pbx.example.com' });
    });

    it('MUST NOT downgrade a TLS leg whose Contact names UDP: the configured TLS hop is used', () => {
      const plan = planNextHop(dialog('sip:pbx@198.51.100.7:5060'), TLS_TRUNK, LOCAL4);
      assert.equal(plan.kind, 'fallback');
      assert.equal(targetOf(dialog('sip:pbx@198.51.100.7:5060'), TLS_TRUNK), TLS_TRUNK);
    });
  });

  describe('what the configured hop keeps deciding', () => {
    it('falls back on another clear-text transport (our Via names the leg\'s)', () => {
      assert.equal(planNextHop(dialog('sip:pbx@198.51.100.7;transport=tcp'), UDP_TRUNK, LOCAL4).kind, 'fallback');
    });

    it('falls back on another address family, an unspecified address, a tel: URI', () => {
      assert.equal(planNextHop(dialog('sip:pbx@[2001:db8::7]'), UDP_TRUNK, LOCAL4).kind, 'fallback');
      assert.equal(planNextHop(dialog('sip:pbx@0.0.0.0'), UDP_TRUNK, LOCAL4).kind, 'fallback');
      assert.equal(planNextHop(dialog('tel:+34911000001'), UDP_TRUNK, LOCAL4).kind, 'fallback');
    });

    it('reaches an IPv6 Contact from an IPv6 leg', () => {
      const local6 = { address: '2001:db8::10', port: 5060 };
      const trunk6: SendTarget = { protocol: 'UDP', remote: { address: '2001:db8::1', port: 5060 }, local: local6 };
      assert.deepEqual(targetOf(dialog('sip:pbx@[2001:db8::7]:5090'), trunk6, local6).remote, { address: '2001:db8::7', port: 5090 });
    });
  });

  describe('RFC 3263 §4 without SRV: a host name is looked up (NextHopRouter)', () => {
    it('resolves a host name in the leg\'s family, once per URI, and keeps the order of requests', async () => {
      const asked: Array<[string, number]> = [];
      let release: (a: string) => void = () => undefined;
      const lookup: HostLookup = (host, family) => {
        asked.push([host, family]);
        return new Promise((resolve) => (release = resolve));
      };
      const router = new NextHopRouter({ lookup });
      const d = dialog('sip:pbx@pbx-lan.example.net:5080');
      const first = router.route(d, UDP_TRUNK, LOCAL4);
      const second = router.route(d, UDP_TRUNK, LOCAL4);
      assert.ok(first instanceof Promise && second instanceof Promise);
      const order: string[] = [];
      void (first as Promise<SendTarget>).then(() => order.push('ack'));
      void (second as Promise<SendTarget>).then(() => order.push('bye'));
      release('198.51.100.9');
      const t = await first;
      await second;
      assert.deepEqual(t.remote, { address: '198.51.100.9', port: 5080 });
      assert.deepEqual(order, ['ack', 'bye']);
      assert.deepEqual(asked, [['pbx-lan.example.net', 4]]);
      assert.deepEqual((router.route(d, UDP_TRUNK, LOCAL4) as SendTarget).remote, t.remote, 'later requests go at once');
    });

    it('looks up again after a target refresh changed the Contact', async () => {
      let n = 0;
      const router = new NextHopRouter({ lookup: () => Promise.resolve(`198.51.100.${++n}`) });
      const t1 = await router.route(dialog('sip:pbx@a.example.net'), UDP_TRUNK, LOCAL4);
      const t2 = await router.route(dialog('sip:pbx@b.example.net'), UDP_TRUNK, LOCAL4);
      assert.equal(t1.remote.address, '198.51.100.1');
      assert.equal(t2.remote.address, '198.51.100.2');
    });

    it('uses the configured hop when the lookup fails, times out or gives another family', async () => {
      const failing = new NextHopRouter({ lookup: () => Promise.reject(new Error('ENOTFOUND')) });
      assert.equal(await failing.route(dialog('sip:pbx@nowhere.invalid'), UDP_TRUNK, LOCAL4), UDP_TRUNK);
      const slow = new NextHopRouter({ lookup: () => new Promise(() => undefined), lookupTimeoutMs: 20 });
      assert.equal(await slow.route(dialog('sip:pbx@slow.example.net'), UDP_TRUNK, LOCAL4), UDP_TRUNK);
      const v6 = new NextHopRouter({ lookup: () => Promise.resolve('2001:db8::9') });
      assert.equal(await v6.route(dialog('sip:pbx@v6.example.net'), UDP_TRUNK, LOCAL4), UDP_TRUNK);
    });

    it('MUST still refuse a sips: host name on a UDP leg without looking it up', () => {
      let asked = 0;
      const router = new NextHopRouter({ lookup: () => Promise.resolve(String(++asked)) });
      assert.throws(() => router.route(dialog('sips:pbx@pbx.example.net'), UDP_TRUNK, LOCAL4), NextHopRefusedError);
      assert.equal(asked, 0);
    });
  });
});
