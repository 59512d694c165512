/**
 * OPTIONS keep-alive (RFC 3261 §11) and failover selection, on a fake clock with a real
 * transaction layer underneath.
 */
import assert from 'node:assert/strict';
import type { Trunk } from '../../gateway/trunk/types';
import { makeResponse } from '../../gateway/sip/message/message';
import { synthesizeResponse } from '../../gateway/sip/transaction/transaction';
import { harness, udpTrunk } from './harness';

describe('Trunks: OPTIONS keep-alive and failover (RFC 3261 §11)', () => {
  it('sends OPTIONS to the trunk itself at once, then every interval, from our address with rport', async () => {
    const h = harness([udpTrunk('pbx', { keepAlive: { intervalSec: 30 } })]);
    h.manager.start();
    const [first] = h.sent('OPTIONS');
    assert.ok(first);
    assert.equal(first.uri.scheme, 'sip');
    assert.equal(h.sender.sent[0].target.remote.port, 5090);
    assert.equal(first.via[0].host, '127.0.0.1');
    assert.equal(first.via[0].port, 5070);
    assert.ok(first.via[0].params.has('rport'));
    h.answer(first, 200);
    await h.settle();
    h.clock.advance(30_000);
    assert.equal(h.sent('OPTIONS').length, 2);
    await h.manager.stop();
  });

  it('marks the trunk up on the first answer and emits up', async () => {
    const h = harness([udpTrunk('pbx')]);
    const events: string[] = [];
    h.manager.on('up', (t) => events.push(`up ${t.name}`));
    h.manager.start();
    assert.equal(h.manager.get('pbx')?.status, 'unknown');
    h.answer(h.sent('OPTIONS')[0], 200);
    await h.settle();
    assert.equal(h.manager.get('pbx')?.status, 'up');
    assert.deepEqual(events, ['up pbx']);
    await h.manager.stop();
  });

  it('counts any real answer as alive, a 404 or 401 included', async () => {
    const h = harness([udpTrunk('pbx')]);
    h.manager.start();
    h.answer(h.sent('OPTIONS')[0], 401, 'Unauthorized');
    await h.settle();
    assert.equal(h.manager.get('pbx')?.status, 'up');
    await h.manager.stop();
  });

  it('marks the trunk down after K unanswered probes, not before, and emits down once', async () => {
    const h = harness([udpTrunk('pbx', { keepAlive: { intervalSec: 10, failures: 3 } })], 2000);
    const events: string[] = [];
    h.manager.on('down', (t) => events.push(`down ${t.name}`));
    h.manager.start();
    h.answer(h.sent('OPTIONS')[0], 200);
    await h.settle();
    for (let i = 1; i <= 2; i++) {
      h.clock.advance(10_000); // next probe
      h.clock.advance(2_000); // its deadline passes unanswered
      await h.settle();
      assert.equal(h.manager.get('pbx')?.status, 'up', `after ${i} failure(s)`);
    }
    h.clock.advance(10_000);
    h.clock.advance(2_000);
    await h.settle();
    assert.equal(h.manager.get('pbx')?.status, 'down');
    h.clock.advance(12_000);
    await h.settle();
    assert.deepEqual(events, ['down pbx']);
    await h.manager.stop();
  });

  it('treats a 503 answer as a failure (RFC 3261 §21.5.4) and a transport error the same way', async () => {
    const h = harness([udpTrunk('pbx', { keepAlive: { intervalSec: 10, failures: 2 } })]);
    h.manager.start();
    h.answer(h.sent('OPTIONS')[0], 503, 'Service Unavailable');
    await h.settle();
    h.sender.failing = true;
    h.clock.advance(10_000);
    await h.settle();
    assert.equal(h.manager.get('pbx')?.status, 'down');
    await h.manager.stop();
  });

  it('comes back up with the first answer after being down', async () => {
    const h = harness([udpTrunk('pbx', { keepAlive: { intervalSec: 10, failures: 1 } })], 1000);
    const events: string[] = [];
    h.manager.on('up', () => events.push('up'));
    h.manager.on('down', () => events.push('down'));
    h.manager.start();
    h.clock.advance(1000);
    await h.settle();
    assert.equal(h.manager.get('pbx')?.status, 'down');
    h.clock.advance(9000);
    const probes = h.sent('OPTIONS');
    h.answer(probes[probes.length - 1], 200);
    await h.settle();
    assert.equal(h.manager.get('pbx')?.status, 'up');
    assert.deepEqual(events, ['down', 'up']);
    await h.manager.stop();
  });

  it('ignores an answer to a probe that was already counted as failed', async () => {
    const h = harness([udpTrunk('pbx', { keepAlive: { intervalSec: 10, failures: 1 } })], 1000);
    h.manager.start();
    const late = h.sent('OPTIONS')[0];
    h.clock.advance(1000);
    await h.settle();
    assert.equal(h.manager.get('pbx')?.status, 'down');
    h.answer(late, 200);
    await h.settle();
    assert.equal(h.manager.get('pbx')?.status, 'down');
    await h.manager.stop();
  });

  it('sends nothing when keep-alive is off (intervalSec 0) and keeps the status unknown', async () => {
    const h = harness([udpTrunk('pbx', { keepAlive: { intervalSec: 0 } })]);
    h.manager.start();
    h.clock.advance(600_000);
    assert.equal(h.sent('OPTIONS').length, 0);
    h.manager.reportFailure(h.manager.get('pbx') as Trunk, 'timeout');
    assert.equal(h.manager.get('pbx')?.status, 'unknown');
    await h.manager.stop();
  });

  describe('failover (TrunkGroup selection)', () => {
    it('select() keeps the order and skips trunks that are down', async () => {
      const h = harness([udpTrunk('a', { keepAlive: { failures: 1 } }), udpTrunk('b'), udpTrunk('c')], 1000);
      h.manager.start();
      const [pa, pb] = h.sent('OPTIONS');
      h.answer(pb, 200);
      void pa; // a never answers
      h.clock.advance(1000);
      await h.settle();
      const group = ['a', 'b', 'c'].map((n) => h.manager.get(n) as Trunk);
      assert.deepEqual(h.manager.select(group).map((t) => t.name), ['b', 'c']);
      assert.deepEqual(h.manager.select([...group].reverse()).map((t) => t.name), ['c', 'b']);
      await h.manager.stop();
    });

    it('select() is empty when every trunk is down (the caller then gets 503)', async () => {
      const h = harness([udpTrunk('a', { keepAlive: { failures: 1 } })], 1000);
      h.manager.start();
      h.clock.advance(1000);
      await h.settle();
      assert.deepEqual(h.manager.select([h.manager.get('a') as Trunk]), []);
      await h.manager.stop();
    });

    it('reportFailure() counts toward down, so a dead trunk is skipped before the next probe', async () => {
      const h = harness([udpTrunk('a', { keepAlive: { intervalSec: 60, failures: 2 } })]);
      h.manager.start();
      h.answer(h.sent('OPTIONS')[0], 200);
      await h.settle();
      const a = h.manager.get('a') as Trunk;
      h.manager.reportFailure(a, 'timeout');
      assert.equal(a.status, 'up');
      h.manager.reportFailure(a, 'transport-error');
      assert.equal(a.status, 'down');
      await h.manager.stop();
    });

    it('isFailover(): 503 and local timeouts move on; a PBX 408, 486 or 404 does not', async () => {
      const h = harness([udpTrunk('a')]);
      h.manager.start();
      const req = h.sent('OPTIONS')[0];
      assert.equal(h.manager.isFailover(synthesizeResponse(req, 408, 'Request Timeout')), true);
      assert.equal(h.manager.isFailover(synthesizeResponse(req, 503, 'Service Unavailable')), true);
      assert.equal(h.manager.isFailover(makeResponse(req, 503, 'Service Unavailable')), true);
      for (const status of [408, 486, 404, 500]) {
        assert.equal(h.manager.isFailover(makeResponse(req, status, 'x')), false, String(status));
      }
      await h.manager.stop();
    });
  });
});
