/**
 * Per-thread CPU and run state of a process, read from /proc (Linux), for the media benchmarks'
 * single-level runs (`media-bridge --calls=N`): whether the relay threads are busy, idle, or
 * runnable and waiting for a core (state R while using less than a core: CPU-starved).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat and …/task/<tid>/stat (100 on every Linux this runs on). */
export const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** The fields of a /proc …/stat file after the command name: [0] the state, [11] utime, [12] stime (proc(5)). */
function statFields(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** CPU time process `pid` has used (all its threads, user + system), microseconds, from /proc (Linux). */
export function processCpuMicros(pid: number): number {
  const f = statFields(`/proc/${pid}/stat`);
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLOCK_TICKS;
}

export interface ThreadReport {
  readonly tid: number;
  /** CPU used over the sampling, in cores (1 = one core all the time). */
  readonly cpu: number;
  /** Share of the samples in which the thread was running or runnable (state R). */
  readonly runnable: number;
}

interface TaskStat {
  readonly state: string;
  readonly ticks: number;
}

function taskStat(pid: number, tid: string): TaskStat | undefined {
  let f: string[];
  try {
    f = statFields(`/proc/${pid}/task/${tid}/stat`);
  } catch {
    return undefined; // the thread ended
  }
  return { state: f[0]!, ticks: Number(f[11]) + Number(f[12]) };
}

/** Samples every thread of `pid` (but `skip`) every `intervalMs` until stop(). */
export class ThreadSampler {
  private readonly first = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private readonly running = new Map<string, number>();
  private samples = 0;
  private readonly startedAt = process.hrtime.bigint();
  private readonly timer: NodeJS.Timeout;
  private stoppedAt: bigint | undefined;

  constructor(
    private readonly pid: number,
    private readonly skip: number | undefined,
    intervalMs = 10,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Ends the sampling (idempotent). */
  stop(): void {
    if (this.stoppedAt !== undefined) return;
    clearInterval(this.timer);
    this.sample();
    this.stoppedAt = process.hrtime.bigint();
  }

  /** Threads that used at least `minCpu` of a core from start to stop(), busiest first. */
  report(minCpu = 0.05): ThreadReport[] {
    this.stop();
    const seconds = Number(this.stoppedAt! - this.startedAt) / 1e9;
    const out: ThreadReport[] = [];
    for (const [tid, ticks] of this.last) {
      const cpu = (ticks - (this.first.get(tid) ?? ticks)) / CLOCK_TICKS / seconds;
      if (cpu >= minCpu) out.push({ tid: Number(tid), cpu, runnable: (this.running.get(tid) ?? 0) / this.samples });
    }
    return out.sort((a, b) => b.cpu - a.cpu);
  }

  private sample(): void {
    let tids: string[];
    try {
      tids = fs.readdirSync(`/proc/${this.pid}/task`);
    } catch {
      return;
    }
    this.samples++;
    for (const tid of tids) {
      if (Number(tid) === this.skip) continue;
      const s = taskStat(this.pid, tid);
      if (s === undefined) continue;
      if (!this.first.has(tid)) this.first.set(tid, s.ticks);
      this.last.set(tid, s.ticks);
      if (s.state === 'R') this.running.set(tid, (this.running.get(tid) ?? 0) + 1);
    }
  }
}

/** "44% CPU, runnable 83%; …" for a report line. */
export function describeThreads(threads: readonly ThreadReport[]): string {
  return threads.map((t) => `${Math.round(t.cpu * 100)}% CPU, runnable ${Math.round(t.runnable * 100)}%`).join('; ') || 'none busy';
}
