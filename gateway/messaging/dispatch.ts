/**
 * One message to one recipient account: deliver to its online devices while the sender waits, and
 * store it for the devices that could not take it (RFC 3428 §7: 200 when delivered, 202 when
 * accepted for later delivery).
 *
 * - A device is tried at once when it is reachable and has no stored backlog (a new message never
 *   overtakes older stored ones: it joins the backlog instead, which its queue delivers in order).
 * - Every device registered now (reachable or not) is one the stored message waits for; devices
 *   that answered 2xx or refused it are recorded, so none gets it twice.
 * - Confidential messages and transient indications (isComposing) are never stored: they reach the
 *   devices online now or nobody (480).
 */
import type { UserRecord } from '../store/types';
import { outcomeOf, type Device } from './devices';
import type { Attempt, OutgoingMessage } from './outgoing';
import type { DeviceDelivery, StoredMessageMeta } from './types';

export type RecipientResult =
  /** Every device tried took it (or refused it, with at least one taking it); nothing stored. */
  | { readonly kind: 'delivered' }
  /** Stored (committed to disk) for at least one device. */
  | { readonly kind: 'stored' }
  /** Nobody online for a message that may not be stored. */
  | { readonly kind: 'unavailable' }
  /** Every device refused it: its status. */
  | { readonly kind: 'refused'; readonly status: number }
  /** The recipient's quota of stored messages is used up. */
  | { readonly kind: 'full' }
  /** The store as a whole is full. */
  | { readonly kind: 'overloaded' }
  /** The store write failed. */
  | { readonly kind: 'failed' };

export type StoreOutcome =
  | { readonly kind: 'stored'; readonly meta: StoredMessageMeta; readonly committed: Promise<boolean> }
  | { readonly kind: 'full' | 'overloaded' };

export interface DispatchDeps {
  readonly onlineTimeoutMs: number;
  account(name: string): Promise<UserRecord | undefined>;
  /** The recipient's devices now (devices.ts), empty for a blocked account. */
  devices(user: string): Device[];
  hasBacklog(user: string, device: string): boolean;
  send(device: Device, m: OutgoingMessage, timeoutMs: number): Promise<Attempt>;
  /**
   * Quota check, seal, queue the insert; `committed` resolves true once it is on disk. `tried`:
   * the devices just attempted (one that did not take it is retried later, not at once).
   */
  store(recipient: string, group: string | undefined, m: OutgoingMessage, rows: Map<string, DeviceDelivery>, tried: ReadonlySet<string>): StoreOutcome;
  /** A device answered after its attempt had timed out (the message may have been stored meanwhile). */
  answeredLate(meta: StoredMessageMeta, device: string, status: number): void;
}

export interface Dispatch {
  readonly recipient: string;
  readonly message: OutgoingMessage;
  /** false for confidential messages and transient indications. */
  readonly storable: boolean;
  readonly group?: string;
}

export async function dispatch(d: Dispatch, deps: DispatchDeps): Promise<RecipientResult> {
  const account = await deps.account(d.recipient);
  // Blocked: its stored messages are kept and not delivered; new ones join them.
  const devices = account === undefined || account.state === 'blocked' ? [] : deps.devices(d.recipient);
  const online: Device[] = [];
  const waiting: Device[] = [];
  for (const dev of devices) {
    if (dev.reachable && !(d.storable && deps.hasBacklog(d.recipient, dev.key))) online.push(dev);
    else waiting.push(dev);
  }
  if (!d.storable && online.length === 0) return { kind: 'unavailable' };

  const attempts = await Promise.all(online.map((dev) => deps.send(dev, d.message, deps.onlineTimeoutMs)));
  const rows = new Map<string, DeviceDelivery>();
  let delivered = 0;
  let refusal: number | undefined;
  attempts.forEach((a, i) => {
    const outcome = outcomeOf(a.status);
    if (outcome === 'delivered') delivered++;
    if (outcome === 'refused') refusal = pickRefusal(refusal, a.status);
    rows.set(online[i]!.key, { required: true, state: outcome === 'delivered' ? 'delivered' : outcome === 'refused' ? 'refused' : 'pending' });
  });
  for (const dev of waiting) rows.set(dev.key, { required: true, state: 'pending' });

  const needed = [...rows.values()].some((r) => r.state === 'pending') || rows.size === 0;
  if (!d.storable || !needed) {
    if (delivered > 0) return { kind: 'delivered' };
    if (refusal !== undefined && !needed) return { kind: 'refused', status: refusal };
    return { kind: 'unavailable' };
  }

  const stored = deps.store(d.recipient, d.group, d.message, rows, new Set(online.map((dev) => dev.key)));
  if (stored.kind !== 'stored') return delivered > 0 ? { kind: 'delivered' } : { kind: stored.kind };
  // Answers that arrive after the online timeout settle the stored copy (once it is committed).
  attempts.forEach((a, i) => {
    const key = online[i]!.key;
    if (a.late !== undefined) void a.late.then(async (status) => (await stored.committed) && deps.answeredLate(stored.meta, key, status));
  });
  return (await stored.committed) ? { kind: 'stored' } : delivered > 0 ? { kind: 'delivered' } : { kind: 'failed' };
}

/** RFC 3261 §16.7 in short: a 6xx wins (global), else the first refusal; 401/407 of a device become 403. */
function pickRefusal(current: number | undefined, status: number): number {
  const s = status === 401 || status === 407 ? 403 : status;
  if (current === undefined) return s;
  return current < 600 && s >= 600 ? s : current;
}
