/**
 * The reserve of streams bound ahead of need (media.warmStreams, media/engine/stream-opener.ts):
 * an offer takes a bound stream instead of waiting for socket binds, the relay learns its call
 * with 'adopt', the answer's configuration is not waited for, and the reserve never costs a call
 * its ports. A relay that is lost, or refuses the configuration sent ahead, ends its calls with
 * the engine's 'failed' event.
 */
import assert from 'node:assert/strict';
import type { EmbeddedMediaEngine } from '../../../media/engine';
import type { MediaFailedEvent, TimeoutEvent } from '../../../media/engine/types';
import { mediaPort, parseSdp } from '../../../media/sdp';
import { Call } from '../../../media/engine/call';
import { StreamOpener } from '../../../media/engine/stream-opener';
import type { RelayPool } from '../../../media/relay/pool';
import { PortAllocator } from '../../../media/relay/ports';
import type { RelayCommand, RelayReply } from '../../../media/relay/protocol';
import { bridge, engineSettings, peerFixture, rtpPacket, startEngine, waitFor } from './helpers';

describe('media engine: streams bound ahead of need (media.warmStreams)', () => {
  let engine: EmbeddedMediaEngine | undefined;
  const open = peerFixture(() => engine);
  afterEach(() => {
    engine = undefined;
  });

  const hostStreams = (e: EmbeddedMediaEngine): number => (e as unknown as { pool: { inThreadHost: { streamCount: number } } }).pool.inThreadHost.streamCount;
  const reserved = (e: EmbeddedMediaEngine): number => (e as unknown as { streams: { reserved: number } }).streams.reserved;

  it('MUST bind the reserve at start, offer a reserved stream, and top the reserve up again', async () => {
    const e = (engine = startEngine({ warmStreams: 3 }));
    await waitFor(() => reserved(e) === 3, 2000, 'the reserve filled');
    assert.equal(hostStreams(e), 3, 'three streams bound on the relay, none in a call');
    const free = e.freePortPairs;

    const a = await open({ kind: 'rtp' });
    const b = await open({ kind: 'rtp' });
    const { offer } = await bridge(e, 'w1', a, b, 'RTP/AVP');
    const port = mediaPort(parseSdp(offer), 0);
    assert.ok(port >= e.settings.portMin && port <= e.settings.portMax, 'a port of the range');
    await waitFor(() => reserved(e) === 3, 2000, 'the reserve topped up');
    assert.equal(hostStreams(e), 4, 'the call\'s stream plus a full reserve');
    assert.equal(e.freePortPairs, free - 2, 'the call holds two pairs; the reserve counts as free');

    a.sendRtp(rtpPacket({ seq: 1, payload: Buffer.alloc(160, 7) }));
    const got = await b.waitRtp(1);
    assert.deepEqual(got[0]!.subarray(12), Buffer.alloc(160, 7), 'media flows through the adopted stream');
    b.sendRtp(rtpPacket({ seq: 9, ssrc: 0x0b0b0b0b }));
    await a.waitRtp(1);

    await e.delete('w1');
    assert.equal(hostStreams(e), 3, 'the call\'s stream is closed, the reserve stays');
    assert.equal(e.freePortPairs, free, 'every port is back');
  });

  it('MUST time out an adopted stream\'s call, and never a reserved stream', async () => {
    let clock = 1_000_000;
    const e = (engine = startEngine({ warmStreams: 2, inactivitySec: 2 }, { now: () => clock }));
    await waitFor(() => reserved(e) === 2, 2000, 'the reserve filled');
    const events: TimeoutEvent[] = [];
    e.on('timeout', (ev) => events.push(ev));
    clock += 10_000;
    e.sweep();
    assert.deepEqual(events, [], 'reserved streams belong to no call');

    const a = await open({ kind: 'rtp' });
    const b = await open({ kind: 'rtp' });
    await bridge(e, 'w2', a, b, 'RTP/AVP');
    a.sendRtp(rtpPacket({ seq: 1 }));
    await b.waitRtp(1);
    clock += 2000;
    e.sweep();
    assert.deepEqual(events, [{ callId: 'w2', idleSec: 2 }]);
  });

  it('MUST NOT fill a reserve from a range without room to spare', async () => {
    const settings = engineSettings({ warmStreams: 1 });
    const e = (engine = startEngine({ ...settings, portMax: settings.portMin + 7 })); // 4 pairs < 4 × 1 + 2
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(reserved(e), 0);
    assert.equal(e.freePortPairs, 4);
  });

  it('MUST give another relay\'s reserve back when a call would otherwise find the range exhausted', async () => {
    // The opener alone, on a relay pool that records what it is asked: two relays, a reserve of one each.
    const asked: Array<[number, string]> = [];
    const pool = {
      request: async (slot: number, cmd: RelayCommand): Promise<RelayReply> => {
        asked.push([slot, cmd.op]);
        return cmd.op === 'open' ? { ok: true } : null;
      },
    } as unknown as RelayPool;
    const ports = new PortAllocator(40000, 40000 + 2 * 8 - 1); // 8 pairs
    const opener = new StreamOpener(ports, pool, '127.0.0.1', undefined, 1);
    opener.prime(2);
    await waitFor(() => opener.reserved === 2, 1000, 'both reserves');
    assert.equal(ports.available, 4);
    // Calls on relay 1 take its reserve, then the free pairs.
    const c1 = new Call('c1', 1, 'a', '127.0.0.1');
    await opener.ensure(c1, 0, 'audio');
    const c2 = new Call('c2', 1, 'a', '127.0.0.1');
    await opener.ensure(c2, 0, 'audio');
    const c3 = new Call('c3', 1, 'a', '127.0.0.1');
    await opener.ensure(c3, 0, 'audio');
    assert.deepEqual([ports.available, opener.reserved], [0, 1], 'relay 0 still holds a stream bound for nobody');
    // The next call on relay 1 gets relay 0's reserved pairs, closed there first.
    const c4 = new Call('c4', 1, 'a', '127.0.0.1');
    const s4 = await opener.ensure(c4, 0, 'audio');
    assert.equal(s4.opened, true);
    assert.deepEqual([ports.available, opener.reserved], [0, 0]);
    assert.deepEqual(asked.filter(([, op]) => op === 'close'), [[0, 'close']], 'closed on relay 0');
    assert.deepEqual(asked.filter(([, op]) => op === 'adopt'), [[1, 'adopt']], 'only the reserved stream was adopted');
    opener.close();
  });

  it('MUST carry media through an adopted stream on a worker thread', async () => {
    const e = (engine = startEngine({ warmStreams: 2, inThread: false, workers: 1 }));
    await waitFor(() => e.freePortPairs > 0 && (e as unknown as { streams: { reserved: number } }).streams.reserved === 2, 3000, 'the worker\'s reserve');
    const a = await open({ kind: 'srtp' });
    const b = await open({ kind: 'rtp' });
    await bridge(e, 'w3', a, b, 'RTP/AVP');
    a.sendRtp(rtpPacket({ seq: 5, payload: Buffer.alloc(160, 0x33) }));
    const got = await b.waitRtp(1);
    assert.deepEqual(got[0]!.subarray(12), Buffer.alloc(160, 0x33));
    const stats = await e.query('w3');
    assert.equal(stats.legs[0]!.streams[0]!.rx.packets, 1, 'counted on the adopted stream');
  });

  it('MUST refill the reserve on the thread that replaces a lost one, and carry new calls there', async () => {
    const e = (engine = startEngine({ warmStreams: 2, inThread: false, workers: 1 }));
    await waitFor(() => reserved(e) === 2, 3000, 'the reserve');
    const a = await open({ kind: 'rtp' });
    const b = await open({ kind: 'rtp' });
    await bridge(e, 'lost-1', a, b, 'RTP/AVP');
    const ended: MediaFailedEvent[] = [];
    e.on('failed', (ev) => ended.push(ev));
    // A throwing listener would be caught and logged by the engine: collect, then assert.
    const timeouts: TimeoutEvent[] = [];
    e.on('timeout', (ev) => timeouts.push(ev));
    const worker = (e as unknown as { pool: { channels: Array<{ worker: { terminate(): Promise<number> } }> } }).pool.channels[0]!.worker;
    await worker.terminate();
    await waitFor(() => ended.length === 1, 3000, 'the lost call ended');
    assert.deepEqual(ended, [{ callId: 'lost-1', reason: 'relay-lost' }]);
    assert.deepEqual(timeouts, [], 'a lost relay is a failure, not a media timeout');
    await waitFor(() => reserved(e) === 2, 3000, 'a new reserve on the replacement thread');
    const c = await open({ kind: 'rtp' });
    const d = await open({ kind: 'rtp' });
    await bridge(e, 'after', c, d, 'RTP/AVP');
    c.sendRtp(rtpPacket({ seq: 1, payload: Buffer.alloc(160, 9) }));
    const got = await d.waitRtp(1);
    assert.deepEqual(got[0]!.subarray(12), Buffer.alloc(160, 9), 'media through a stream of the new reserve');
  });
});

describe('media engine: a relay that refuses a configuration', () => {
  let engine: EmbeddedMediaEngine | undefined;
  const open = peerFixture(() => engine);

  it('MUST report the call as failed (configuration-refused), not as a media timeout, and forget it', async () => {
    const e = (engine = startEngine({ warmStreams: 0 }));
    const a = await open({ kind: 'rtp' });
    const b = await open({ kind: 'rtp' });
    const offer = await e.offer('refused', 'tag-a', a.sdp(), { transport: 'RTP/AVP' });
    b.learn(offer);
    // The stream disappears from the relay behind the engine's back (what a relay in trouble does).
    const internals = e as unknown as { pool: { inThreadHost: { handle(cmd: { op: 'close'; streamIds: number[] }): Promise<unknown> } }; calls: Map<string, { streams: Array<{ id: number } | undefined> }> };
    await internals.pool.inThreadHost.handle({ op: 'close', streamIds: [internals.calls.get('refused')!.streams[0]!.id] });
    const failed: MediaFailedEvent[] = [];
    e.on('failed', (ev) => failed.push(ev));
    const timeouts: TimeoutEvent[] = [];
    e.on('timeout', (ev) => timeouts.push(ev));
    await e.answer('refused', 'tag-a', 'tag-b', b.sdp()).catch(() => undefined);
    await waitFor(() => failed.length === 1, 3000, 'the failed event');
    assert.deepEqual(failed, [{ callId: 'refused', reason: 'configuration-refused' }]);
    assert.deepEqual(timeouts, [], 'a refused configuration is a failure, not a media timeout');
    await waitFor(() => !internals.calls.has('refused'), 3000, 'the call forgotten');
  });
});
