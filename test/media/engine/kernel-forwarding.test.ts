/**
 * In-kernel forwarding of pass-through legs (media.kernelForwarding, media/relay/kernel/): what the
 * kernel relays is what user space would have relayed, counted as if user space had, and nothing
 * more. Skipped where the host does not allow the forwarder (not root, no TCX); CI runs as root.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { EmbeddedMediaEngine } from '../../../media/engine';
import { RELATCH_QUIET_MS } from '../../../media/relay/latch';
import { Peer, bridge, peerFixture, rtpPacket, startEngine, waitFor } from './helpers';

const opaque = (seq: number): Buffer => Buffer.concat([rtpPacket({ seq, ssrc: 0x5eed, pt: 96, payload: Buffer.alloc(40, seq & 0xff) }), Buffer.alloc(10, 0xa5)]);
const settle = (ms = 100): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('media engine: in-kernel forwarding of pass-through legs', () => {
  let engine: EmbeddedMediaEngine;
  const openPeer = peerFixture(() => engine);
  const open = (): Promise<Peer> => openPeer({ kind: 'dtls', mux: true });

  /** A pass-through call between two new peers, A's source latched (so the kernel relays A from now on). */
  async function latchedCall(e: EmbeddedMediaEngine, callId: string): Promise<{ a: Peer; b: Peer }> {
    const a = await open();
    const b = await open();
    await bridge(e, callId, a, b, 'pass-through');
    a.sendRaw(opaque(1));
    await waitFor(() => b.log.length === 1, 2000, 'the first packet');
    return { a, b };
  }

  beforeEach(function () {
    engine = startEngine({ kernelForwarding: 'auto', maxPacketsPerSec: 50 });
    if (engine.kernelForwarder === undefined) this.skip(); // not root, or no TCX on this kernel
  });

  it('relays a latched source in the kernel, byte for byte, and counts it in the leg statistics', async () => {
    const { a, b } = await latchedCall(engine, 'k1'); // A latched in user space, then handed to the kernel
    const sent = [2, 3, 4, 5, 6].map(opaque);
    for (const p of sent) a.sendRaw(p);
    await waitFor(() => b.log.length === 6, 2000, 'five more packets');
    assert.deepEqual(b.log.slice(1).map((l) => l.data.toString('hex')), sent.map((p) => p.toString('hex')));
    assert.equal(b.log[5]!.from, b.engineRtp, 'sent from the engine port B was given');
    const legA = (await engine.query('k1')).legs[0]!.streams[0]!;
    const legB = (await engine.query('k1')).legs[1]!.streams[0]!;
    assert.equal(legA.rx.packets, 6);
    assert.equal(legA.rx.kernelPackets, 5, 'all but the latching packet went through the kernel');
    assert.equal(legA.rx.bytes, 6 * sent[0]!.length);
    assert.equal(legB.tx.packets, 6);
  });

  it('leaves an unlatched source to user space, which drops it (RFC 4961 §3)', async () => {
    const { a, b } = await latchedCall(engine, 'k2');
    const intruder = dgram.createSocket('udp4');
    await new Promise<void>((r) => intruder.bind(0, '127.0.0.1', r));
    try {
      for (let i = 0; i < 3; i++) intruder.send(opaque(100 + i), a.engineRtp, '127.0.0.1');
      await settle();
      const legA = (await engine.query('k2')).legs[0]!.streams[0]!;
      assert.equal(legA.dropped['unexpected-source'], 3);
      assert.equal(b.log.length, 1, 'nothing of the intruder reached B');
    } finally {
      intruder.close();
    }
  });

  it('counts what the kernel relayed as the latched source\'s activity: a busy source cannot be displaced (RFC 4961 §3)', async function () {
    let clock = 1_000_000;
    const e = startEngine({ kernelForwarding: 'auto' }, { now: () => clock });
    const intruder = dgram.createSocket('udp4');
    try {
      if (e.kernelForwarder === undefined) this.skip();
      const { a, b } = await latchedCall(e, 'k6');
      for (let i = 0; i < 3; i++) a.sendRaw(opaque(2 + i)); // relayed by the kernel, unseen by the relay thread
      await waitFor(() => b.log.length === 4, 2000, 'three packets through the kernel');
      clock += RELATCH_QUIET_MS + 1; // long after the latching packet, but not after the kernel's
      await new Promise<void>((r) => intruder.bind(0, '127.0.0.1', r));
      intruder.send(opaque(100), a.engineRtp, '127.0.0.1');
      await settle();
      assert.equal(b.log.length, 4, 'the intruder did not take the latch');
      assert.equal((await e.query('k6')).legs[0]!.streams[0]!.dropped['unexpected-source'], 1);
    } finally {
      intruder.close();
      await e.close();
    }
  });

  it('drops a flood from the latched source in the kernel, counted as flood (media.maxPacketsPerSec)', async () => {
    const { a, b } = await latchedCall(engine, 'k3');
    for (let i = 0; i < 120; i++) a.sendRaw(opaque(2 + i));
    await settle(200);
    const legA = (await engine.query('k3')).legs[0]!.streams[0]!;
    assert.ok(legA.dropped.flood >= 120 - 50, `flood drops ${legA.dropped.flood}`);
    assert.ok(b.log.length <= 51, `B got ${b.log.length} packets, at most 50 a second plus the first`);
    assert.equal(legA.rx.packets + legA.dropped.flood, 121);
  });

  it('takes away the rules of a relay thread that died, with its calls', async function () {
    const e = startEngine({ kernelForwarding: 'auto', inThread: false, workers: 1 });
    try {
      if (e.kernelForwarder === undefined) this.skip();
      const { a, b } = await latchedCall(e, 'k5');
      a.sendRaw(opaque(2));
      await waitFor(() => b.log.length === 2, 2000, 'a packet through the kernel');
      const failed: string[] = [];
      e.on('failed', (ev) => failed.push(ev.callId));
      const worker = (e as unknown as { pool: { channels: Array<{ worker: { terminate(): Promise<number> } }> } }).pool.channels[0]!.worker;
      await worker.terminate();
      await waitFor(() => failed.length === 1, 3000, 'the lost call ended');
      for (let i = 0; i < 3; i++) a.sendRaw(opaque(3 + i));
      await settle();
      assert.equal(b.log.length, 2, 'nothing relayed for the call of the dead thread');
    } finally {
      await e.close();
    }
  });

  it('stops forwarding when the call ends: the rules go with the streams', async () => {
    const { a, b } = await latchedCall(engine, 'k4');
    a.sendRaw(opaque(2));
    await waitFor(() => b.log.length === 2, 2000, 'a packet through the kernel');
    await engine.delete('k4');
    for (let i = 0; i < 3; i++) a.sendRaw(opaque(3 + i));
    await settle();
    assert.equal(b.log.length, 2, 'nothing relayed after the call ended');
  });
});
