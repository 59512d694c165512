/**
 * What the kernel says of a task's scheduling (proc(5)), for the tests of media.nice,
 * media.scheduling and the benchmark generator's real-time mode.
 */
import fs from 'node:fs';

export interface Sched {
  /** 0 SCHED_OTHER, 1 SCHED_FIFO, 2 SCHED_RR (sched(7)). */
  readonly policy: number;
  /** The real-time priority, 0 outside fifo/rr. */
  readonly priority: number;
}

/** From a stat line: rt_priority is field 40, policy field 41 (the command, field 2, may hold spaces). */
export function schedOf(stat: string): Sched {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' '); // field 3 onwards
  return { priority: Number(fields[40 - 3]), policy: Number(fields[41 - 3]) };
}

/** A thread of this process. */
export function threadSched(thread: number): Sched {
  return schedOf(fs.readFileSync(`/proc/self/task/${thread}/stat`, 'utf8'));
}

/** A process (its main thread). */
export function processSched(pid: number): Sched {
  return schedOf(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** Whether this process may favour a thread: CAP_SYS_NICE (bit 23) in its effective set, root or not. */
export function hasCapSysNice(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m !== null && (BigInt(`0x${m[1]}`) & (1n << 23n)) !== 0n;
}
