/** The `cdr` configuration key: document shape and schema node (for config/schema.ts). */
import type { JSONSchemaType } from 'ajv';
import type { CdrConfig } from './types';

export interface CdrDocument {
  enabled: boolean;
  retentionDays: number;
  sweepIntervalSec: number;
}

export const cdrSchema: JSONSchemaType<CdrDocument> = {
  type: 'object',
  additionalProperties: false,
  required: ['enabled', 'retentionDays', 'sweepIntervalSec'],
  properties: {
    enabled: { type: 'boolean' },
    // 0 = keep forever; otherwise up to ten years.
    retentionDays: { type: 'integer', minimum: 0, maximum: 3650 },
    sweepIntervalSec: { type: 'integer', minimum: 60, maximum: 86_400 },
  },
};

export function resolveCdr(doc: CdrDocument): CdrConfig {
  return { enabled: doc.enabled, retentionDays: doc.retentionDays, sweepIntervalSec: doc.sweepIntervalSec };
}
