/**
 * How favoured the relay threads of every backend are in a media benchmark, so that ours, rtpengine
 * and the floor run under the same scheduler terms (docs/BENCHMARKS.md, sessions 9 and 12):
 *   - `nice`: a nice value (media.nice; rtpengine --scheduling=other --priority=N; the floor under nice(1));
 *   - `rt`: SCHED_FIFO at that priority (media.scheduling fifo + media.rtPriority; rtpengine
 *     --scheduling=fifo --priority=N; the floor under chrt(1)). The load generator then runs at
 *     SCHED_FIFO `generatorRt` above them: the instrument before the engine, as its nice −10 is
 *     otherwise. Below real-time relays it cannot keep its schedule (session 12: 1.7–2 s behind).
 */
export interface RelayPriority {
  readonly nice?: number;
  readonly rt?: number;
}

/** The generator's SCHED_FIFO priority above relays at `rt`. */
export const generatorRt = (rt: number): number => Math.min(99, rt + 10);

/** rtpengine's options for the same terms as ours. */
export function rtpengineScheduling(p: RelayPriority): string[] {
  if (p.rt !== undefined) return ['--scheduling=fifo', `--priority=${p.rt}`];
  if (p.nice !== undefined) return ['--scheduling=other', `--priority=${p.nice}`];
  return [];
}

/**
 * The command line that starts `argv` under the same terms: chrt(1) sets SCHED_FIFO before it
 * execs, nice(1) a nice value; both exec, so the pid is the program's and its threads inherit it.
 */
export function underPriority(p: RelayPriority, argv: readonly string[]): string[] {
  if (p.rt !== undefined) return ['chrt', '-f', String(p.rt), ...argv];
  if (p.nice !== undefined) return ['nice', '-n', String(p.nice), ...argv];
  return [...argv];
}

/** One line for the results: what the relays ran at. */
export function describePriority(p: RelayPriority): string {
  if (p.rt !== undefined) return `SCHED_FIFO ${p.rt} (generator SCHED_FIFO ${generatorRt(p.rt)})`;
  return p.nice !== undefined ? `nice ${p.nice}` : 'unchanged';
}
