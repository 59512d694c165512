/**
 * Secure messaging's public vocabulary (RFC 3428 MESSAGE with store-and-forward): the limits it
 * enforces, the per-device delivery state of a stored message, and its counters.
 */

/** Bounds and timings of the messaging service. Sizes in bytes, times in milliseconds. */
export interface MessagingLimits {
  /** Largest MESSAGE body accepted; larger ones get 413 (RFC 3261 §21.4.11). Default 64 KiB. */
  readonly maxBodyBytes: number;
  /** How long a stored message waits for its devices before it is erased. Default 7 days. */
  readonly ttlMs: number;
  /** Stored messages one recipient may have waiting; beyond it 486 (see service.ts). Default 5,000. */
  readonly maxStoredPerUser: number;
  /** Stored body bytes one recipient may have waiting; beyond it 486. Default 32 MiB. */
  readonly maxStoredBytesPerUser: number;
  /** Stored body bytes for everyone together; beyond it 503 with Retry-After. Default 1 GiB. */
  readonly maxStoredBytesTotal: number;
  /**
   * How long the sender's transaction waits for an online device's answer before the message is
   * stored for that device and the sender gets 202 (well inside the sender's Timer F, 32 s).
   * Default 8 s.
   */
  readonly onlineTimeoutMs: number;
  /** Stored messages in flight to one device at a time (sent in order over its flow). Default 32. */
  readonly deliveryWindow: number;
  /**
   * A device whose delivery failed is tried again after this long, while it stays reachable.
   * Default 40 s: longer than Timer F (64*T1 = 32 s), so an attempt that timed out here has
   * ended for good before the message is sent again (no copy while the first may still land).
   */
  readonly retryDelayMs: number;
  /** Expired messages are erased this often. Default 60 s. */
  readonly sweepIntervalMs: number;
  /** Most members of one group (fan-out bound). Default 500. */
  readonly maxGroupMembers: number;
}

export const DEFAULT_MESSAGING_LIMITS: MessagingLimits = Object.freeze({
  maxBodyBytes: 64 * 1024,
  ttlMs: 7 * 24 * 60 * 60 * 1000,
  maxStoredPerUser: 5_000,
  maxStoredBytesPerUser: 32 * 1024 * 1024,
  maxStoredBytesTotal: 1024 * 1024 * 1024,
  onlineTimeoutMs: 8_000,
  deliveryWindow: 32,
  retryDelayMs: 40_000,
  sweepIntervalMs: 60_000,
  maxGroupMembers: 500,
});

/**
 * Where one device stands with one stored message:
 * - pending: not answered yet (only for devices the message is waiting for);
 * - delivered: the device answered 2xx;
 * - refused: the device answered a final non-2xx that a retry would not change (e.g. 415, 603).
 */
export type DeviceDeliveryState = 'pending' | 'delivered' | 'refused';

export interface DeviceDelivery {
  /**
   * The device was registered when the message arrived (or, when none was, when it was first
   * delivered): the message is kept until every required device has answered.
   */
  required: boolean;
  state: DeviceDeliveryState;
}

/** What the gateway knows about one stored message without opening it. */
export interface StoredMessageMeta {
  /** Arrival order; a recipient's messages are delivered in increasing seq. */
  readonly seq: number;
  /** 128 random bits, base64url; part of the AAD of the sealed envelope. */
  readonly id: string;
  /** The account the message waits for. */
  readonly recipient: string;
  /** The group it was sent to, when it came through one. */
  readonly group?: string;
  /** Body bytes (quota accounting). */
  readonly size: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** device key (devices.ts) → delivery state. */
  readonly devices: Map<string, DeviceDelivery>;
}

/** Counters for metrics; `MessagingService.stats` returns a snapshot. */
export interface MessagingStats {
  /** MESSAGE requests handled (all outcomes, challenges included). */
  requests: number;
  /** 407 challenges sent. */
  challenges: number;
  /** Messages delivered to at least one device while the sender waited (200). */
  deliveredOnline: number;
  /** Messages (per recipient) written to the store (202). */
  stored: number;
  /** Stored messages delivered to a device (2xx), counted per device. */
  deliveredFromStore: number;
  /** Stored messages erased after every device answered. */
  completed: number;
  /** Stored messages erased at TTL expiry. */
  expired: number;
  /** Stored messages erased by destroy-keys / user removal. */
  erased: number;
  /** Confidential messages refused because no device was online (480). */
  confidentialUnavailable: number;
  /** Requests refused with 4xx/5xx other than 407, by status. */
  refused: Record<number, number>;
  /** Store writes that failed. */
  storeFailures: number;
}
