/**
 * Core pinning for benchmarks whose load generator shares the machine with the server under test,
 * so that a benchmark measures the server's capacity rather than the scheduler's choices. On the
 * 2-vCPU benchmark machine, unpinned runs of the same build vary by up to 2× in server CPU per
 * transaction (docs/BENCHMARKS.md, sip-options, session 3). The server side always gets the last
 * core; the generator side the others.
 * Core counts come from os.cpus(), not availableParallelism(), which shrinks to the pinned set.
 * BENCH_PIN=0 turns it off; without `taskset` (util-linux) or with one core nothing is pinned.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

const serverCore = (): string => String(os.cpus().length - 1);

function generatorCores(): string {
  const cores = os.cpus().length;
  return cores === 2 ? '0' : `0-${cores - 2}`;
}

/** Whether benchmarks pin: BENCH_PIN is not 0, there are two cores or more, and taskset runs. */
export function pinningWanted(): boolean {
  if (process.env.BENCH_PIN === '0' || os.cpus().length < 2) return false;
  return taskset([['-p', String(process.pid)]]);
}

/** Runs each taskset invocation in order; false as soon as one fails. */
function taskset(invocations: ReadonlyArray<readonly string[]>): boolean {
  try {
    for (const args of invocations) execFileSync('taskset', args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A server child process (all its threads) on the server core, this generator on the others. */
export function pinApart(serverPid: number): boolean {
  return pinningWanted() && taskset([['-a', '-pc', serverCore(), String(serverPid)], ['-a', '-pc', generatorCores(), String(process.pid)]]);
}

/**
 * For a gateway running inside this process: its signalling (main) thread gets the server core to
 * itself; every other thread of the process (media workers, libuv and V8 helpers) moves to the
 * generator cores, where the load generators must be started too (onGeneratorCores). A production
 * deployment isolates signalling the same way (docs/BENCHMARKS.md, cps).
 */
export function pinSignallingThread(): boolean {
  // Without -a, taskset sets the thread whose id is the process id: the main thread.
  return pinningWanted() && taskset([['-a', '-pc', generatorCores(), String(process.pid)], ['-pc', serverCore(), String(process.pid)]]);
}

/**
 * For media benchmarks whose load generator is a child process: the generator on the generator
 * cores, this process (and the relay workers and peers it starts afterwards, which inherit its
 * affinity) on the server core. Both engines under comparison thus get one core each, alike.
 */
export function pinGenerator(generatorPid: number): boolean {
  return pinningWanted() && taskset([['-a', '-pc', generatorCores(), String(generatorPid)], ['-a', '-pc', serverCore(), String(process.pid)]]);
}

/** The command and arguments that start `command` on the generator cores when pinned. */
export function onGeneratorCores(pinned: boolean, command: string, args: readonly string[]): [string, string[]] {
  return pinned ? ['taskset', ['-c', generatorCores(), command, ...args]] : [command, [...args]];
}

/** Lets `pid` (all its threads; default this process) run on every core again. */
export function unpinProcess(pid: number = process.pid): boolean {
  return taskset([['-a', '-pc', `0-${os.cpus().length - 1}`, String(pid)]]);
}
