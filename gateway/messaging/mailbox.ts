/**
 * The stored messages in memory: per recipient in arrival order, with their per-device state and
 * the quota counters. Memory is the authority while the gateway runs; message-store.ts is the
 * durable copy it is rebuilt from at start. Bodies are not here: they stay sealed in the store.
 *
 * The rules of the issue, in one place:
 * - a message goes to every device of its recipient that registers while it lives, once
 *   (`eligible`: no answer from that device yet);
 * - it is kept until every device that was registered when it arrived has answered
 *   (`isSettled`); when none was, the devices registered when it is first delivered take that
 *   role (`requireDevices`), so a message for an offline user reaches all the devices that come
 *   back together, not just the fastest;
 * - a required device whose registration ends (expired, removed) is waited for no longer
 *   (`releaseDevice`); it still gets the message if it registers again in time.
 */
import type { DeviceDelivery, StoredMessageMeta } from './types';

/** Every required device has answered, and at least one device has. */
export function isSettled(m: StoredMessageMeta): boolean {
  let answered = false;
  for (const d of m.devices.values()) {
    if (d.state === 'pending') {
      if (d.required) return false;
    } else {
      answered = true;
    }
  }
  return answered;
}

/** Whether `device` should still get `m` (it has not answered it). */
export function eligible(m: StoredMessageMeta, device: string): boolean {
  const d = m.devices.get(device);
  return d === undefined || d.state === 'pending';
}

class UserMailbox {
  /** Sorted by seq; entries removed from the index are skipped and compacted away. */
  list: StoredMessageMeta[] = [];
  dead = 0;
  count = 0;
  bytes = 0;
}

export class Mailboxes {
  private readonly bySeq = new Map<number, StoredMessageMeta>();
  private readonly byUser = new Map<string, UserMailbox>();
  private bytes = 0;

  get totalCount(): number {
    return this.bySeq.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  countOf(user: string): number {
    return this.byUser.get(user)?.count ?? 0;
  }

  bytesOf(user: string): number {
    return this.byUser.get(user)?.bytes ?? 0;
  }

  get(seq: number): StoredMessageMeta | undefined {
    return this.bySeq.get(seq);
  }

  /** Adds a message; seqs must arrive in increasing order per recipient (they are allocated so). */
  add(m: StoredMessageMeta): void {
    let box = this.byUser.get(m.recipient);
    if (box === undefined) {
      box = new UserMailbox();
      this.byUser.set(m.recipient, box);
    }
    const last = box.list[box.list.length - 1];
    if (last !== undefined && last.seq > m.seq) {
      box.list.splice(upperBound(box.list, m.seq), 0, m);
    } else {
      box.list.push(m);
    }
    this.bySeq.set(m.seq, m);
    box.count++;
    box.bytes += m.size;
    this.bytes += m.size;
  }

  remove(seq: number): StoredMessageMeta | undefined {
    const m = this.bySeq.get(seq);
    if (m === undefined) return undefined;
    this.bySeq.delete(seq);
    const box = this.byUser.get(m.recipient);
    if (box !== undefined) {
      box.count--;
      box.bytes -= m.size;
      box.dead++;
      if (box.count === 0) this.byUser.delete(m.recipient);
      else if (box.dead > 64 && box.dead * 2 > box.list.length) this.compact(box);
    }
    this.bytes -= m.size;
    return m;
  }

  /** The live messages of a recipient, in order. */
  messagesOf(user: string): StoredMessageMeta[] {
    const box = this.byUser.get(user);
    return box === undefined ? [] : box.list.filter((m) => this.bySeq.get(m.seq) === m);
  }

  /** The first live, unexpired message after `afterSeq` that `device` should get. */
  nextFor(user: string, device: string, afterSeq: number, now: number): StoredMessageMeta | undefined {
    const box = this.byUser.get(user);
    if (box === undefined) return undefined;
    for (let i = upperBound(box.list, afterSeq); i < box.list.length; i++) {
      const m = box.list[i]!;
      if (this.bySeq.get(m.seq) === m && m.expiresAt > now && eligible(m, device)) return m;
    }
    return undefined;
  }

  /** Whether `device` has stored messages still to get (new ones must queue behind them). */
  hasBacklog(user: string, device: string, now: number): boolean {
    return this.nextFor(user, device, 0, now) !== undefined;
  }

  /** Messages whose TTL has run out. */
  expired(now: number): StoredMessageMeta[] {
    const out: StoredMessageMeta[] = [];
    for (const m of this.bySeq.values()) if (m.expiresAt <= now) out.push(m);
    return out;
  }

  recipients(): string[] {
    return [...this.byUser.keys()];
  }

  /**
   * For messages of `user` that nobody was registered for at arrival: the devices registered now
   * become the ones they wait for. Returns the rows to persist.
   */
  requireDevices(user: string, devices: readonly string[]): Array<[StoredMessageMeta, string, DeviceDelivery]> {
    const changed: Array<[StoredMessageMeta, string, DeviceDelivery]> = [];
    for (const m of this.messagesOf(user)) {
      let anyRequired = false;
      for (const d of m.devices.values()) if (d.required) anyRequired = true;
      if (anyRequired) continue;
      for (const key of devices) {
        if (m.devices.has(key)) continue;
        const d: DeviceDelivery = { required: true, state: 'pending' };
        m.devices.set(key, d);
        changed.push([m, key, d]);
      }
    }
    return changed;
  }

  /**
   * A device's registration ended: messages stop waiting for it (it stays eligible). Returns the
   * rows to persist and the messages now settled.
   */
  releaseDevice(user: string, device: string): { changed: Array<[StoredMessageMeta, DeviceDelivery]>; settled: StoredMessageMeta[] } {
    const changed: Array<[StoredMessageMeta, DeviceDelivery]> = [];
    const settled: StoredMessageMeta[] = [];
    for (const m of this.messagesOf(user)) {
      const d = m.devices.get(device);
      if (d === undefined || !d.required || d.state !== 'pending') continue;
      d.required = false;
      changed.push([m, d]);
      if (isSettled(m)) settled.push(m);
    }
    return { changed, settled };
  }

  private compact(box: UserMailbox): void {
    box.list = box.list.filter((m) => this.bySeq.get(m.seq) === m);
    box.dead = 0;
  }
}

/** Index of the first element with seq > `seq` (list sorted by seq). */
function upperBound(list: readonly StoredMessageMeta[], seq: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
