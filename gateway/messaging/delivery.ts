/**
 * Delivery of stored messages to one device at a time, in arrival order.
 *
 * A queue per (recipient, device) sends the device's eligible messages in seq order over the flow
 * it registered, up to `window` at once: one flow is one ordered byte stream (TCP/TLS), so the
 * device receives them in order, and the window keeps a long backlog from costing one round trip
 * per message. A queue stops at the first message that is not committed yet (it will be kicked
 * again after the commit), when the device is no longer reachable, and after an answer that says
 * "later" (408, 430, 480, 5xx, a timeout: devices.ts); the host then retries after a delay or at
 * the device's next registration. Messages already in flight are never sent twice by one queue.
 */
import type { Device } from './devices';
import type { Attempt, OutgoingMessage } from './outgoing';
import type { StoredMessageMeta } from './types';
import { outcomeOf } from './devices';
import type { Binding } from '../registrar/types';

export interface QueueHost {
  readonly window: number;
  readonly timeoutMs: number;
  /**
   * The next message after `afterSeq` the device should get, `'wait'` when that message is not
   * committed yet, undefined when there is none.
   */
  next(user: string, device: string, afterSeq: number): StoredMessageMeta | 'wait' | undefined;
  /** The device as registered now, if it is. */
  device(user: string, device: string): Device | undefined;
  /** The message opened for sending, or undefined when it is gone or does not open. */
  open(m: StoredMessageMeta): OutgoingMessage | undefined;
  send(binding: Binding, m: OutgoingMessage, timeoutMs: number): Promise<Attempt>;
  /** A final answer from the device (also a late one after a timeout). */
  answered(m: StoredMessageMeta, device: string, status: number): void;
  /** The queue stopped with messages left that a later attempt may deliver. */
  stalled(user: string, device: string): void;
}

class DeviceQueue {
  private readonly inflight = new Set<number>();
  private cursor = 0;
  private stopped = false;
  private retryLater = false;

  constructor(
    readonly user: string,
    readonly device: string,
    private readonly host: QueueHost,
    private readonly onIdle: (q: DeviceQueue) => void,
  ) {}

  get busy(): boolean {
    return this.inflight.size > 0;
  }

  /** Starts over from the oldest eligible message (a new registration, a retry). */
  restart(): void {
    this.cursor = 0;
    this.retryLater = false;
    this.pump();
  }

  stop(): void {
    this.stopped = true;
  }

  pump(): void {
    // Bounded: each pass dispatches one message or stops; at most `window` in flight.
    while (!this.stopped && !this.retryLater && this.inflight.size < this.host.window) {
      const dev = this.host.device(this.user, this.device);
      if (dev === undefined || !dev.reachable) {
        this.retryLater = true;
        break;
      }
      const m = this.host.next(this.user, this.device, this.cursor);
      if (m === undefined || m === 'wait') break;
      this.cursor = m.seq;
      if (this.inflight.has(m.seq)) continue;
      const out = this.host.open(m);
      if (out === undefined) continue;
      this.inflight.add(m.seq);
      void this.host.send(dev.binding, out, this.host.timeoutMs).then((attempt) => this.done(m, attempt));
    }
    if (this.inflight.size === 0) this.onIdle(this);
  }

  private done(m: StoredMessageMeta, attempt: Attempt): void {
    this.inflight.delete(m.seq);
    this.host.answered(m, this.device, attempt.status);
    if (attempt.late !== undefined) void attempt.late.then((status) => this.host.answered(m, this.device, status));
    if (outcomeOf(attempt.status) === 'retry') this.retryLater = true;
    this.pump();
  }

  /** Whether the queue ended with work left for a later attempt. */
  get wantsRetry(): boolean {
    return this.retryLater && !this.stopped;
  }
}

/** The running queues, at most one per (recipient, device). */
export class DeliveryQueues {
  private readonly queues = new Map<string, DeviceQueue>();

  constructor(private readonly host: QueueHost) {}

  /** Starts (or restarts) delivery to a device. */
  start(user: string, device: string): void {
    const key = `${user}\0${device}`;
    const q = this.queues.get(key);
    if (q !== undefined) {
      q.restart();
      return;
    }
    const created = new DeviceQueue(user, device, this.host, (idle) => this.idle(key, idle));
    this.queues.set(key, created);
    created.pump();
  }

  /** Continues a running queue after new messages were committed (no-op when none runs). */
  continue(user: string, device: string): boolean {
    const q = this.queues.get(`${user}\0${device}`);
    q?.pump();
    return q !== undefined;
  }

  stopUser(user: string): void {
    for (const [key, q] of this.queues) {
      if (q.user !== user) continue;
      q.stop();
      this.queues.delete(key);
    }
  }

  stopAll(): void {
    for (const q of this.queues.values()) q.stop();
    this.queues.clear();
  }

  get size(): number {
    return this.queues.size;
  }

  private idle(key: string, q: DeviceQueue): void {
    if (this.queues.get(key) !== q) return;
    this.queues.delete(key);
    if (q.wantsRetry) this.host.stalled(q.user, q.device);
  }
}
