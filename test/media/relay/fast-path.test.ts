/**
 * The relay's native fast path (media/relay/fast.ts, io/native/src/fastpath.c) through the engine:
 * it carries a settled stream's packets, and what comes out of the relay (the packets each peer
 * receives, every counter and drop reason, the loss estimate) is the same as with the JavaScript
 * path alone, across handovers: a sequence wrap (ROC 0 → 1), replay, a forged tag, reordering, an
 * unnegotiated payload type, bad padding, a sequence jump, a new SSRC, an unexpected source, RTCP,
 * a flood; for AES-CM (80 and 32-bit tags) and GCM, and SRTP on both legs.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { EmbeddedMediaEngine } from '../../../media/engine';
import type { SrtpProfileName } from '../../../media/srtp';
import { loadUdpIo } from '../../../media/relay/io/native';
import { FastRules } from '../../../media/relay/fast';
import { Peer, bridge, rtcpCompound, rtpPacket, sleep, startEngine, waitFor } from '../engine/helpers';

type Step = (a: Peer, b: Peer, stray: dgram.Socket) => void;

/** One packet of A's source X..., each with its own payload so that the receiver can tell them apart. */
const fromA = (seq: number, extra: { ssrc?: number; pt?: number; ts?: number; marker?: boolean } = {}): Buffer =>
  rtpPacket({ seq, ssrc: extra.ssrc ?? 0x1111, pt: extra.pt ?? 0, ts: extra.ts ?? seq * 160, marker: extra.marker, payload: Buffer.alloc(160, seq & 0xff) });

/** A's steps: everything a settled stream may meet, one datagram each. */
function scenario(): Step[] {
  const steps: Step[] = [];
  const send = (p: Buffer): Step => (a) => a.sendRtp(p);
  for (let s = 65530; s < 65546; s++) steps.push(send(fromA(s & 0xffff))); // across the wrap: ROC 0 → 1
  steps.push((a) => a.rtpSocket.send(a.tx!.protectRtp(fromA(20)), a.engineRtp, '127.0.0.1')); // a fresh index...
  steps.push((a, _b, stray) => stray.send(a.tx!.protectRtp(fromA(21)), a.engineRtp, '127.0.0.1')); // ...from another port: unexpected source
  let replayed: Buffer | undefined;
  steps.push((a) => {
    replayed = a.tx!.protectRtp(fromA(22));
    a.sendRaw(replayed);
  });
  steps.push((a) => a.sendRaw(replayed!)); // replay
  steps.push(send(fromA(25)), send(fromA(24))); // reordered within the window
  steps.push(send(fromA(26, { pt: 8 }))); // not negotiated on this leg
  steps.push((a) => {
    const p = fromA(27);
    p[0] = 0xa0; // padding bit, last octet 0: malformed once decrypted
    p[p.length - 1] = 0;
    a.sendRtp(p);
  });
  steps.push(send(fromA(28)), send(fromA(28 + 5000))); // a jump, believed on its second packet...
  steps.push((a) => {
    // ...which comes after a forged tag: refused in JavaScript, which takes the rule back and places
    // it again, so the rest of the jump is tracked on state that went through JavaScript.
    const forged = a.tx!.protectRtp(fromA(5040));
    forged[forged.length - 1]! ^= 1;
    a.sendRaw(forged);
  });
  steps.push(send(fromA(28 + 5001)), send(fromA(28 + 5002)));
  steps.push(send(fromA(5031, { pt: 101, marker: true })));
  steps.push((a) => a.sendRtcp(rtcpCompound(0x1111, 5031 * 160)));
  for (let s = 100; s < 106; s++) steps.push(send(fromA(s, { ssrc: 0x2222, ts: 777_000 + s * 160 }))); // a new source
  steps.push(send(fromA(5032))); // a late packet of the replaced source: stale
  for (let s = 106; s < 112; s++) steps.push(send(fromA(s, { ssrc: 0x2222, ts: 777_000 + s * 160 })));
  return steps;
}

interface Outcome {
  /** What B received (plain RTP), the timestamp left out of packets after the source change (it counts wall time). */
  atB: string[];
  atA: string[];
  rtcpAtB: number;
  legs: unknown[];
  fastPackets: number[];
}

/** A (SRTP, `suiteA`) ↔ B (`kindB`): the scenario from A, 20 plain packets from B, with the fast path on or off. */
async function run(fastPath: 'auto' | 'off', suiteA: SrtpProfileName, kindB: 'rtp' | 'srtp', suiteB?: SrtpProfileName): Promise<Outcome> {
  const engine: EmbeddedMediaEngine = startEngine({ fastPath });
  const a = await Peer.open({ kind: 'srtp', suite: suiteA });
  const b = await Peer.open({ kind: kindB, ...(suiteB !== undefined && { suite: suiteB }) });
  const stray = dgram.createSocket('udp4');
  await new Promise<void>((r) => stray.bind(0, '127.0.0.1', r));
  try {
    await bridge(engine, 'fast-1', a, b, kindB === 'srtp' ? 'RTP/SAVP' : 'RTP/AVP');
    for (let i = 0; i < 20; i++) {
      b.sendRtp(rtpPacket({ seq: 40000 + i, ssrc: 0xbbbb, payload: Buffer.alloc(160, i) }));
      await sleep(2);
    }
    for (const step of scenario()) {
      step(a, b, stray);
      await sleep(2); // one datagram at a time: the same order on both paths
    }
    await waitFor(() => b.rtcp.length >= 1 && a.rtp.length >= 20, 2000, () => `B's RTCP and A's 20 packets (got ${b.rtcp.length}, ${a.rtp.length})`);
    await sleep(20);
    const stats = await engine.query('fast-1');
    const streams = stats.legs.map((l) => l.streams[0]!);
    const hex = (p: Buffer, i: number, switchAt: number): string => {
      const h = Buffer.from(p);
      if (i >= switchAt) h.writeUInt32BE(0, 4);
      return h.toString('hex');
    };
    const switchAt = b.rtp.findIndex((p) => p[1] === 0x80); // marker + PCMU: the new source's first packet
    assert.equal(a.refused + b.refused, 0, 'every packet the engine sent verifies at the peer');
    return {
      atB: b.rtp.map((p, i) => hex(p, i, switchAt < 0 ? Infinity : switchAt)),
      atA: a.rtp.map((p) => p.toString('hex')),
      rtcpAtB: b.rtcp.length,
      legs: streams.map(({ rx, tx, dropped, srtpAuthFailures }) => ({ rx: { ...rx, fastPackets: 0 }, tx, dropped, srtpAuthFailures })),
      fastPackets: streams.map((s) => s.rx.fastPackets),
    };
  } finally {
    a.close();
    b.close();
    stray.close();
    await engine.close();
  }
}

describe('relay fast path (native, media.fastPath)', function () {
  this.timeout(20_000);

  before(function () {
    if (loadUdpIo() === null) assert.fail('the socket addon is built by npm test; without it there is no fast path to test');
  });

  for (const [suiteA, kindB, suiteB] of [
    ['AES_CM_128_HMAC_SHA1_80', 'rtp', undefined],
    ['AES_CM_128_HMAC_SHA1_32', 'rtp', undefined],
    ['AEAD_AES_128_GCM', 'rtp', undefined],
    ['AES_256_CM_HMAC_SHA1_80', 'srtp', 'AEAD_AES_256_GCM'],
  ] as const) {
    it(`MUST relay what the JavaScript path relays, counted the same: ${suiteA} ↔ ${kindB === 'rtp' ? 'plain RTP' : suiteB}`, async () => {
      const js = await run('off', suiteA, kindB, suiteB);
      const fast = await run('auto', suiteA, kindB, suiteB);
      assert.deepEqual(js.fastPackets, [0, 0], 'media.fastPath off: nothing on the fast path');
      assert.ok(fast.fastPackets[0]! >= 20, `most of A's packets relayed in C (${fast.fastPackets[0]})`);
      assert.ok(fast.fastPackets[1]! >= 15, `most of B's packets relayed in C (${fast.fastPackets[1]})`);
      assert.equal(fast.atB.length, js.atB.length, 'as many packets at B');
      assert.deepEqual(fast.atB, js.atB, 'the same packets at B, byte for byte');
      assert.deepEqual(fast.atA, js.atA, 'the same packets at A');
      assert.equal(fast.rtcpAtB, js.rtcpAtB);
      assert.deepEqual(fast.legs, js.legs, 'the same counters, drops, loss and latches');
      const dropped = (js.legs[0] as { dropped: Record<string, number> }).dropped;
      for (const reason of ['srtp-replay', 'srtp-auth', 'payload-type', 'malformed', 'unexpected-source', 'stale-source']) {
        assert.equal(dropped[reason], 1, `the scenario meets ${reason} once`);
      }
    });
  }

  it('MUST drop a flood on the fast path as flood, and keep relaying within the rate', async () => {
    const engine = startEngine({ maxPacketsPerSec: 50 });
    const a = await Peer.open({ kind: 'srtp' });
    const b = await Peer.open({ kind: 'rtp' });
    try {
      await bridge(engine, 'flood', a, b, 'RTP/AVP');
      for (let s = 0; s < 5; s++) {
        a.sendRtp(fromA(s));
        await sleep(25);
      }
      // 100 at once: twice the bucket (50 a second), within a socket's default receive buffer (~256 small datagrams).
      for (let s = 5; s < 105; s++) a.sendRtp(fromA(s));
      await sleep(200);
      const leg = (await engine.query('flood')).legs[0]!.streams[0]!;
      assert.ok(leg.dropped.flood >= 40, `flood drops counted (${leg.dropped.flood})`);
      assert.ok(leg.rx.fastPackets > 0, 'relayed in C');
      assert.equal(leg.rx.packets + leg.dropped.flood, 105, 'every datagram either relayed or dropped as flood');
      assert.equal(b.rtp.length, leg.rx.packets);
    } finally {
      a.close();
      b.close();
      await engine.close();
    }
  });

  it('MUST relay with the new key after a re-offer rekeys the leg (the rule taken back and placed again)', async () => {
    const engine = startEngine();
    const a = await Peer.open({ kind: 'srtp' });
    const b = await Peer.open({ kind: 'rtp' });
    try {
      await bridge(engine, 'rekey', a, b, 'RTP/AVP');
      for (let s = 0; s < 10; s++) {
        b.sendRtp(rtpPacket({ seq: s, ssrc: 0xbbbb }));
        a.sendRtp(fromA(s));
        await sleep(2);
      }
      await b.waitRtp(10);
      await a.waitRtp(10);
      // A re-offers with a new key: the engine answers with a new key of its own (RFC 4568 §7.1.4).
      const fresh = await Peer.open({ kind: 'srtp' });
      try {
        const reoffer = fresh.sdp().replace(`m=audio ${fresh.rtpPort}`, `m=audio ${a.rtpPort}`).replace(`a=rtcp:${fresh.rtcpPort}`, `a=rtcp:${a.rtcpPort}`);
        b.learn(await engine.offer('rekey', 'tag-a', reoffer, { transport: 'RTP/AVP' }));
        const answer = await engine.answer('rekey', 'tag-a', 'tag-b', b.sdp());
        a.tx = fresh.tx; // A now sends with the new key
        fresh.tx = undefined;
        a.learn(answer);
      } finally {
        fresh.close();
      }
      for (let s = 10; s < 30; s++) {
        a.sendRtp(fromA(s));
        b.sendRtp(rtpPacket({ seq: s, ssrc: 0xbbbb }));
        await sleep(2);
      }
      await b.waitRtp(30);
      await a.waitRtp(30);
      const legs = (await engine.query('rekey')).legs.map((l) => l.streams[0]!);
      assert.equal(legs[0]!.srtpAuthFailures, 0, 'no packet was tried with a stale key');
      assert.equal(a.refused, 0);
      assert.ok(legs[0]!.rx.fastPackets >= 20 && legs[1]!.rx.fastPackets >= 20, `both directions back on the fast path (${legs[0]!.rx.fastPackets}, ${legs[1]!.rx.fastPackets})`);
    } finally {
      a.close();
      b.close();
      await engine.close();
    }
  });

  describe('the addon boundary', () => {
    it('MUST refuse a session that is not its own, a wrong state length and a closed socket, with a TypeError', () => {
      const addon = loadUdpIo()!;
      const io = new addon.UdpIo(Buffer.alloc(addon.SLOT_OCTETS), new Int32Array(addon.META_INTS), () => undefined);
      try {
        const id = io.open(4, '127.0.0.1', 0);
        const state = new Float64Array(addon.FAST_STATE_LENGTH);
        const pmap = new Uint8Array(128).fill(255);
        const place = (s: Float64Array, session: object | null, tx = id): void => io.fastPlace(id, id, tx, '127.0.0.1', 9, '127.0.0.1', 9, s, pmap, session, null);
        assert.throws(() => place(state, {}), TypeError, 'a plain object is no session');
        assert.throws(() => place(state, Buffer.alloc(8)), TypeError);
        assert.throws(() => place(new Float64Array(3), null), TypeError);
        assert.throws(() => place(state, null, 999), TypeError, 'not an open socket');
        assert.equal(io.fastTake(id, state, true), false, 'nothing placed yet');
        place(state, null);
        assert.equal(io.fastTake(id, state, false), true);
        assert.equal(io.fastTake(id, state, true), true);
        assert.equal(io.fastTake(id, state, true), false, 'taken away');
      } finally {
        io.destroy();
      }
    });

    it('MUST give no fast path when the addon names its fields otherwise', () => {
      const addon = loadUdpIo()!;
      const io = new addon.UdpIo(Buffer.alloc(addon.SLOT_OCTETS), new Int32Array(addon.META_INTS), () => undefined);
      try {
        assert.ok(FastRules.of(addon, io) !== undefined);
        assert.equal(FastRules.of({ ...addon, FAST_FIELDS: [...addon.FAST_FIELDS].reverse() }, io), undefined);
      } finally {
        io.destroy();
      }
    });
  });
});
