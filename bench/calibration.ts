/**
 * How fast this machine is right now: ns per JSON.parse of a small object. The benchmark VM's speed
 * drifts by up to ~1.8× within a day (504 ns on a quiet morning, 880 ns in a busy afternoon), so
 * every benchmark prints this next to its figures and docs/BENCHMARKS.md compares runs with it.
 */
export function calibrationJsonParseNs(): number {
  const text = JSON.stringify({ a: 1, b: 'hello', c: [1, 2, 3], d: { e: true } });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 100_000; i++) JSON.parse(text);
  return Math.round(Number(process.hrtime.bigint() - t0) / 100_000);
}
