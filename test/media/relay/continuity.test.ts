/** ContinuityRewriter (RFC 3550 §8.2 source change) and the loss estimate (RFC 3550 §A.3). */
import assert from 'node:assert/strict';
import { ContinuityRewriter } from '../../../media/relay';
import { LegCounters } from '../../../media/relay/stats';

function pkt(seq: number, ts: number, ssrc: number): Buffer {
  const p = Buffer.alloc(20);
  p[0] = 0x80;
  p.writeUInt16BE(seq, 2);
  p.writeUInt32BE(ts >>> 0, 4);
  p.writeUInt32BE(ssrc, 8);
  return p;
}

describe('ContinuityRewriter (RFC 3550 §8.2)', () => {
  it('MUST leave packets untouched until the source changes', () => {
    const r = new ContinuityRewriter(8000, () => 0);
    const p = pkt(10, 1000, 7);
    const before = Buffer.from(p);
    assert.equal(r.apply(p), 'forward');
    assert.deepEqual(p, before);
    assert.equal(r.active, false);
  });

  it('MUST continue SSRC, sequence and timestamp on a new source, at the clock rate', () => {
    let now = 0;
    const r = new ContinuityRewriter(48000, () => now);
    r.apply(pkt(65535, 0xffffff00, 1));
    now = 100; // 100 ms at 48 kHz = 4800 ticks
    const p = pkt(4, 77, 2);
    r.apply(p);
    assert.equal(p.readUInt32BE(8), 1);
    assert.equal(p.readUInt16BE(2), 0, 'wraps');
    assert.equal(p.readUInt32BE(4), (0xffffff00 + 4800) >>> 0);
    assert.equal(p[1]! & 0x80, 0x80, 'marker');
    const q = pkt(5, 77 + 960, 2);
    r.apply(q);
    assert.equal(q.readUInt16BE(2), 1);
    assert.equal(q.readUInt32BE(4), (0xffffff00 + 4800 + 960) >>> 0);
    assert.equal(r.reverseSsrc(1), 2);
    assert.equal(r.forwardSsrc(2), 1);
    assert.equal(r.apply(pkt(0, 0, 1)), 'stale-source');
  });

  it('MUST advance the timestamp by at least one tick even with no elapsed time', () => {
    const r = new ContinuityRewriter(8000, () => 0);
    r.apply(pkt(1, 500, 1));
    const p = pkt(9, 9, 2);
    r.apply(p);
    assert.equal(p.readUInt32BE(4), 501);
  });
});

describe('loss estimate (RFC 3550 §A.3)', () => {
  it('MUST count gaps across a sequence wrap, and restart on a new SSRC or a large jump', () => {
    const c = new LegCounters();
    for (const seq of [65530, 65531, 65534, 1, 2]) c.track(9, seq); // lost 65532, 65533, 65535, 0
    assert.equal(c.lost, 4);
    c.track(10, 100);
    c.track(10, 102);
    assert.equal(c.lost, 5);
    c.track(10, 30000); // MAX_DROPOUT exceeded: on probation, not 29897 losses
    assert.equal(c.lost, 5);
    c.track(10, 30001); // the next in sequence confirms it: a restart that keeps the loss so far
    c.track(10, 30003);
    assert.equal(c.lost, 6);
  });

  it('MUST NOT let one stray packet far off the sequence reset the count (§A.1 bad_seq)', () => {
    const c = new LegCounters();
    for (const seq of [100, 101, 103]) c.track(7, seq);
    assert.equal(c.lost, 1);
    c.track(7, 40000); // a stray: neither counted nor a restart
    c.track(7, 104);
    c.track(7, 106);
    assert.equal(c.lost, 2, 'the count goes on: 102 and 105 lost');
    c.track(7, 2); // more than MAX_MISORDER back: also on probation
    c.track(7, 107);
    assert.equal(c.lost, 2);
  });
});
