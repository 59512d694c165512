/**
 * The relay's queue-delay histogram (media/engine/queue-delay.ts, EmbeddedMediaEngine.queueDelay):
 * the relay threads' histograms summed, every datagram the relay read counted once, none on dgram.
 */
import assert from 'node:assert/strict';
import type { EmbeddedMediaEngine } from '../../../media/engine';
import { mergeQueueDelay } from '../../../media/engine/queue-delay';
import type { QueueDelayHistogram } from '../../../media/relay/protocol';
import { bridge, peerFixture, rtpPacket, startEngine } from './helpers';

const BOUNDS = [0.0001, 0.001, 0.01];

/** One relay thread's histogram, as its sockets report it. */
function thread(counts: number[], sumSec: number, boundsSec = BOUNDS): QueueDelayHistogram {
  return { boundsSec, counts, sumSec };
}

describe('media engine: relay queue delay', () => {
  describe('mergeQueueDelay', () => {
    it('MUST sum the threads\' buckets and sums', () => {
      const h = mergeQueueDelay([thread([1, 2, 3, 4], 0.0005), null, thread([10, 0, 0, 1], 1)])!;
      assert.deepEqual(h.boundsSec, [0.0001, 0.001, 0.01]);
      assert.deepEqual(h.counts, [11, 2, 3, 5]);
      assert.equal(h.sumSec, 1.0005);
    });

    it('MUST give undefined when no thread keeps one (dgram sockets), and leave out a histogram of other bounds', () => {
      assert.equal(mergeQueueDelay([null, null]), undefined);
      assert.equal(mergeQueueDelay([]), undefined);
      const h = mergeQueueDelay([thread([1, 1, 1, 1], 0.00001), thread([5, 5, 5, 5, 5], 0.000099, [0.000001, 0.000002, 0.000003, 0.000004])])!;
      assert.deepEqual(h.counts, [1, 1, 1, 1]);
      assert.equal(h.sumSec, 0.00001);
    });
  });

  for (const workers of [0, 2]) describe(`EmbeddedMediaEngine.queueDelay, ${workers === 0 ? 'in-thread relay' : `${workers} relay threads`}`, () => {
    let engine: EmbeddedMediaEngine;
    const open = peerFixture(() => engine);
    afterEach(async () => engine.close());

    it('MUST count every packet the relay read, summed over its threads', async () => {
      engine = startEngine(workers === 0 ? {} : { inThread: false, workers });
      const before = (await engine.queueDelay())!;
      assert.equal(before.counts.reduce((a, b) => a + b, 0), 0);
      const a = await open({ kind: 'rtp' });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 'q1', a, b, 'RTP/AVP');
      for (let seq = 1; seq <= 10; seq++) a.sendRtp(rtpPacket({ seq }));
      await b.waitRtp(10);
      const after = (await engine.queueDelay())!;
      assert.equal(after.counts.length, after.boundsSec.length + 1);
      assert.equal(after.counts.reduce((x, y) => x + y, 0), 10, JSON.stringify(after.counts));
      assert.ok(after.sumSec > 0 && after.sumSec < 10, `sum ${after.sumSec} s`);
    });

    it('MUST say nothing (undefined) on Node\'s dgram sockets', async () => {
      engine = startEngine(workers === 0 ? { batchedIo: 'off' } : { inThread: false, workers, batchedIo: 'off' });
      assert.equal(await engine.queueDelay(), undefined);
    });
  });
});

describe('EmbeddedMediaEngine.relayBusy (each relay thread\'s load)', () => {
  let engine: EmbeddedMediaEngine;
  const open = peerFixture(() => engine);
  afterEach(async () => engine.close());

  it('MUST give each worker thread\'s busy time by index, growing with the media it relays', async () => {
    engine = startEngine({ inThread: false, workers: 2 });
    const before = await engine.relayBusy();
    assert.deepEqual(before.map((t) => t.thread), [0, 1]);
    for (const t of before) assert.ok(t.busySec >= 0 && t.busySec < 60, `thread ${t.thread}: ${t.busySec} s`);
    const a = await open({ kind: 'rtp' });
    const b = await open({ kind: 'rtp' });
    await bridge(engine, 'busy1', a, b, 'RTP/AVP');
    // 200: a burst the relay socket's default receive buffer holds (~256 small datagrams)
    for (let seq = 1; seq <= 200; seq++) a.sendRtp(rtpPacket({ seq }));
    await b.waitRtp(200);
    const after = await engine.relayBusy();
    // The call went to thread 0 (RelayPool.assign: the fewest calls, the first on a tie); thread 1 only answered.
    const grew = after.map((t, i) => t.busySec - before[i]!.busySec);
    assert.ok(grew[0]! > grew[1]!, `thread 0 grew ${grew[0]} s, thread 1 ${grew[1]} s`);
  });

  it('MUST give nothing in in-thread mode, where the relay shares the signalling thread', async () => {
    engine = startEngine({});
    assert.deepEqual(await engine.relayBusy(), []);
  });
});
