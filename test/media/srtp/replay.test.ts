/** RFC 3711 §3.3.2 replay window and §3.3.1 / Appendix A index estimation, as units. */
import assert from 'node:assert/strict';
import { estimatePacketIndex, MAX_SRTP_INDEX, ReplayWindow, rocOf, SrtpConfigError } from '../../../media/srtp';

describe('RFC 3711 §3.3.2 replay window (replay.ts)', () => {
  it('it MUST refuse a window smaller than 64 packets', () => {
    assert.throws(() => new ReplayWindow(63), SrtpConfigError);
    assert.throws(() => new ReplayWindow(64.5), SrtpConfigError);
    assert.equal(new ReplayWindow(64).size, 64);
    assert.equal(new ReplayWindow(100).size, 128, 'rounded up to whole 32-bit words');
  });

  it('check() MUST NOT change the window', () => {
    const w = new ReplayWindow(64);
    assert.equal(w.check(1000), 'fresh');
    assert.equal(w.check(1000), 'fresh', 'an unaccepted index stays fresh');
    assert.equal(w.highest, -1);
  });

  it('it MUST reject an accepted index and accept unseen ones inside the window', () => {
    const w = new ReplayWindow(64);
    for (const i of [10, 12, 11]) {
      assert.equal(w.check(i), 'fresh');
      w.accept(i);
    }
    assert.equal(w.highest, 12);
    for (const i of [10, 11, 12]) assert.equal(w.check(i), 'replayed', `index ${i}`);
    assert.equal(w.check(9), 'fresh', 'never seen, inside the window');
  });

  it('it MUST reject indices that fell behind the window (highest - i >= size)', () => {
    const w = new ReplayWindow(64);
    w.accept(100);
    assert.equal(w.check(37), 'fresh', '63 behind: still inside');
    assert.equal(w.check(36), 'too-old', '64 behind: outside');
  });

  it('it MUST forget slots that slide out, so a reused slot is not mistaken for a replay', () => {
    const w = new ReplayWindow(64);
    w.accept(0);
    w.accept(1);
    w.accept(65); // slot 1 reused: 1 is now outside the window
    assert.equal(w.check(1), 'too-old');
    assert.equal(w.check(64), 'fresh', 'slot 0 was cleared when the window slid');
    w.accept(64);
    assert.equal(w.check(64), 'replayed');
    w.accept(1000); // a jump larger than the window clears everything
    assert.equal(w.check(999), 'fresh');
    assert.equal(w.check(1000), 'replayed');
  });

  it('it MUST handle 48-bit indices', () => {
    const w = new ReplayWindow(64);
    const big = MAX_SRTP_INDEX - 5;
    w.accept(big);
    assert.equal(w.check(big), 'replayed');
    assert.equal(w.check(big - 1), 'fresh');
    assert.equal(w.check(big + 1), 'fresh');
  });
});

describe('RFC 3711 §3.3.1 / Appendix A index estimation (roc.ts)', () => {
  const idx = (roc: number, seq: number): number => roc * 65536 + seq;

  it('the first packet of a stream MUST get ROC 0', () => {
    assert.equal(estimatePacketIndex(-1, 65000), 65000);
  });
  it('it MUST guess ROC+1 for a small SEQ after a high s_l (wrap)', () => {
    assert.equal(estimatePacketIndex(idx(0, 65530), 3), idx(1, 3));
    assert.equal(estimatePacketIndex(idx(7, 40000), 100), idx(8, 100));
  });
  it('it MUST guess ROC-1 for a high SEQ after a small s_l (late packet from before the wrap)', () => {
    assert.equal(estimatePacketIndex(idx(1, 3), 65534), idx(0, 65534));
  });
  it('it MUST guess ROC for nearby packets either way', () => {
    assert.equal(estimatePacketIndex(idx(2, 1000), 1001), idx(2, 1001));
    assert.equal(estimatePacketIndex(idx(2, 1000), 990), idx(2, 990));
    assert.equal(estimatePacketIndex(idx(2, 40000), 39000), idx(2, 39000));
  });
  it('it MUST return a negative index for ROC-1 when ROC is 0 (the caller rejects it)', () => {
    assert.ok(estimatePacketIndex(idx(0, 10), 65000) < 0);
  });
  it('rocOf MUST take the top 32 bits of the 48-bit index', () => {
    assert.equal(rocOf(idx(0xffffffff, 0xffff)), 0xffffffff);
    assert.equal(rocOf(idx(5, 0)), 5);
  });
});
