/**
 * Pins a server process (all its threads) to one core and this load generator to the others, so
 * that a benchmark measures the server's one-core capacity rather than the scheduler's choices.
 * On the 2-vCPU benchmark machine, unpinned runs of the same build vary by up to 2× in server CPU
 * per transaction (docs/BENCHMARKS.md, sip-options, session 3); pinned runs do not.
 * Core counts come from os.cpus(), not availableParallelism(), which shrinks to the pinned set.
 * BENCH_PIN=0 turns it off; without `taskset` (util-linux) or with one core it does nothing.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** Whether the last pinApart() call pinned anything (reported with the results). */
export function pinApart(serverPid: number): boolean {
  const cores = os.cpus().length;
  if (process.env.BENCH_PIN === '0' || cores < 2) return false;
  const server = String(cores - 1);
  const generator = generatorCores(cores);
  try {
    execFileSync('taskset', ['-a', '-pc', server, String(serverPid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-a', '-pc', generator, String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Lets this process run on every core again (after a pinned phase). */
export function unpin(): void {
  unpinProcess(process.pid);
}

/**
 * For a gateway running inside this process: its signalling (main) thread gets the last core to
 * itself; every other thread of the process (media workers, libuv and V8 helpers) moves to the
 * others, where the load generators must be started too (`spawnPinned`). A production deployment
 * isolates signalling the same way (docs/BENCHMARKS.md, cps). Returns false when nothing was pinned.
 */
export function pinSignallingThread(): boolean {
  const cores = os.cpus().length;
  if (!pinningWanted()) return false;
  try {
    execFileSync('taskset', ['-a', '-pc', generatorCores(cores), String(process.pid)], { stdio: 'ignore' });
    // Without -a, taskset sets the thread whose id is the process id: the main thread.
    execFileSync('taskset', ['-pc', String(cores - 1), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether benchmarks pin: BENCH_PIN is not 0, there are two cores or more, and taskset runs. */
export function pinningWanted(): boolean {
  if (process.env.BENCH_PIN === '0' || os.cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The command and arguments that start `command` on the load generator's cores when pinned. */
export function onGeneratorCores(pinned: boolean, command: string, args: readonly string[]): [string, string[]] {
  return pinned ? ['taskset', ['-c', generatorCores(os.cpus().length), command, ...args]] : [command, [...args]];
}

function generatorCores(cores: number): string {
  return cores === 2 ? '0' : `0-${cores - 2}`;
}

/**
 * For media benchmarks whose load generator is a child process: the generator gets the first
 * cores, this process (and the relay workers and peers it starts afterwards, which inherit its
 * affinity) the last one. Both engines under comparison thus get one core each, alike.
 */
export function pinGenerator(generatorPid: number): boolean {
  const cores = os.cpus().length;
  if (!pinningWanted()) return false;
  try {
    execFileSync('taskset', ['-a', '-pc', generatorCores(cores), String(generatorPid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-a', '-pc', String(cores - 1), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Lets `pid` (all its threads) run on every core again; false when it could not. */
export function unpinProcess(pid: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-pc', `0-${os.cpus().length - 1}`, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
