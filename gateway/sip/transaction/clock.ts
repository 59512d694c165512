/**
 * Time source for the transaction layer.
 *
 * Every RFC 3261 §17 timer goes through a `Clock` so the state machines can be driven by a
 * `FakeClock` in tests: a 32 s Timer B is then checked in microseconds, deterministically.
 */

/** Opaque handle of an armed timer. */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds, monotonic for the purpose of the transaction layer. */
  now(): number;
  /** Arms a one-shot timer. A delay below 0 is treated as 0. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  /** Disarms a timer; a no-op when it already fired or was cleared. */
  clearTimer(handle: TimerHandle): void;
}

/** setTimeout's own upper bound (2^31 - 1 ms); longer delays would fire at once. */
const MAX_DELAY_MS = 0x7fffffff;

/**
 * The process clock. Timers are unref'd: a pending retransmission must not keep a stopping
 * gateway alive (the sockets are what keep it running).
 */
export class SystemClock implements Clock {
  private nextId = 0;
  private readonly armed = new Map<number, NodeJS.Timeout>();

  now(): number {
    return performance.now();
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const id = ++this.nextId;
    const delay = Math.min(Math.max(0, delayMs), MAX_DELAY_MS);
    const timeout = setTimeout(() => {
      this.armed.delete(id);
      callback();
    }, delay);
    timeout.unref();
    this.armed.set(id, timeout);
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    const timeout = this.armed.get(handle.id);
    if (timeout === undefined) return;
    clearTimeout(timeout);
    this.armed.delete(handle.id);
  }

  /** Number of armed timers (diagnostics, leak checks). */
  get pending(): number {
    return this.armed.size;
  }
}

/** Thrown by FakeClock.advance when more timers fire than the bound allows (a runaway timer loop). */
export class FakeClockOverrunError extends Error {
  constructor(readonly fired: number) {
    super(`FakeClock: more than ${fired} timers fired in one advance`);
    this.name = 'FakeClockOverrunError';
  }
}

interface FakeTimer {
  due: number;
  seq: number;
  callback: () => void;
}

/**
 * A clock for tests: time moves only through `advance`. Timers fire in due-time order (ties in
 * arming order), and a timer armed by a firing timer fires in the same `advance` if it is due.
 */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { due: this.time + Math.max(0, delayMs), seq: id, callback });
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }

  /** Number of armed timers. */
  get pending(): number {
    return this.timers.size;
  }

  /** Due time of the next timer, if any. */
  nextDue(): number | undefined {
    return this.earliest()?.due;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, and returns how many
   * fired. Throws FakeClockOverrunError after `maxFirings` (a bound, so a test cannot spin).
   */
  advance(ms: number, maxFirings = 10_000): number {
    const end = this.time + Math.max(0, ms);
    let fired = 0;
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.timer.due > end) break;
      if (fired >= maxFirings) throw new FakeClockOverrunError(fired);
      this.timers.delete(next.id);
      this.time = next.timer.due;
      fired++;
      next.timer.callback();
    }
    this.time = end;
    return fired;
  }

  /** Advances until no timer is armed, at most `limitMs`; returns how many fired. */
  runAll(limitMs = 3_600_000, maxFirings = 10_000): number {
    const end = this.time + limitMs;
    let fired = 0;
    for (;;) {
      const due = this.nextDue();
      if (due === undefined || due > end) return fired;
      fired += this.advance(due - this.time, maxFirings - fired);
    }
  }

  private earliest(): { id: number; timer: FakeTimer; due: number } | undefined {
    let best: { id: number; timer: FakeTimer; due: number } | undefined;
    for (const [id, timer] of this.timers) {
      if (best === undefined || timer.due < best.due || (timer.due === best.due && timer.seq < best.timer.seq)) {
        best = { id, timer, due: timer.due };
      }
    }
    return best;
  }
}
