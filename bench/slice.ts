/**
 * The scheduling slice (media.sliceUs) for a benchmark's other backends, so that rtpengine and the
 * floor relay run under the same scheduler request as our relay threads: every thread of the
 * process gets it through the socket addon's setSchedSlice (media/relay/io/native/src/sched.c).
 */
import { readdirSync } from 'node:fs';
import { loadUdpIo } from '../media/relay/io/native';

/** Gives every thread of `pid` a slice of `us` µs; how many took it (0 without the addon). */
export function sliceThreads(pid: number, us: number): number {
  const addon = loadUdpIo();
  if (addon === null || us === 0) return 0;
  let set = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0; // gone, or not Linux
  }
  for (const tid of tids) if (addon.setSchedSlice(Number(tid), us) === 0) set++;
  return set;
}
