/**
 * ConfigError and the translation of schema violations into one-line, key-path-first messages:
 *   config: sip.tlsPort: must be an integer 0..65535 (got "abc")
 *   config: sip.tlsPrt: unknown key
 * Values of secret-looking keys are never echoed back.
 */
import type { ErrorObject } from 'ajv';
import { isSecretKey } from '../gateway/log/redact';
import { FORMAT_HOST, FORMAT_IP } from './schema';

/** One problem: where (a key path, file or file:line:col) and what is wrong. */
export interface ConfigIssue {
  readonly where: string;
  readonly problem: string;
}

/** Thrown by loadConfig. `message` has one "config: <where>: <problem>" line per issue. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: ConfigIssue | readonly ConfigIssue[]) {
    const list = Array.isArray(issues) ? [...issues] : [issues as ConfigIssue];
    super(list.map((i) => `config: ${i.where}: ${i.problem}`).join('\n'));
    this.name = 'ConfigError';
    this.issues = list;
  }
}

/** The subset of JSON Schema our schema uses; enough to describe an expectation in words. */
export interface SchemaNode {
  type?: string;
  description?: string;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  format?: string;
  enum?: readonly unknown[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
}

/** ["sip", "hosts", 1] → "sip.hosts[1]". */
export function formatKeyPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number' || /^\d+$/.test(s)) out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

/** "/sip/hosts/1" (ajv instancePath, RFC 6901) → ["sip", "hosts", "1"]. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** What a value of this schema node must look like, as a sentence fragment starting with "must". */
export function describeExpectation(node: SchemaNode): string {
  const orNull = node.nullable ? ' or null' : '';
  if (node.description?.startsWith('must ')) return node.description;
  switch (node.type) {
    case 'integer': {
      const { minimum: min, maximum: max } = node;
      if (min !== undefined && max !== undefined) return `must be an integer ${min}..${max}${orNull}`;
      if (min !== undefined) return `must be an integer >= ${min}${orNull}`;
      return `must be an integer${orNull}`;
    }
    case 'boolean':
      return `must be true or false${orNull}`;
    case 'string':
      if (node.enum) return `must be one of: ${node.enum.join(', ')}`;
      if (node.format === FORMAT_IP) return `must be an IP address literal, e.g. 0.0.0.0 or ::${orNull}`;
      if (node.format === FORMAT_HOST) return `must be a domain name or IP address${orNull}`;
      if (node.maxLength !== undefined) {
        const min = node.minLength ?? 0;
        return `must be a string of ${min}..${node.maxLength} characters${orNull}`;
      }
      return node.minLength ? `must be a non-empty string${orNull}` : `must be a string${orNull}`;
    case 'array': {
      const what = node.items ? describeItems(node.items) : 'values';
      const most = node.maxItems !== undefined ? `at most ${node.maxItems} ` : '';
      const distinct = node.uniqueItems ? 'distinct ' : '';
      return `must be a list of ${most}${distinct}${what}${orNull}`;
    }
    case 'object':
      return `must be a mapping${orNull}`;
    default:
      return 'has an invalid value';
  }
}

function describeItems(items: SchemaNode): string {
  if (items.format === FORMAT_IP) return 'IP address literals';
  if (items.type === 'string') return 'strings';
  if (items.type === 'integer') return 'integers';
  return 'values';
}

/** A short rendering of the offending value; secrets are never echoed. */
export function describeValue(value: unknown, keyName: string | undefined): string {
  if (keyName !== undefined && isSecretKey(keyName)) return 'value hidden';
  if (value === null) return 'got null';
  if (Array.isArray(value)) return 'got a list';
  if (typeof value === 'object') return 'got a mapping';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `got ${JSON.stringify(shown)}`;
  }
  return `got ${String(value)}`;
}

/**
 * Ajv errors (allErrors + verbose) → issues, one per key path, in document order. Ajv reports
 * several keywords for one bad value (type, then minimum...); the first one per path is enough since
 * the message describes the whole expectation anyway.
 */
export function issuesFromAjv(errors: readonly ErrorObject[]): ConfigIssue[] {
  const byPath = new Map<string, ConfigIssue>();
  for (const err of errors) {
    const segments = pointerSegments(err.instancePath);
    if (err.keyword === 'additionalProperties') {
      const extra = String((err.params as { additionalProperty: string }).additionalProperty);
      const where = formatKeyPath([...segments, extra]);
      if (!byPath.has(where)) byPath.set(where, { where, problem: 'unknown key' });
      continue;
    }
    if (err.keyword === 'required') {
      const missing = String((err.params as { missingProperty: string }).missingProperty);
      const where = formatKeyPath([...segments, missing]);
      if (!byPath.has(where)) byPath.set(where, { where, problem: 'missing' });
      continue;
    }
    const where = formatKeyPath(segments);
    if (byPath.has(where)) continue;
    // A "nullable" node fails on `type` with the parent schema describing it; fine for both cases.
    const node = (err.parentSchema ?? {}) as SchemaNode;
    const key = segments.length > 0 ? segments[segments.length - 1] : undefined;
    const problem = `${describeExpectation(node)} (${describeValue(err.data, key)})`;
    byPath.set(where === '' ? '(top level)' : where, { where: where === '' ? '(top level)' : where, problem });
  }
  return [...byPath.values()];
}
