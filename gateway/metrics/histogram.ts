/**
 * A Prometheus histogram whose buckets are kept elsewhere (the media relay threads count them,
 * media/relay/io/native/src/udpio.c) and read at scrape time. prom-client's Histogram only takes
 * one observation at a time, so this is a metric object of its own, in the shape prom-client's
 * Registry reads (name, help, type, get()), exposing `_bucket{le=...}` (cumulative), `_sum` and
 * `_count` as the text format requires.
 */
import type { Metric, Registry } from 'prom-client';
import type { QueueDelayHistogram } from '../../media/engine/types';

interface MetricValue {
  readonly value: number;
  readonly labels: Record<string, string>;
  readonly metricName: string;
}

/**
 * Registers the histogram `name` on `registry`; `read` gives it at scrape time (undefined: no series
 * this scrape). The cast: prom-client's types admit only its own four classes, but its Registry
 * reads no more of a registered metric than name, help, type and get() (lib/registry.js,
 * getMetricsAsString/getMetricsAsJSON), which this object has.
 */
export function registerHistogram(registry: Registry, name: string, help: string, read: () => Promise<QueueDelayHistogram | undefined>): void {
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    collect() {},
    reset() {},
    async get() {
      const h = await read().catch(() => undefined);
      const values: MetricValue[] = [];
      if (h !== undefined) {
        let cumulative = 0;
        h.boundsSec.forEach((b, i) => {
          cumulative += h.counts[i] ?? 0;
          // `le`: String() gives the shortest decimal that round-trips (0.0001, 0.25, 1)
          values.push({ metricName: `${name}_bucket`, labels: { le: String(b) }, value: cumulative });
        });
        cumulative += h.counts[h.boundsSec.length] ?? 0;
        values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: cumulative });
        values.push({ metricName: `${name}_sum`, labels: {}, value: h.sumSec });
        values.push({ metricName: `${name}_count`, labels: {}, value: cumulative });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  registry.registerMetric(metric as unknown as Metric);
}
