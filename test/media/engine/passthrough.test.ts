/**
 * End-to-end pass-through (DTLS-SRTP RFC 5764, ZRTP RFC 6189) under the events that make a
 * terminating relay rewrite packets: a new SSRC, a new source address, a re-INVITE, a second
 * answerer. The keys are the endpoints' own, so any change to a header (SSRC, sequence number,
 * timestamp, marker, payload type) or to RTCP breaks SRTP authentication (RFC 3711 §3.3, §4.2):
 * whatever happens, bytes out MUST equal bytes in. Run twice: relayed in user space, and with the
 * in-kernel forwarder (media.kernelForwarding, media/relay/kernel/), where a latched source's
 * packets are relayed by the kernel; that half is skipped where the host does not allow it.
 */
import assert from 'node:assert/strict';
import type { EmbeddedMediaEngine } from '../../../media/engine';
import { RELATCH_QUIET_MS } from '../../../media/relay/latch';
import { Peer, bridge, peerFixture, rtcpCompound, rtpPacket, startEngine, waitFor } from './helpers';

/** An SRTP-looking packet: a clear RTP header, then bytes standing for ciphertext and the auth tag. */
function opaqueRtp(ssrc: number, seq: number, ts: number): Buffer {
  return Buffer.concat([rtpPacket({ seq, ssrc, ts, pt: 96, payload: Buffer.alloc(40, seq & 0xff) }), Buffer.alloc(10, 0xa5)]);
}

const hex = (list: readonly Buffer[]): string[] => list.map((b) => b.toString('hex'));

for (const kernelForwarding of ['off', 'auto'] as const) {
  describe(`media engine pass-through: bytes out == bytes in (RFC 3711 §3.3), in-kernel forwarding ${kernelForwarding}`, () => {
    let engine: EmbeddedMediaEngine;
    /** The relay's clock (in-thread mode), moved by the re-latch test. */
    let clock = 0;
    const openPeer = peerFixture(() => engine);
    const open = (): Promise<Peer> => openPeer({ kind: 'dtls', mux: true });

    beforeEach(function () {
      clock = 1_000_000;
      engine = startEngine({ kernelForwarding }, { now: () => clock });
      if (kernelForwarding === 'auto' && engine.kernelForwarder === undefined) this.skip(); // not root, or no TCX here
    });

    /** Sends `packets` from `from` and checks that `to` receives exactly them, in order. */
    async function relayedUnchanged(from: Peer, to: Peer, packets: readonly Buffer[]): Promise<void> {
      const before = to.log.length;
      for (const p of packets) from.sendRaw(p);
      await waitFor(() => to.log.length >= before + packets.length, 2000, `${packets.length} packets`);
      assert.deepEqual(hex(to.log.slice(before).map((l) => l.data)), hex(packets), 'bytes out == bytes in');
    }

    it('MUST NOT rewrite SSRC, sequence number or timestamp when the sender changes SSRC mid-stream (RFC 3550 §8.2)', async () => {
      const a = await open();
      const b = await open();
      await bridge(engine, 'p1', a, b, 'pass-through');
      const first = [1, 2, 3].map((i) => opaqueRtp(0x11111111, 1000 + i, 160 * i));
      const second = [1, 2, 3].map((i) => opaqueRtp(0x22222222, 40000 + i, 9_000_000 + 160 * i));
      await relayedUnchanged(a, b, first);
      await relayedUnchanged(a, b, second);
      await relayedUnchanged(a, b, [opaqueRtp(0x11111111, 1004, 640)]); // the old source again: not "stale", just bytes
    });

    it('MUST NOT rewrite after a re-INVITE (RFC 3264 §8) or RTCP of a new source (RFC 3550 §6.4)', async () => {
      const a = await open();
      const b = await open();
      await bridge(engine, 'p2', a, b, 'pass-through');
      await relayedUnchanged(a, b, [opaqueRtp(0x0a0a0a0a, 1, 0), opaqueRtp(0x0a0a0a0a, 2, 160)]);
      await relayedUnchanged(b, a, [opaqueRtp(0x0b0b0b0b, 7, 0)]);
      // B re-offers (e.g. after a DTLS renegotiation its SSRC changes); A answers.
      const reOffer = await engine.offer('p2', 'tag-b', b.sdp().replace(' 1 IN IP4', ' 2 IN IP4'), { transport: 'pass-through' });
      await engine.answer('p2', 'tag-b', 'tag-a', a.sdp().replace(' 1 IN IP4', ' 2 IN IP4'));
      assert.match(reOffer, /UDP\/TLS\/RTP\/SAVPF/);
      const srtcp = Buffer.concat([rtcpCompound(0x0c0c0c0c, 77), Buffer.from([0x80, 0, 0, 1]), Buffer.alloc(10, 0xcc)]);
      await relayedUnchanged(a, b, [opaqueRtp(0x0c0c0c0c, 500, 123456), srtcp]);
      await relayedUnchanged(b, a, [opaqueRtp(0x0d0d0d0d, 9, 42), opaqueRtp(0x0b0b0b0b, 8, 160)]);
    });

    it('MUST NOT rewrite when the sender moves and the relay re-latches (RFC 4961 §3)', async () => {
      const a = await open();
      const b = await open();
      const moved = await open(); // A's new address (a NAT rebinding, a mobile client)
      await bridge(engine, 'p4', a, b, 'pass-through');
      await relayedUnchanged(a, b, [opaqueRtp(0x0e0e0e0e, 100, 16000)]);
      clock += RELATCH_QUIET_MS + 1;
      const before = b.log.length;
      const fromNewAddress = [opaqueRtp(0x0f0f0f0f, 7, 99), opaqueRtp(0x0f0f0f0f, 8, 259)];
      for (const p of fromNewAddress) moved.sendRaw(p, a.engineRtp);
      await waitFor(() => b.log.length >= before + 2, 2000, 'two packets from the new address');
      assert.deepEqual(hex(b.log.slice(before).map((l) => l.data)), hex(fromNewAddress), 'bytes out == bytes in');
      const back = opaqueRtp(0x0b0b0b0b, 1, 1);
      b.sendRaw(back);
      await waitFor(() => moved.log.length >= 1, 2000, 'the reply at the new address');
      assert.deepEqual(moved.log[0]!.data, back);
    });

    it('MUST NOT rewrite when a second answerer replaces the first (serial forking, failover)', async () => {
      const a = await open();
      const b = await open();
      const c = await open();
      const offer = await engine.offer('p3', 'tag-a', a.sdp(), { transport: 'pass-through' });
      b.learn(offer);
      c.learn(offer);
      a.learn(await engine.answer('p3', 'tag-a', 'tag-b', b.sdp())); // 183 from the first branch
      await relayedUnchanged(a, b, [opaqueRtp(0x01010101, 10, 1600)]);
      await relayedUnchanged(b, a, [opaqueRtp(0x02020202, 20, 3200)]);
      a.learn(await engine.answer('p3', 'tag-a', 'tag-c', c.sdp())); // 200 from another branch
      await relayedUnchanged(a, c, [opaqueRtp(0x01010101, 11, 1760), opaqueRtp(0x01010101, 12, 1920)]);
      await relayedUnchanged(c, a, [opaqueRtp(0x03030303, 60000, 5), opaqueRtp(0x03030303, 60001, 165)]);
    });
  });
}
