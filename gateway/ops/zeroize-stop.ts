/**
 * Stopping the gateway for zeroize: SIGTERM (a clean stop: the gateway closes the database and
 * removes its run files), a bounded wait, then SIGKILL, a second bounded wait, and a check that the
 * process is really gone. On Windows `process.kill` terminates at once whatever the signal.
 */
import { isLiveProcess } from './pid-file';

export type StopOutcome = 'not-running' | 'stopped' | 'killed' | 'failed';

export interface StopResult {
  readonly pid?: number;
  readonly outcome: StopOutcome;
  /** Milliseconds from SIGTERM until the process was gone. */
  readonly elapsedMs: number;
  /** Why the process could not be stopped (an errno code or "still alive after SIGKILL"). */
  readonly reason?: string;
}

export interface StopOptions {
  /** Wait after SIGTERM before SIGKILL (default 5000). */
  readonly termTimeoutMs?: number;
  /** Wait after SIGKILL before giving up (default 2000). */
  readonly killTimeoutMs?: number;
}

const POLL_MS = 25;

export async function stopProcess(pid: number | undefined, options: StopOptions = {}): Promise<StopResult> {
  if (pid === undefined) return { outcome: 'not-running', elapsedMs: 0 };
  const start = Date.now();
  const elapsed = (): number => Date.now() - start;
  const term = signal(pid, 'SIGTERM');
  if (term === 'ESRCH') return { pid, outcome: 'not-running', elapsedMs: 0 };
  if (term !== undefined) return { pid, outcome: 'failed', elapsedMs: elapsed(), reason: `SIGTERM: ${term}` };
  if (await exited(pid, options.termTimeoutMs ?? 5000)) return { pid, outcome: 'stopped', elapsedMs: elapsed() };

  const kill = signal(pid, 'SIGKILL');
  if (kill === 'ESRCH') return { pid, outcome: 'stopped', elapsedMs: elapsed() };
  if (kill !== undefined) return { pid, outcome: 'failed', elapsedMs: elapsed(), reason: `SIGKILL: ${kill}` };
  if (await exited(pid, options.killTimeoutMs ?? 2000)) return { pid, outcome: 'killed', elapsedMs: elapsed() };
  return { pid, outcome: 'failed', elapsedMs: elapsed(), reason: 'still alive after SIGKILL (uninterruptible I/O?)' };
}

/** undefined when sent, else the errno code. */
function signal(pid: number, sig: NodeJS.Signals): string | undefined {
  try {
    process.kill(pid, sig);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error';
  }
}

/** Polls until the process is gone or `timeoutMs` passed; bounded by the timeout. */
async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isLiveProcess(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return !isLiveProcess(pid);
}
