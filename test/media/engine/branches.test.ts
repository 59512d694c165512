/**
 * One offer, several possible answerers (issue "media plane" §3: "never reuse a key across legs";
 * issue "calls" §2 forking, §3 failover): every branch an offer is written for gets SDES keys of
 * its own, an answer settles against its own branch's offer, and a forgotten branch's keys go.
 */
import assert from 'node:assert/strict';
import { cryptoAttributeValues, parseCryptoAttribute, parseSdp } from '../../../media/sdp';
import type { EmbeddedMediaEngine } from '../../../media/engine';
import { MediaEngineError } from '../../../media/engine/errors';
import { rtpPacket, startEngine, peerFixture } from './helpers';

/** The inline key material of every a=crypto line of the first m= line. */
function keysOf(sdp: string): string[] {
  return cryptoAttributeValues(parseSdp(sdp), 0).map((v) => {
    const k = parseCryptoAttribute(v).keys[0]!;
    return Buffer.concat([k.masterKey, k.masterSalt]).toString('hex');
  });
}

describe('media engine: offers written per branch (RFC 4568 §6.1, rtpengine via-branch)', () => {
  let engine: EmbeddedMediaEngine;
  const open = peerFixture(() => engine);

  beforeEach(() => {
    engine = startEngine();
  });

  it('MUST give every branch of one offer keys of its own', async () => {
    const a = await open({ kind: 'srtp' });
    const offers = [];
    for (const branch of ['b1', 'b2', 'b3']) offers.push(await engine.offer('f1', 'a', a.sdp(), { transport: 'RTP/SAVP', branch }));
    const keys = offers.flatMap(keysOf);
    assert.ok(keys.length >= 6, 'several suites offered per branch');
    assert.equal(new Set(keys).size, keys.length, 'no key appears twice across branches');
  });

  it('MUST settle an answer against the offer written for its branch', async () => {
    const a = await open({ kind: 'srtp' });
    const b1 = await open({ kind: 'srtp' });
    const b2 = await open({ kind: 'srtp' });
    const caller = a.sdp();
    const toB1 = await engine.offer('f2', 'a', caller, { transport: 'RTP/SAVP', branch: 'b1' });
    const toB2 = await engine.offer('f2', 'a', caller, { transport: 'RTP/SAVP', branch: 'b2' });
    b1.learn(toB1);
    b2.learn(toB2);
    // b1 (whose offer is not the latest) answers: the relay must speak b1's key to b1.
    a.learn(await engine.answer('f2', 'a', 'b1', b1.sdp()));
    a.sendRtp(rtpPacket({ seq: 1 }));
    await b1.waitRtp(1);
    b1.sendRtp(rtpPacket({ seq: 9, ssrc: 0x0b1b1b1b }));
    const got = await a.waitRtp(1);
    assert.equal(got[0]!.readUInt32BE(8), 0x0b1b1b1b);
    assert.equal(b1.refused, 0, 'b1 authenticates what the engine sends it with b1\'s own key');
    assert.equal(a.refused, 0);
  });

  it('MUST switch to the winning branch\'s keys when another fork answers after early media', async () => {
    const a = await open({ kind: 'srtp' });
    const b1 = await open({ kind: 'srtp' });
    const b2 = await open({ kind: 'srtp' });
    const caller = a.sdp();
    b1.learn(await engine.offer('f3', 'a', caller, { transport: 'RTP/SAVP', branch: 'b1' }));
    b2.learn(await engine.offer('f3', 'a', caller, { transport: 'RTP/SAVP', branch: 'b2' }));
    await engine.answer('f3', 'a', 'b1', b1.sdp()); // 183 from b1
    a.learn(await engine.answer('f3', 'a', 'b2', b2.sdp())); // 200 from b2
    a.sendRtp(rtpPacket({ seq: 1 }));
    await b2.waitRtp(1);
    assert.equal(b2.refused, 0);
    const stats = await engine.query('f3');
    assert.equal(stats.legs[1]!.tag, 'b2');
  });

  it('MUST refuse an answer from a tag no offer was written for', async () => {
    const a = await open({ kind: 'srtp' });
    const b = await open({ kind: 'srtp' });
    await engine.offer('f4', 'a', a.sdp(), { transport: 'RTP/SAVP', branch: 'b1' });
    await assert.rejects(
      engine.answer('f4', 'a', 'b9', b.sdp()),
      (e: unknown) => e instanceof MediaEngineError && e.code === 'no-pending-offer',
    );
  });

  it('MUST NOT let a forgotten branch answer, and keeps the call for the others', async () => {
    const a = await open({ kind: 'srtp' });
    const b1 = await open({ kind: 'srtp' });
    const b2 = await open({ kind: 'srtp' });
    const caller = a.sdp();
    b1.learn(await engine.offer('f5', 'a', caller, { transport: 'RTP/SAVP', branch: 'b1' }));
    b2.learn(await engine.offer('f5', 'a', caller, { transport: 'RTP/SAVP', branch: 'b2' }));
    await engine.delete('f5', 'b1'); // b1 refused the call (486)
    await assert.rejects(
      engine.answer('f5', 'a', 'b1', b1.sdp()),
      (e: unknown) => e instanceof MediaEngineError && e.code === 'no-pending-offer',
    );
    a.learn(await engine.answer('f5', 'a', 'b2', b2.sdp()));
    a.sendRtp(rtpPacket({ seq: 1 }));
    await b2.waitRtp(1);
    assert.equal(b2.refused, 0);
  });

  it('MUST offer the next branch fresh keys even while the previous one holds early media (failover race)', async () => {
    const a = await open({ kind: 'srtp' });
    const t1 = await open({ kind: 'srtp' });
    const caller = a.sdp();
    const toT1 = await engine.offer('f6', 'a', caller, { transport: 'RTP/SAVP', branch: 'b1' });
    t1.learn(toT1);
    await engine.answer('f6', 'a', 'b1', t1.sdp()); // 183 with SDP, then a 503 whose forget is late
    const toT2 = await engine.offer('f6', 'a', caller, { transport: 'RTP/SAVP', branch: 'b2' });
    const shared = keysOf(toT2).filter((k) => keysOf(toT1).includes(k));
    assert.deepEqual(shared, [], 'the second trunk never sees a key of the first');
  });

  it('MUST keep the key on a re-offer in the same dialog when nothing changed (RFC 4568 §7.1.4)', async () => {
    const a = await open({ kind: 'srtp' });
    const b = await open({ kind: 'srtp' });
    const caller = a.sdp();
    const first = await engine.offer('f7', 'a', caller, { transport: 'RTP/SAVP', branch: 'b1' });
    b.learn(first);
    await engine.answer('f7', 'a', 'b1', b.sdp());
    const again = await engine.offer('f7', 'a', caller, { transport: 'RTP/SAVP' }); // re-INVITE, no branch
    const kept = keysOf(again).filter((k) => keysOf(first).includes(k));
    assert.equal(kept.length, 1, 'the answered suite keeps its key; the others are fresh');
  });
});
