/**
 * Devices: what a stored message is delivered to, once each.
 *
 * A device is named by its RFC 5626 instance (`+sip.instance`), which stays the same when the UA
 * reconnects and registers a new flow or even a new Contact; a UA without one (no outbound
 * support) is named by its Contact, as the registrar stores it (canonical form, registrar/uri.ts).
 * Several bindings of one instance (RFC 5626 §4.2: one per reg-id, i.e. per flow) are one device.
 *
 * A device's answer decides what becomes of the message for it (RFC 3428 §7, RFC 3261 §21):
 * 2xx delivered; a final refusal that a retry would not change (e.g. 403, 415, 488, 6xx) refused;
 * anything that says "not now" or "not there" (408, 430, 480, 5xx, a timeout, a transport error)
 * is retried later while the message lives.
 */
import type { Binding } from '../registrar/types';

export type DeviceOutcome = 'delivered' | 'refused' | 'retry';

/** Final statuses after which the same request may succeed later. */
const RETRY_STATUSES: ReadonlySet<number> = new Set([408, 430, 480, 486, 491]);

export function outcomeOf(status: number): DeviceOutcome {
  if (status >= 200 && status < 300) return 'delivered';
  if (status >= 500 && status < 600) return 'retry';
  if (RETRY_STATUSES.has(status)) return 'retry';
  return 'refused';
}

/** The device a binding belongs to. */
export function deviceKey(b: Pick<Binding, 'instanceId' | 'contact'>): string {
  return b.instanceId !== undefined ? `instance:${b.instanceId}` : `contact:${b.contact}`;
}

export interface Device {
  readonly key: string;
  /** The binding requests go to: a reachable one when there is one (locate() order otherwise). */
  readonly binding: Binding;
  readonly reachable: boolean;
}

/**
 * The user's devices from its bindings (registrar `locate` order: highest q, newest first). For
 * each device the first reachable binding is used, else its first binding.
 */
export function devicesOf(bindings: readonly Binding[]): Device[] {
  const byKey = new Map<string, Device>();
  for (const b of bindings) {
    const key = deviceKey(b);
    const seen = byKey.get(key);
    if (seen === undefined || (!seen.reachable && b.reachable)) byKey.set(key, { key, binding: b, reachable: b.reachable });
  }
  return [...byKey.values()];
}
