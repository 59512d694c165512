/**
 * Nonce-count replay table (RFC 7616 §3.4, §5.4; window as RFC 4303 §3.4.3).
 */
import { strict as assert } from 'node:assert';
import { NonceCountTracker } from '../../../gateway/sip/digest/nonce-count';

describe('Digest nonce-count replay protection (RFC 7616 §3.4)', () => {
  let t = 1_000_000;
  const now = (): number => t;
  beforeEach(() => {
    t = 1_000_000;
  });

  it('MUST accept an increasing nc and reject a repeated or lower one (window 0)', () => {
    const tr = new NonceCountTracker({ now });
    assert.equal(tr.use('n', 1, t, t + 300_000), 'fresh');
    assert.equal(tr.use('n', 1, t, t + 300_000), 'replay');
    assert.equal(tr.use('n', 2, t, t + 300_000), 'fresh');
    assert.equal(tr.use('n', 5, t, t + 300_000), 'fresh');
    assert.equal(tr.use('n', 4, t, t + 300_000), 'replay');
    assert.equal(tr.use('n', 5, t, t + 300_000), 'replay');
    assert.equal(tr.use('other', 1, t, t + 300_000), 'fresh');
  });

  it('MUST reject nc values outside 1..ffffffff', () => {
    const tr = new NonceCountTracker({ now });
    assert.equal(tr.use('n', 0, t, t + 1), 'replay');
    assert.equal(tr.use('n', 0x1_0000_0000, t, t + 1), 'replay');
    assert.equal(tr.use('n', 1.5, t, t + 1), 'replay');
  });

  it('MUST accept an unseen lower nc inside the window, once, and nothing below it', () => {
    const tr = new NonceCountTracker({ now, window: 4 });
    assert.equal(tr.use('n', 5, t, t + 300_000), 'fresh');
    assert.equal(tr.use('n', 3, t, t + 300_000), 'fresh'); // reordered
    assert.equal(tr.use('n', 3, t, t + 300_000), 'replay');
    assert.equal(tr.use('n', 2, t, t + 300_000), 'fresh');
    assert.equal(tr.use('n', 1, t, t + 300_000), 'replay'); // 5 - 1 >= window
    assert.equal(tr.use('n', 40, t, t + 300_000), 'fresh'); // shift past 32 bits
    assert.equal(tr.use('n', 39, t, t + 300_000), 'fresh');
    assert.equal(tr.use('n', 40, t, t + 300_000), 'replay');
  });

  it('MUST bound its memory, and never let an evicted nonce be replayed', () => {
    const tr = new NonceCountTracker({ now, maxEntries: 3 });
    for (let i = 0; i < 10; i++) assert.equal(tr.use(`n${i}`, 1, t + i, t + i + 300_000), 'fresh');
    assert.equal(tr.size, 3);
    assert.equal(tr.use('n0', 1, t, t + 300_000), 'evicted'); // would be a replay: history lost
    assert.equal(tr.use('n0', 2, t, t + 300_000), 'evicted');
    assert.equal(tr.use('n9', 1, t + 9, t + 9 + 300_000), 'replay'); // still tracked
    assert.equal(tr.use('new', 1, t + 100, t + 100 + 300_000), 'fresh'); // issued after the evictions
  });

  it('MUST drop entries once their nonce has expired', () => {
    const tr = new NonceCountTracker({ now });
    for (let i = 0; i < 100; i++) tr.use(`n${i}`, 1, t, t + 1000);
    assert.equal(tr.size, 100);
    t += 1001;
    tr.sweep();
    assert.equal(tr.size, 0);
  });

  it('MUST refuse a window outside 0..32', () => {
    assert.throws(() => new NonceCountTracker({ window: 33 }), RangeError);
    assert.throws(() => new NonceCountTracker({ window: -1 }), RangeError);
  });
});
