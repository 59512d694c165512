/**
 * The `routing` configuration key: its document shape, schema node (for config/schema.ts) and
 * resolution into RoutingConfig. Cross-checks that need the trunks (names exist) run when the
 * Router is built; the numbering plan is checked there too (checkNumberingPlan).
 */
import type { JSONSchemaType } from 'ajv';
import { checkTrunkConfigs, resolveTrunks, type TrunkDocument } from '../trunk/config';
import { TrunkConfigError } from '../trunk/types';
import { DialPlan } from './dial-plan';
import { checkNumberingPlan } from './number';
import { RoutingConfigError, type RoutingConfig } from './types';

export interface ShortCodeDocument {
  code: string;
  trunks: string[];
  emergency?: boolean | null;
  number?: string | null;
}

export interface DialRuleDocument {
  name: string;
  prefix?: string | null;
  pattern?: string | null;
  trunks: string[];
}

export interface RoutingDocument {
  countryCode: string;
  nationalPrefix: string;
  internationalPrefix: string;
  minDigits: number;
  shortCodes: ShortCodeDocument[];
  rules: DialRuleDocument[];
}

const trunkNames = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 32 }, minItems: 1, maxItems: 16 } as const;
// Anchored, one bounded character class each: linear-time checks (no backtracking).
const digits = (min: number, max: number) => ({ type: 'string', pattern: `^[0-9]{${min},${max}}$` }) as const;

export const routingSchema: JSONSchemaType<RoutingDocument> = {
  type: 'object',
  additionalProperties: false,
  required: ['countryCode', 'nationalPrefix', 'internationalPrefix', 'minDigits', 'shortCodes', 'rules'],
  properties: {
    countryCode: { ...digits(1, 3), description: 'must be 1..3 digits (E.164 country code)' },
    nationalPrefix: { ...digits(0, 4), description: 'must be 0..4 digits' },
    internationalPrefix: { ...digits(0, 4), description: 'must be 0..4 digits' },
    minDigits: { type: 'integer', minimum: 1, maximum: 15 },
    shortCodes: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'trunks'],
        properties: {
          code: { type: 'string', pattern: '^[0-9*#]{1,15}$', description: 'must be 1..15 of 0-9 * #' },
          trunks: trunkNames,
          emergency: { type: 'boolean', nullable: true },
          number: { type: 'string', pattern: '^[+]?[0-9*#]{1,15}$', nullable: true },
        },
      },
    },
    rules: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'trunks'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 64 },
          prefix: { type: 'string', pattern: '^[+][0-9]{0,15}$', nullable: true, description: 'must be + then up to 15 digits' },
          pattern: { type: 'string', minLength: 1, maxLength: 128, nullable: true },
          trunks: trunkNames,
        },
      },
    },
  },
};

/** The resolved value: nulls dropped, lists copied. */
export function resolveRouting(doc: RoutingDocument): RoutingConfig {
  return {
    countryCode: doc.countryCode,
    nationalPrefix: doc.nationalPrefix,
    internationalPrefix: doc.internationalPrefix,
    minDigits: doc.minDigits,
    shortCodes: doc.shortCodes.map((c) => ({
      code: c.code,
      trunks: [...c.trunks],
      ...(c.emergency != null && { emergency: c.emergency }),
      ...(c.number != null && { number: c.number }),
    })),
    rules: doc.rules.map((r) => ({
      name: r.name,
      ...(r.prefix != null && { prefix: r.prefix }),
      ...(r.pattern != null && { pattern: r.pattern }),
      trunks: [...r.trunks],
    })),
  };
}

/** One configuration problem, in config/errors.ts terms. */
export interface CallsConfigIssue {
  readonly where: string;
  readonly problem: string;
}

/**
 * Checks of `routing` and `trunks` the schema cannot express (for config/load.ts crossCheck):
 * trunk credentials and names, the numbering plan, rule patterns and the trunk names rules use.
 */
export function checkCallsConfig(routing: RoutingDocument, trunks: readonly TrunkDocument[]): CallsConfigIssue[] {
  const issues: CallsConfigIssue[] = [];
  const problem = (where: string, err: unknown): void => {
    if (err instanceof RoutingConfigError || err instanceof TrunkConfigError) issues.push({ where, problem: err.message });
    else throw err;
  };
  try {
    checkTrunkConfigs(resolveTrunks(trunks));
  } catch (err) {
    problem('trunks', err);
  }
  const resolved = resolveRouting(routing);
  try {
    checkNumberingPlan(resolved);
    const names = new Set(trunks.map((t) => t.name));
    new DialPlan<string>(resolved, (name) => (names.has(name) ? name : undefined));
  } catch (err) {
    problem('routing', err);
  }
  return issues;
}
