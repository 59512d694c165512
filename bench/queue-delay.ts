/**
 * The engine's own queue delay over a benchmark's measured window (media/engine/queue-delay.ts):
 * the difference of two cumulative histograms taken at the window's ends, and its quantiles. It
 * separates what the relay threads add (packets waiting in their sockets) from the loopback hops
 * and the generator, which the end-to-end figure also holds.
 */
import type { QueueDelayHistogram } from '../media/engine';

/** What was counted between `before` and `after` (two readings of the same engine). */
export function histogramDelta(before: QueueDelayHistogram, after: QueueDelayHistogram): QueueDelayHistogram {
  if (before.boundsSec.length !== after.boundsSec.length) throw new RangeError('histograms of different bounds');
  return {
    boundsSec: after.boundsSec,
    counts: after.counts.map((c, i) => c - (before.counts[i] ?? 0)),
    sumSec: after.sumSec - before.sumSec,
  };
}

/**
 * The q-quantile (0 < q < 1) in seconds, interpolated linearly inside its bucket as Prometheus's
 * histogram_quantile does; a quantile in the last, unbounded bucket is its lower bound (a floor,
 * not an estimate). NaN when nothing was counted.
 */
export function histogramQuantile(h: QueueDelayHistogram, q: number): number {
  const total = h.counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i]!;
    if (seen + c >= rank && c > 0) {
      const lower = i === 0 ? 0 : h.boundsSec[i - 1]!;
      if (i >= h.boundsSec.length) return lower;
      return lower + ((h.boundsSec[i]! - lower) * (rank - seen)) / c;
    }
    seen += c;
  }
  return h.boundsSec[h.boundsSec.length - 1]!;
}
