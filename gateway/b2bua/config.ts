/** The `calls` configuration key: document shape, schema node (for config/schema.ts) and resolution. */
import type { JSONSchemaType } from 'ajv';
import type { CallsSettings } from './types';

export interface CallsDocument {
  /** Calls in progress on the whole gateway; 0 = no limit. */
  maxConcurrent: number;
  /** Calls in progress one user takes part in; 0 = no limit. */
  maxPerUser: number;
  /** New INVITEs per second from one source address; 0 = no limit. */
  cpsPerSource: number;
  /** Retry-After of the 503 a refused call gets, seconds. */
  retryAfterSec: number;
  requireTls: boolean;
  requireSrtp: boolean;
  /** The media engine transcodes (PCMU, PCMA, Opus) when the two ends share no codec; false = 488. */
  transcode: boolean;
  ringTimeoutSec: number;
  /** 0 = no limit. */
  maxDurationSec: number;
  sessionTimer: { enabled: boolean; intervalSec: number; minSeSec: number };
  passHeaders: string[];
  /** REFER from a user on a call with a trunk party: blind transfer (RFC 5589 §6); false = 501. */
  transfer: boolean;
}

export const callsSchema: JSONSchemaType<CallsDocument> = {
  type: 'object',
  additionalProperties: false,
  required: ['maxConcurrent', 'maxPerUser', 'cpsPerSource', 'retryAfterSec', 'requireTls', 'requireSrtp', 'transcode', 'ringTimeoutSec',
    'maxDurationSec', 'sessionTimer', 'passHeaders', 'transfer'],
  properties: {
    maxConcurrent: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    maxPerUser: { type: 'integer', minimum: 0, maximum: 10_000 },
    cpsPerSource: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    retryAfterSec: { type: 'integer', minimum: 0, maximum: 3600 },
    requireTls: { type: 'boolean' },
    requireSrtp: { type: 'boolean' },
    transcode: { type: 'boolean' },
    ringTimeoutSec: { type: 'integer', minimum: 1, maximum: 3600 },
    maxDurationSec: { type: 'integer', minimum: 0, maximum: 7 * 86_400 },
    sessionTimer: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled', 'intervalSec', 'minSeSec'],
      properties: {
        enabled: { type: 'boolean' },
        // RFC 4028 §4: Min-SE is never below 90 s.
        intervalSec: { type: 'integer', minimum: 90, maximum: 86_400 },
        minSeSec: { type: 'integer', minimum: 90, maximum: 86_400 },
      },
    },
    // Header names (RFC 3261 token); the topology headers are never passed whatever is listed here.
    passHeaders: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9!%*_+`\'~.-]{1,64}$' }, maxItems: 32, uniqueItems: true },
    transfer: { type: 'boolean' },
  },
};

export function resolveCalls(doc: CallsDocument): CallsSettings {
  return {
    limits: { maxConcurrent: doc.maxConcurrent, maxPerUser: doc.maxPerUser, cpsPerSource: doc.cpsPerSource, retryAfterSec: doc.retryAfterSec },
    requireTls: doc.requireTls,
    requireSrtp: doc.requireSrtp,
    transcode: doc.transcode,
    ringTimeoutSec: doc.ringTimeoutSec,
    maxDurationSec: doc.maxDurationSec,
    sessionTimer: { ...doc.sessionTimer },
    passHeaders: [...doc.passHeaders],
    transfer: doc.transfer,
  };
}
