/**
 * The relay worker threads' scheduling priority: a nice value (media.nice), as rtpengine's
 * `--priority` sets its poller threads', or a real-time policy (media.scheduling), as its
 * `--scheduling=fifo|rr --priority=N` does. On Linux every thread is a task of its own and both
 * are per thread, so a relay thread can be favoured over the rest of the host (and over the
 * signalling thread, which keeps the process's priority). A nice value needs no native call
 * (setpriority(2) on the thread id); a real-time policy does (the I/O addon's src/sched.c). Why it
 * matters: a relay thread that is runnable but waiting for a core leaves its sockets' packets
 * queued, and that wait is the added latency (docs/BENCHMARKS.md, sessions 9 and 12).
 *
 * Favouring a thread needs root or CAP_SYS_NICE (a real-time policy: or an RLIMIT_RTPRIO of at
 * least its priority); a refusal leaves the thread as it was and is reported, never thrown: media
 * still flows.
 */
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { loadUdpIo, udpIoFault, type NativeUdpIoAddon } from './io/native';

export type NiceResult =
  | { readonly ok: true; readonly thread: number; readonly nice: number }
  | { readonly ok: false; readonly reason: string };

/** The calling thread's kernel id (its task id), or undefined where /proc/thread-self is not. */
export function currentThreadId(): number | undefined {
  try {
    // "<pid>/task/<tid>" (proc(5), Linux 3.17+)
    const m = /\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Gives the calling thread the nice value `nice` (-20..19). */
export function setThreadNice(nice: number): NiceResult {
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) return { ok: false, reason: 'nice must be an integer from -20 to 19' };
  const thread = currentThreadId();
  if (thread === undefined) return { ok: false, reason: 'per-thread priority needs Linux (/proc/thread-self)' };
  try {
    os.setPriority(thread, nice);
  } catch (e) {
    // os.setPriority throws ERR_SYSTEM_ERROR with the errno's name in info.code; libuv reports EPERM as EACCES
    const code = (e as { info?: { code?: string } }).info?.code ?? (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return { ok: false, reason: 'permission denied: a nice value below the process\'s needs root or CAP_SYS_NICE' };
    return { ok: false, reason: code ?? 'setpriority failed' };
  }
  return { ok: true, thread, nice: os.getPriority(thread) };
}

export type RealtimePolicy = 'fifo' | 'rr';

export type RealtimeResult =
  | { readonly ok: true; readonly thread: number; readonly policy: RealtimePolicy; readonly priority: number }
  | { readonly ok: false; readonly reason: string };

/**
 * Puts the calling thread under a real-time policy (sched(7)): SCHED_FIFO or SCHED_RR at `priority`
 * 1..99. A real-time thread is never made to wait for a fair-scheduled one: a relay thread woken by
 * a packet runs at once, instead of queueing behind whatever holds its core (docs/DESIGN.md
 * "Relay thread scheduling"). Node has no call for it; the I/O addon has (src/sched.c). Needs root,
 * CAP_SYS_NICE or RLIMIT_RTPRIO ≥ priority; a refusal leaves the thread as it was and is reported.
 */
export function setThreadRealtime(policy: RealtimePolicy, priority: number, addon: Pick<NativeUdpIoAddon, 'setRealtime' | 'threadScheduling'> | null = loadUdpIo()): RealtimeResult {
  if (policy !== 'fifo' && policy !== 'rr') return { ok: false, reason: 'policy must be fifo or rr' };
  if (!Number.isInteger(priority) || priority < 1 || priority > 99) return { ok: false, reason: 'priority must be an integer from 1 to 99' };
  const thread = currentThreadId();
  if (thread === undefined) return { ok: false, reason: 'per-thread scheduling needs Linux (/proc/thread-self)' };
  if (!addon) return { ok: false, reason: `needs the native I/O addon: ${udpIoFault() ?? 'not loaded'}` };
  const err = addon.setRealtime(policy, priority);
  if (err === os.constants.errno.EPERM) {
    // systemd's RestrictRealtime=yes refuses it with EPERM too, whatever the privileges
    return { ok: false, reason: `permission denied: a real-time policy needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO of at least ${priority} (under systemd also RestrictRealtime=no)` };
  }
  if (err !== 0) return { ok: false, reason: errnoName(err) };
  const now = addon.threadScheduling();
  if (now.policy !== policy || now.priority !== priority) return { ok: false, reason: `the thread reads back ${now.policy} ${now.priority}` };
  return { ok: true, thread, policy, priority };
}

function errnoName(err: number): string {
  for (const [name, value] of Object.entries(os.constants.errno)) if (value === err) return name;
  return `errno ${err}`;
}
