/**
 * What a test endpoint received and no wait took yet, and the waits for it: an arrival goes to the
 * oldest wait it matches, else to the queue, where a later wait finds it. Every wait has a deadline;
 * `close()` fails every wait at once (and every later one that the queue cannot answer).
 */
interface Waiter<T> {
  match: (m: T) => boolean;
  resolve: (m: T) => void;
  reject: (e: Error) => void;
}

export class WaitQueue<T> {
  /** Arrived, not taken (a test may clear it). */
  readonly items: T[] = [];
  private readonly waiters: Waiter<T>[] = [];
  private closedWith: Error | undefined;

  push(m: T): void {
    const w = this.waiters.find((x) => x.match(m));
    if (w) w.resolve(m);
    else this.items.push(m);
  }

  /** The first queued item that matches, or the first to arrive within `timeoutMs`. */
  wait(match: (m: T) => boolean, timeoutMs: number, timeoutError: () => Error): Promise<T> {
    const i = this.items.findIndex(match);
    if (i >= 0) return Promise.resolve(this.items.splice(i, 1)[0]!);
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(t);
        const k = this.waiters.indexOf(w);
        if (k >= 0) this.waiters.splice(k, 1);
      };
      const w: Waiter<T> = {
        match,
        resolve: (m) => {
          settle();
          resolve(m);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      };
      const t = setTimeout(() => w.reject(timeoutError()), timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Nothing more can arrive: every wait fails with `error`. */
  close(error: Error): void {
    this.closedWith = error;
    for (const w of [...this.waiters]) w.reject(error);
  }
}
