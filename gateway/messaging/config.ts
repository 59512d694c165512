/**
 * The `messaging` configuration key (RFC 3428 store-and-forward limits): document shape, schema
 * node for config/schema.ts, and its resolution to the service's MessagingLimits (types.ts), which
 * work in milliseconds where the configuration speaks seconds.
 */
import type { JSONSchemaType } from 'ajv';
import type { MessagingLimits } from './types';

export interface MessagingDocument {
  maxBodyBytes: number;
  ttlSec: number;
  maxStoredPerUser: number;
  maxStoredBytesPerUser: number;
  maxStoredBytesTotal: number;
  onlineTimeoutSec: number;
  deliveryWindow: number;
  retryDelaySec: number;
  sweepIntervalSec: number;
  maxGroupMembers: number;
}

const GIB = 1024 * 1024 * 1024;

export const messagingSchema: JSONSchemaType<MessagingDocument> = {
  type: 'object',
  additionalProperties: false,
  required: ['maxBodyBytes', 'ttlSec', 'maxStoredPerUser', 'maxStoredBytesPerUser', 'maxStoredBytesTotal',
    'onlineTimeoutSec', 'deliveryWindow', 'retryDelaySec', 'sweepIntervalSec', 'maxGroupMembers'],
  properties: {
    // A MESSAGE is bounded by sip.limits.maxMessageSize on the wire anyway (RFC 3428 §7: keep them small).
    maxBodyBytes: { type: 'integer', minimum: 1, maximum: 1024 * 1024 },
    // One minute to one year.
    ttlSec: { type: 'integer', minimum: 60, maximum: 366 * 86_400 },
    maxStoredPerUser: { type: 'integer', minimum: 1, maximum: 10_000_000 },
    maxStoredBytesPerUser: { type: 'integer', minimum: 1024, maximum: 64 * GIB },
    maxStoredBytesTotal: { type: 'integer', minimum: 1024, maximum: 1024 * GIB },
    // Must stay inside the sender's Timer F (64*T1 = 32 s by default) to answer it 202 in time.
    onlineTimeoutSec: { type: 'integer', minimum: 1, maximum: 30 },
    deliveryWindow: { type: 'integer', minimum: 1, maximum: 1024 },
    // Longer than Timer F, so a timed-out attempt has ended before the copy goes (types.ts).
    retryDelaySec: { type: 'integer', minimum: 33, maximum: 86_400 },
    sweepIntervalSec: { type: 'integer', minimum: 1, maximum: 86_400 },
    maxGroupMembers: { type: 'integer', minimum: 2, maximum: 100_000 },
  },
};

export function resolveMessaging(doc: MessagingDocument): MessagingLimits {
  return {
    maxBodyBytes: doc.maxBodyBytes,
    ttlMs: doc.ttlSec * 1000,
    maxStoredPerUser: doc.maxStoredPerUser,
    maxStoredBytesPerUser: doc.maxStoredBytesPerUser,
    maxStoredBytesTotal: doc.maxStoredBytesTotal,
    onlineTimeoutMs: doc.onlineTimeoutSec * 1000,
    deliveryWindow: doc.deliveryWindow,
    retryDelayMs: doc.retryDelaySec * 1000,
    sweepIntervalMs: doc.sweepIntervalSec * 1000,
    maxGroupMembers: doc.maxGroupMembers,
  };
}
