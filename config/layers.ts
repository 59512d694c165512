/**
 * Configuration layers: deep merge, and the two key=value sources (environment, --set) that are
 * resolved against the schema so a typo is reported at once, with the key path the user wrote.
 */
import YAML from 'yaml';
import { ConfigError, formatKeyPath, type SchemaNode } from './errors';

export type Mapping = Record<string, unknown>;

/** Prefix of the generic environment mapping: CIPHERGATE__SIP__TLS_PORT → sip.tlsPort. */
export const ENV_PREFIX = 'CIPHERGATE__';
/** Shorthand for dataDir (wins over CIPHERGATE__DATADIR). */
export const ENV_DATA = 'CIPHERGATE_DATA';

/** Keys that would reach Object.prototype through an assignment; never valid config keys. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Returns base with layer merged over it: mappings merge key by key, anything else (scalars, lists,
 * null) replaces. Neither input is modified.
 */
export function mergeLayer(base: Mapping, layer: Mapping, at: readonly string[] = []): Mapping {
  const out: Mapping = { ...base };
  for (const key of Object.keys(layer)) {
    if (FORBIDDEN_KEYS.has(key)) {
      throw new ConfigError({ where: formatKeyPath([...at, key]), problem: 'unknown key' });
    }
    const next = layer[key];
    const prev = out[key];
    out[key] = isMapping(prev) && isMapping(next) ? mergeLayer(prev, next, [...at, key]) : next;
  }
  return out;
}

/** Builds { a: { b: value } } from ["a", "b"]. */
function nest(path: readonly string[], value: unknown): Mapping {
  let out: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) out = { [path[i]]: out };
  return out as Mapping;
}

/** The schema node one level down, for a known key (exact name) or a map entry. */
function childNode(node: SchemaNode, key: string): SchemaNode | undefined {
  if (FORBIDDEN_KEYS.has(key)) return undefined;
  if (node.type !== 'object') return undefined;
  if (node.properties && Object.prototype.hasOwnProperty.call(node.properties, key)) {
    return node.properties[key];
  }
  return typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
}

/** Env segments match case-insensitively and ignoring "_": TLS_PORT, TLSPORT → tlsPort. */
function canonicalEnvKey(node: SchemaNode, segment: string): string | undefined {
  const wanted = segment.replace(/_/g, '').toLowerCase();
  if (node.type !== 'object' || wanted === '') return undefined;
  for (const key of Object.keys(node.properties ?? {})) {
    if (key.toLowerCase() === wanted) return key;
  }
  // Map entries (e.g. a future trunks.<name>) keep the name as written, lower-cased.
  return typeof node.additionalProperties === 'object' && !FORBIDDEN_KEYS.has(wanted) ? wanted : undefined;
}

/**
 * Parses a command-line or environment value for the node it targets: string keys take the text
 * verbatim (so a domain "123" stays a string), everything else is parsed as YAML so numbers,
 * booleans, null and flow lists/mappings work.
 */
export function parseValue(node: SchemaNode, text: string, where: string): unknown {
  if (node.type === 'string') {
    if (node.nullable && (text === 'null' || text === '~')) return null;
    return text;
  }
  try {
    return YAML.parse(text, { maxAliasCount: 0 }) as unknown;
  } catch {
    throw new ConfigError({ where, problem: `value is not a valid YAML scalar or flow collection` });
  }
}

/** --set dotted.key=value items → one layer. Keys must match the schema exactly (case-sensitive). */
export function layerFromSet(schema: SchemaNode, items: readonly string[]): Mapping {
  let layer: Mapping = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      const shown = item.length > 60 ? `${item.slice(0, 60)}…` : item;
      throw new ConfigError({ where: `--set ${JSON.stringify(shown)}`, problem: 'expected key=value' });
    }
    const path = item.slice(0, eq).split('.');
    let node: SchemaNode | undefined = schema;
    for (let i = 0; i < path.length; i++) {
      node = path[i] === '' ? undefined : childNode(node, path[i]);
      if (!node) throw new ConfigError({ where: formatKeyPath(path.slice(0, i + 1)), problem: 'unknown key' });
    }
    const value = parseValue(node, item.slice(eq + 1), formatKeyPath(path));
    layer = mergeLayer(layer, nest(path, value));
  }
  return layer;
}

/** Environment → one layer: CIPHERGATE__A__B_C=value for key a.bC, plus CIPHERGATE_DATA. */
export function layerFromEnv(schema: SchemaNode, env: NodeJS.ProcessEnv): Mapping {
  let layer: Mapping = {};
  for (const name of Object.keys(env).sort()) {
    const text = env[name];
    if (text === undefined || !name.startsWith(ENV_PREFIX)) continue;
    const segments = name.slice(ENV_PREFIX.length).split('__');
    const path: string[] = [];
    let node: SchemaNode | undefined = schema;
    for (const segment of segments) {
      const key: string | undefined = node ? canonicalEnvKey(node, segment) : undefined;
      node = key === undefined || !node ? undefined : childNode(node, key);
      if (key === undefined || !node) {
        throw new ConfigError({ where: `environment ${name}`, problem: 'unknown key' });
      }
      path.push(key);
    }
    layer = mergeLayer(layer, nest(path, parseValue(node as SchemaNode, text, `environment ${name}`)));
  }
  const data = env[ENV_DATA];
  if (data !== undefined && data !== '') layer = mergeLayer(layer, { dataDir: data });
  return layer;
}
