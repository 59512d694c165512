/** The bench's reading of the engine's queue delay over a window: histogram difference and quantiles. */
import assert from 'node:assert/strict';
import { histogramDelta, histogramQuantile } from '../../bench/queue-delay';

const bounds = [0.001, 0.005, 0.01];

describe('bench/queue-delay', () => {
  it('MUST count only what arrived between the two readings', () => {
    const d = histogramDelta({ boundsSec: bounds, counts: [10, 2, 0, 1], sumSec: 0.05 }, { boundsSec: bounds, counts: [110, 2, 5, 3], sumSec: 0.25 });
    assert.deepEqual(d.counts, [100, 0, 5, 2]);
    assert.ok(Math.abs(d.sumSec - 0.2) < 1e-12);
    assert.throws(() => histogramDelta({ boundsSec: [1], counts: [0, 0], sumSec: 0 }, { boundsSec: bounds, counts: [0, 0, 0, 0], sumSec: 0 }), /different bounds/);
  });

  it('MUST interpolate inside the bucket that holds the quantile, as histogram_quantile does', () => {
    const h = { boundsSec: bounds, counts: [50, 0, 50, 0], sumSec: 0 };
    assert.equal(histogramQuantile(h, 0.5), 0.001); // the 50th of 100 is the last of the first bucket
    // the 99th of 100: 49 of the 50 in (0.005, 0.01]
    assert.ok(Math.abs(histogramQuantile(h, 0.99) - (0.005 + 0.005 * 49 / 50)) < 1e-12);
    assert.ok(Math.abs(histogramQuantile(h, 0.25) - 0.0005) < 1e-12);
  });

  it('MUST give the lower bound of the unbounded bucket, and NaN for an empty window', () => {
    assert.equal(histogramQuantile({ boundsSec: bounds, counts: [1, 0, 0, 99], sumSec: 0 }, 0.99), 0.01);
    assert.ok(Number.isNaN(histogramQuantile({ boundsSec: bounds, counts: [0, 0, 0, 0], sumSec: 0 }, 0.99)));
  });
});
