/**
 * loadConfig: default.yaml < --config FILE < environment < --set, validated against the schema
 * (additionalProperties: false everywhere), cross-checked, resolved and deep-frozen.
 *
 * Environment mapping (one scheme, documented in default.yaml):
 *   CIPHERGATE_DATA=DIR                    → dataDir
 *   CIPHERGATE__<KEY>__<KEY>...=VALUE      → the key path; each level matches case-insensitively and
 *                                            ignoring "_", so CIPHERGATE__SIP__TLS_PORT → sip.tlsPort.
 * Values from the environment and --set are YAML scalars (string-typed keys take the text verbatim).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import YAML from 'yaml';
import { ConfigError, issuesFromAjv, type ConfigIssue, type SchemaNode } from './errors';
import { isMapping, layerFromEnv, layerFromSet, mergeLayer, type Mapping } from './layers';
import { configSchema, FORMAT_HOST, FORMAT_IP, type Config, type ConfigDocument } from './schema';
import { resolveCalls } from '../gateway/b2bua/config';
import { resolveCdr } from '../gateway/cdr/config';
import { resolveMessaging } from '../gateway/messaging/config';
import { checkCallsConfig, resolveRouting } from '../gateway/routing/config';
import { isAddressOrPrefix, resolveTrunks } from '../gateway/trunk/config';

export { ConfigError } from './errors';
export type { ConfigIssue } from './errors';
export type { Config } from './schema';

export interface LoadConfigOptions {
  /** --config FILE: merged over default.yaml. */
  file?: string;
  /** --set items, "dotted.key=value", applied last in order. */
  set?: readonly string[];
  /** Defaults to process.env. Pass {} to ignore the environment (tests). */
  env?: NodeJS.ProcessEnv;
  /** Base for relative dataDir / tls paths. Defaults to process.cwd(). */
  cwd?: string;
}

/** Bound on the upward walk; a real tree is a handful of levels deep. */
const MAX_PARENT_LEVELS = 32;

/**
 * The directory holding package.json, found by walking up from `from` (works both from the sources
 * and from dist/config/load.js).
 */
export function findPackageRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  for (let i = 0; i < MAX_PARENT_LEVELS; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new ConfigError({ where: from, problem: 'cannot find package.json above this directory' });
}

/** Absolute path of the shipped config/default.yaml. */
export function defaultConfigPath(): string {
  return path.join(findPackageRoot(), 'config', 'default.yaml');
}

export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const schemaNode = configSchema as unknown as SchemaNode;

  let doc = readYamlMapping(defaultConfigPath());
  if (opts.file !== undefined) doc = mergeLayer(doc, readYamlMapping(path.resolve(cwd, opts.file)));
  doc = mergeLayer(doc, layerFromEnv(schemaNode, env));
  doc = mergeLayer(doc, layerFromSet(schemaNode, opts.set ?? []));

  const validate = validator();
  if (!validate(doc)) throw new ConfigError(issuesFromAjv(validate.errors ?? []));
  const issues = crossCheck(doc);
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(resolveConfig(doc, cwd));
}

/** Reads a YAML file whose top level must be a mapping (an empty file counts as {}). */
function readYamlMapping(file: string): Mapping {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError({ where: file, problem: `cannot read (${describeFsError(err)})` });
  }
  // uniqueKeys (default): a key written twice is an error, not "last one wins".
  const document = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = document.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    const reason = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError({ where, problem: `bad YAML: ${reason}` });
  }
  const content: unknown = document.toJS({ maxAliasCount: 100 });
  if (content === null || content === undefined) return {};
  if (!isMapping(content)) throw new ConfigError({ where: file, problem: 'top level must be a mapping' });
  return content;
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    default: return code ?? 'unknown error';
  }
}

let compiled: ValidateFunction<ConfigDocument> | undefined;

function validator(): ValidateFunction<ConfigDocument> {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
    ajv.addFormat(FORMAT_IP, (s: string) => net.isIP(s) !== 0);
    ajv.addFormat(FORMAT_HOST, isHostName);
    compiled = ajv.compile(configSchema);
  }
  return compiled;
}

/**
 * A DNS name (RFC 1123 §2.1 labels) or an IP literal. Written as a loop: it is also the certificate
 * CN, so anything that could smuggle "," or "=" into a distinguished name must be refused.
 */
export function isHostName(s: string): boolean {
  if (net.isIP(s) !== 0) return true;
  if (s.length === 0 || s.length > 253) return false;
  for (const label of s.split('.')) {
    if (label.length === 0 || label.length > 63) return false;
    if (label.startsWith('-') || label.endsWith('-')) return false;
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d;
      if (!ok) return false;
    }
  }
  return true;
}

/** Rules that involve more than one key. */
function crossCheck(doc: ConfigDocument): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { media, sip, tls, admin } = doc;
  if (media.portMin > media.portMax) {
    issues.push({ where: 'media.portMin', problem: `must not exceed media.portMax (${media.portMin} > ${media.portMax})` });
  }
  if (sip.timers.t2 < sip.timers.t1) {
    // RFC 3261 §17.1.2.2: T2 caps a back-off that starts at T1.
    issues.push({ where: 'sip.timers.t2', problem: `must be >= sip.timers.t1 (${sip.timers.t2} < ${sip.timers.t1})` });
  }
  if (sip.tlsPort !== 0 && sip.tlsPort === sip.tcpPort) {
    issues.push({ where: 'sip.tlsPort', problem: `must differ from sip.tcpPort (both ${sip.tlsPort})` });
  }
  if (admin.port !== 0 && (admin.port === sip.tcpPort || admin.port === sip.tlsPort)) {
    issues.push({ where: 'admin.port', problem: `must differ from the SIP TCP/TLS ports (${admin.port})` });
  }
  if (tls.cert !== '' && tls.key === '') issues.push({ where: 'tls.key', problem: 'must be set when tls.cert is set' });
  if (tls.key !== '' && tls.cert === '') issues.push({ where: 'tls.cert', problem: 'must be set when tls.key is set' });
  if (tls.requireClientCert && tls.ca === '') {
    // Only certificates that verify against `ca` reach the registrar's fingerprint check.
    issues.push({ where: 'tls.ca', problem: 'must be set when tls.requireClientCert is true' });
  }
  const reg = doc.registrar;
  if (reg.minExpires > reg.maxExpires) {
    issues.push({ where: 'registrar.minExpires', problem: `must not exceed registrar.maxExpires (${reg.minExpires} > ${reg.maxExpires})` });
  }
  if (reg.defaultExpires < reg.minExpires || reg.defaultExpires > reg.maxExpires) {
    issues.push({ where: 'registrar.defaultExpires', problem: 'must lie between registrar.minExpires and registrar.maxExpires' });
  }
  doc.security.ban.exempt.forEach((entry, i) => {
    if (!isAddressOrPrefix(entry)) issues.push({ where: `security.ban.exempt[${i}]`, problem: `${JSON.stringify(entry)} is not an IP address or prefix` });
  });
  if (tls.requestClientCert && tls.rejectUnauthorizedClients && tls.ca === '') {
    // Without a CA bundle Node would verify client certificates against the public web PKI roots,
    // admitting anyone with a certificate for any web site.
    issues.push({ where: 'tls.ca', problem: 'must be set when tls.requestClientCert and tls.rejectUnauthorizedClients are true' });
  }
  if (doc.ops.backup.intervalHours > 0 && doc.ops.backup.keyFile === '') {
    // A scheduled backup has nobody to type a passphrase.
    issues.push({ where: 'ops.backup.keyFile', problem: 'must be set when ops.backup.intervalHours is above 0' });
  }
  issues.push(...checkCallsConfig(doc.routing, doc.trunks));
  return issues;
}

function resolveConfig(doc: ConfigDocument, cwd: string): Config {
  const file = (p: string): string => (p === '' ? '' : path.resolve(cwd, p));
  const hosts = doc.sip.hosts && doc.sip.hosts.length > 0 ? [...doc.sip.hosts] : [doc.sip.host];
  return {
    dataDir: path.resolve(cwd, doc.dataDir),
    sip: {
      host: doc.sip.host,
      hosts,
      udpPort: doc.sip.udpPort,
      tcpPort: doc.sip.tcpPort,
      tlsPort: doc.sip.tlsPort,
      domain: doc.sip.domain,
      realm: doc.sip.realm ?? doc.sip.domain,
      maxConnections: doc.sip.maxConnections,
      maxTransactions: doc.sip.maxTransactions,
      idleTimeoutSec: doc.sip.idleTimeoutSec,
      timers: { ...doc.sip.timers },
      limits: { ...doc.sip.limits },
    },
    tls: { ...doc.tls, cert: file(doc.tls.cert), key: file(doc.tls.key), ca: file(doc.tls.ca) },
    admin: { ...doc.admin },
    media: { ...doc.media },
    log: { ...doc.log },
    registrar: { ...doc.registrar, md5OnlyUserAgents: [...doc.registrar.md5OnlyUserAgents] },
    security: {
      lockout: { ...doc.security.lockout },
      ban: { ...doc.security.ban, exempt: [...doc.security.ban.exempt] },
      scanners: { ...doc.security.scanners, extraUserAgents: [...doc.security.scanners.extraUserAgents] },
    },
    ops: {
      backup: {
        ...doc.ops.backup,
        dir: doc.ops.backup.dir === '' ? path.join(path.resolve(cwd, doc.dataDir), 'backups') : file(doc.ops.backup.dir),
        keyFile: file(doc.ops.backup.keyFile),
      },
      zeroize: { ...doc.ops.zeroize, extraPaths: doc.ops.zeroize.extraPaths.map(file), secretFiles: doc.ops.zeroize.secretFiles.map(file) },
    },
    service: { ...doc.service },
    routing: resolveRouting(doc.routing),
    trunks: resolveTrunks(doc.trunks),
    cdr: resolveCdr(doc.cdr),
    messaging: resolveMessaging(doc.messaging),
    calls: resolveCalls(doc.calls),
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
