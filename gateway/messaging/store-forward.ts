/**
 * The life of a stored message: admitted (quota), sealed, committed (before its 202), delivered to
 * each device from that device's queue in order, settled and erased — or expired, or erased with
 * the user's keys. It ties the in-memory index (mailbox.ts), the durable copy (message-store.ts),
 * the sealing (envelope.ts) and the delivery queues (delivery.ts) together, and reacts to the
 * registrar: a device registered (it gets its backlog), a registration ended (it is no longer
 * waited for), a user blocked (its queues stop; its messages stay).
 */
import type { Logger } from '../log/logger';
import type { Binding, UnregisterReason } from '../registrar/types';
import type { UserRecord } from '../store/types';
import { DeliveryQueues } from './delivery';
import { deviceKey, outcomeOf, type Device } from './devices';
import type { StoreOutcome } from './dispatch';
import type { EnvelopeSealer } from './envelope';
import { isSettled, Mailboxes } from './mailbox';
import type { MessageStore } from './message-store';
import type { DeviceSender, OutgoingMessage } from './outgoing';
import { RandomPool } from './random';
import type { DeviceDelivery, MessagingLimits, MessagingStats, StoredMessageMeta } from './types';

/** Why a stored message left the store. */
export type RemovalReason = 'completed' | 'expired' | 'erased';

export interface StoreAndForwardOptions {
  readonly limits: MessagingLimits;
  readonly store: MessageStore;
  readonly sealer: EnvelopeSealer;
  readonly sender: DeviceSender;
  readonly counts: MessagingStats;
  readonly log: Logger;
  now(): number;
  /** The user's devices as registered now. */
  devicesOf(user: string): Device[];
  /** The account as stored now (never cached: a block must stop delivery at once). */
  account(name: string): Promise<UserRecord | undefined>;
  stored(recipient: string, seq: number): void;
  removed(recipient: string, seq: number, reason: RemovalReason): void;
}

export class StoreAndForward {
  private readonly mailboxes = new Mailboxes();
  private readonly queues: DeliveryQueues;
  private readonly uncommitted = new Set<number>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly ids = new RandomPool();
  private nextSeq = 1;
  private closed = false;

  constructor(private readonly o: StoreAndForwardOptions) {
    this.queues = new DeliveryQueues({
      window: o.limits.deliveryWindow,
      timeoutMs: o.limits.onlineTimeoutMs,
      next: (user, device, after) => {
        const m = this.mailboxes.nextFor(user, device, after, o.now());
        return m !== undefined && this.uncommitted.has(m.seq) ? 'wait' : m;
      },
      device: (user, device) => o.devicesOf(user).find((d) => d.key === device),
      open: (m) => this.open(m),
      send: (binding, m, timeoutMs) => o.sender.send(binding, m, timeoutMs),
      answered: (m, device, status) => this.answered(m, device, status),
      stalled: (user, device) => this.retryLater(user, device),
    });
  }

  /** Rebuilds the index from the store (at start); messages settled before a crash are erased. */
  load(): void {
    for (const m of this.o.store.loadAll()) {
      this.nextSeq = Math.max(this.nextSeq, m.seq + 1);
      this.mailboxes.add(m);
      if (isSettled(m)) this.remove(m, 'completed');
    }
    this.nextSeq = Math.max(this.nextSeq, this.o.store.maxSeq() + 1);
  }

  close(): void {
    this.closed = true;
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    this.queues.stopAll();
    this.o.store.close();
  }

  count(user?: string): number {
    return user === undefined ? this.mailboxes.totalCount : this.mailboxes.countOf(user);
  }

  get activeQueues(): number {
    return this.queues.size;
  }

  hasBacklog(user: string, device: string): boolean {
    return this.mailboxes.hasBacklog(user, device, this.o.now());
  }

  /**
   * Quota, seal, queue the durable insert. The message joins the index at once (quota, and later
   * messages queue behind it) and is delivered only once committed. `tried`: devices just attempted
   * online; one that did not take it is retried after retryDelayMs, not at once.
   */
  admit(recipient: string, group: string | undefined, m: OutgoingMessage, rows: Map<string, DeviceDelivery>, tried: ReadonlySet<string>): StoreOutcome {
    const size = m.body.length;
    const l = this.o.limits;
    if (this.mailboxes.totalBytes + size > l.maxStoredBytesTotal) return { kind: 'overloaded' };
    if (this.mailboxes.countOf(recipient) + 1 > l.maxStoredPerUser || this.mailboxes.bytesOf(recipient) + size > l.maxStoredBytesPerUser) {
      return { kind: 'full' };
    }
    const now = this.o.now();
    const meta: StoredMessageMeta = {
      seq: this.nextSeq++, id: this.ids.token(16), recipient, ...(group !== undefined && { group }),
      size, createdAt: now, expiresAt: now + l.ttlMs, devices: rows,
    };
    const sealed = this.o.sealer.seal(meta.id, recipient, {
      sender: m.sender, senderDisplay: m.senderDisplay, target: m.target, contentType: m.contentType, body: m.body,
    });
    this.mailboxes.add(meta);
    this.uncommitted.add(meta.seq);
    const committed = this.o.store.insert(meta, sealed).then(
      () => {
        this.uncommitted.delete(meta.seq);
        this.o.counts.stored++;
        this.o.stored(recipient, meta.seq);
        this.kickReachable(recipient, meta, tried);
        return true;
      },
      () => {
        this.uncommitted.delete(meta.seq);
        this.mailboxes.remove(meta.seq);
        return false;
      },
    );
    return { kind: 'stored', meta, committed };
  }

  /** A device's final answer to a stored message (from its queue, or late after an online attempt). */
  answered(m: StoredMessageMeta, device: string, status: number): void {
    if (this.mailboxes.get(m.seq) !== m) return;
    const outcome = outcomeOf(status);
    if (outcome === 'retry') return;
    const prev = m.devices.get(device);
    if (prev !== undefined && prev.state !== 'pending') return;
    const d: DeviceDelivery = { required: prev?.required ?? false, state: outcome === 'delivered' ? 'delivered' : 'refused' };
    m.devices.set(device, d);
    if (outcome === 'delivered') this.o.counts.deliveredFromStore++;
    if (isSettled(m)) this.remove(m, 'completed');
    else this.o.store.setDevice(m.seq, device, d);
  }

  /** Registrar: a device registered (or refreshed): it gets its backlog, in order. */
  deviceRegistered(b: Binding): void {
    if (this.closed || this.mailboxes.countOf(b.user) === 0) return;
    const keys = this.o.devicesOf(b.user).map((d) => d.key);
    for (const [m, key, d] of this.mailboxes.requireDevices(b.user, keys)) this.o.store.setDevice(m.seq, key, d);
    void this.kick(b.user, deviceKey(b));
  }

  /** Registrar: a registration ended. Messages stop waiting for a device that is gone for good. */
  deviceGone(b: Binding, reason: UnregisterReason): void {
    if (reason === 'blocked' || reason === 'replaced' || this.mailboxes.countOf(b.user) === 0) return;
    const key = deviceKey(b);
    if (this.o.devicesOf(b.user).some((d) => d.key === key)) return; // another binding of the same device lives
    const { changed, settled } = this.mailboxes.releaseDevice(b.user, key);
    for (const [m, d] of changed) if (!settled.includes(m)) this.o.store.setDevice(m.seq, key, d);
    for (const m of settled) this.remove(m, 'completed');
  }

  /** Registrar: the user was blocked. Its deliveries stop; its messages stay. */
  stopUser(name: string): void {
    this.queues.stopUser(name);
  }

  /** Erases every message waiting for `name` now (zeroed, deleted, WAL truncated); returns how many. */
  erase(name: string): number {
    this.queues.stopUser(name);
    const gone = this.mailboxes.messagesOf(name);
    for (const m of gone) this.mailboxes.remove(m.seq);
    const n = this.o.store.eraseRecipient(name);
    this.o.counts.erased += n;
    for (const m of gone) this.o.removed(name, m.seq, 'erased');
    return n;
  }

  /** Erases the messages whose TTL ran out; returns how many. */
  sweep(): number {
    const expired = this.mailboxes.expired(this.o.now());
    for (const m of expired) this.remove(m, 'expired');
    return expired.length;
  }

  private kickReachable(recipient: string, meta: StoredMessageMeta, tried: ReadonlySet<string>): void {
    for (const dev of this.o.devicesOf(recipient)) {
      const state = meta.devices.get(dev.key)?.state;
      if (!dev.reachable || state === 'delivered' || state === 'refused') continue;
      if (tried.has(dev.key)) this.retryLater(recipient, dev.key);
      else if (!this.queues.continue(recipient, dev.key)) void this.kick(recipient, dev.key);
    }
  }

  /** Starts delivery to a device unless its account is blocked (kept, not delivered). */
  private async kick(user: string, device: string): Promise<void> {
    if (this.closed || this.mailboxes.countOf(user) === 0) return;
    const account = await this.o.account(user);
    if (this.closed || account === undefined || account.state === 'blocked') return;
    this.queues.start(user, device);
  }

  private retryLater(user: string, device: string): void {
    const key = `${user}\0${device}`;
    if (this.closed || this.retryTimers.has(key)) return;
    const t = setTimeout(() => {
      this.retryTimers.delete(key);
      if (this.o.devicesOf(user).some((d) => d.key === device && d.reachable)) void this.kick(user, device);
    }, this.o.limits.retryDelayMs);
    t.unref();
    this.retryTimers.set(key, t);
  }

  private remove(m: StoredMessageMeta, reason: RemovalReason): void {
    if (this.mailboxes.remove(m.seq) === undefined) return;
    this.o.store.remove(m.seq);
    if (reason === 'completed') this.o.counts.completed++;
    else if (reason === 'expired') this.o.counts.expired++;
    this.o.removed(m.recipient, m.seq, reason);
  }

  /** The stored message ready to send, or undefined when gone or it does not open (logged, never the content). */
  private open(m: StoredMessageMeta): OutgoingMessage | undefined {
    const sealed = this.o.store.readSealed(m.seq);
    if (sealed === undefined) return undefined;
    try {
      const e = this.o.sealer.open(m.id, m.recipient, sealed);
      return { sender: e.sender, senderDisplay: e.senderDisplay, target: e.target, contentType: e.contentType, body: e.body, storedAt: m.createdAt, confidential: false };
    } catch (err) {
      this.o.log.error('stored message does not open; erased', { seq: m.seq, error: err instanceof Error ? err.name : 'error' });
      this.remove(m, 'erased');
      return undefined;
    }
  }
}
