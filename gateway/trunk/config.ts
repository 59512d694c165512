/**
 * The `trunks` configuration key: a list of static peers. Document shape and schema node (for
 * config/schema.ts), resolution into TrunkConfig, and the checks the schema cannot express
 * (checkTrunkConfigs), run again when the TrunkManager is built.
 *
 * Secrets (`password`, `ha1`) are never echoed by configuration errors (config/errors.ts hides
 * values of secret-named keys), and no error below quotes them.
 */
import net from 'node:net';
import type { JSONSchemaType } from 'ajv';
import { TrunkConfigError, type TrunkConfig, type TrunkCredentialsConfig } from './types';

export interface TrunkCredentialsDocument {
  username: string;
  password?: string | null;
  ha1?: string | null;
  ha1Algorithm?: 'MD5' | 'SHA-256' | 'SHA-512-256' | null;
  realm?: string | null;
}

export interface TrunkDocument {
  name: string;
  host: string;
  port?: number | null;
  transport: 'UDP' | 'TCP' | 'TLS';
  serverName?: string | null;
  localAddress?: string | null;
  domain?: string | null;
  numberFormat?: 'e164' | 'digits' | 'national' | null;
  auth?: TrunkCredentialsDocument | null;
  register?: { enabled: boolean; expiresSec?: number | null; user?: string | null } | null;
  inbound?: { addresses?: string[] | null; auth?: TrunkCredentialsDocument | null } | null;
  media?: { srtp?: boolean | null; codecs?: string[] | null; telephoneEvent?: boolean | null } | null;
  keepAlive?: { intervalSec?: number | null; failures?: number | null } | null;
}

// Printable, no quotes/backslashes: these land in quoted-strings (RFC 3261 §25.1) of Authorization.
const quotedText = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^"\\\\\\x00-\\x1f\\x7f]+$' } as const;

function credentialsSchema(): JSONSchemaType<TrunkCredentialsDocument> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['username'],
    properties: {
      username: quotedText,
      password: { type: 'string', minLength: 1, maxLength: 256, nullable: true },
      ha1: { type: 'string', pattern: '^[0-9a-fA-F]{32,64}$', nullable: true, description: 'must be the HA1 in hex' },
      ha1Algorithm: { type: 'string', enum: ['MD5', 'SHA-256', 'SHA-512-256'], nullable: true },
      realm: { ...quotedText, nullable: true },
    },
  };
}

/** Schema node for `trunks`; `ipFormat` is the ajv format name config/schema.ts registers. */
export function trunksSchema(ipFormat: string): JSONSchemaType<TrunkDocument[]> {
  const ip = { type: 'string', format: ipFormat } as const;
  return {
    type: 'array',
    maxItems: 64,
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'host', 'transport'],
      properties: {
        name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$', description: 'must be 1..32 of A-Z a-z 0-9 _ -' },
        host: ip,
        port: { type: 'integer', minimum: 1, maximum: 65535, nullable: true },
        transport: { type: 'string', enum: ['UDP', 'TCP', 'TLS'] },
        serverName: { type: 'string', minLength: 1, maxLength: 253, nullable: true },
        localAddress: { ...ip, nullable: true },
        domain: { type: 'string', pattern: '^[A-Za-z0-9.:\\[\\]-]{1,253}$', nullable: true },
        numberFormat: { type: 'string', enum: ['e164', 'digits', 'national'], nullable: true },
        auth: { ...credentialsSchema(), nullable: true },
        register: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['enabled'],
          properties: {
            enabled: { type: 'boolean' },
            expiresSec: { type: 'integer', minimum: 60, maximum: 86_400, nullable: true },
            user: { type: 'string', pattern: '^[A-Za-z0-9_.+-]{1,64}$', nullable: true },
          },
        },
        inbound: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: [],
          properties: {
            addresses: { type: 'array', items: { type: 'string', minLength: 2, maxLength: 64 }, maxItems: 64, nullable: true },
            auth: { ...credentialsSchema(), nullable: true },
          },
        },
        media: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: [],
          properties: {
            srtp: { type: 'boolean', nullable: true },
            codecs: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,32}$' }, minItems: 1, maxItems: 16, nullable: true },
            telephoneEvent: { type: 'boolean', nullable: true },
          },
        },
        keepAlive: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: [],
          properties: {
            intervalSec: { type: 'integer', minimum: 0, maximum: 3600, nullable: true },
            failures: { type: 'integer', minimum: 1, maximum: 100, nullable: true },
          },
        },
      },
    },
  };
}

function resolveCredentials(c: TrunkCredentialsDocument): TrunkCredentialsConfig {
  return {
    username: c.username,
    ...(c.password != null && { password: c.password }),
    ...(c.ha1 != null && { ha1: c.ha1.toLowerCase() }),
    ...(c.ha1Algorithm != null && { ha1Algorithm: c.ha1Algorithm }),
    ...(c.realm != null && { realm: c.realm }),
  };
}

/** The resolved list: nulls dropped. */
export function resolveTrunks(docs: readonly TrunkDocument[]): TrunkConfig[] {
  return docs.map((d) => ({
    name: d.name,
    host: d.host,
    transport: d.transport,
    ...(d.port != null && { port: d.port }),
    ...(d.serverName != null && { serverName: d.serverName }),
    ...(d.localAddress != null && { localAddress: d.localAddress }),
    ...(d.domain != null && { domain: d.domain }),
    ...(d.numberFormat != null && { numberFormat: d.numberFormat }),
    ...(d.auth != null && { auth: resolveCredentials(d.auth) }),
    ...(d.register != null && {
      register: {
        enabled: d.register.enabled,
        ...(d.register.expiresSec != null && { expiresSec: d.register.expiresSec }),
        ...(d.register.user != null && { user: d.register.user }),
      },
    }),
    ...(d.inbound != null && {
      inbound: {
        ...(d.inbound.addresses != null && { addresses: [...d.inbound.addresses] }),
        ...(d.inbound.auth != null && { auth: resolveCredentials(d.inbound.auth) }),
      },
    }),
    ...(d.media != null && {
      media: {
        ...(d.media.srtp != null && { srtp: d.media.srtp }),
        ...(d.media.codecs != null && { codecs: [...d.media.codecs] }),
        ...(d.media.telephoneEvent != null && { telephoneEvent: d.media.telephoneEvent }),
      },
    }),
    ...(d.keepAlive != null && {
      keepAlive: {
        ...(d.keepAlive.intervalSec != null && { intervalSec: d.keepAlive.intervalSec }),
        ...(d.keepAlive.failures != null && { failures: d.keepAlive.failures }),
      },
    }),
  }));
}

/** `192.0.2.1`, `10.0.0.0/8`, `2001:db8::/32`. */
export function isAddressOrPrefix(entry: string): boolean {
  const slash = entry.indexOf('/');
  const family = net.isIP(slash < 0 ? entry : entry.slice(0, slash));
  if (family === 0) return false;
  if (slash < 0) return true;
  const bits = entry.slice(slash + 1);
  if (bits.length === 0 || bits.length > 3 || ![...bits].every((c) => c >= '0' && c <= '9')) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

function checkCredentials(where: string, c: TrunkCredentialsConfig): void {
  if ((c.password === undefined) === (c.ha1 === undefined)) throw new TrunkConfigError(`${where}: set exactly one of password and ha1`);
  if (c.ha1 !== undefined) {
    if (c.realm === undefined) throw new TrunkConfigError(`${where}: an ha1 is bound to a realm; set realm`);
    const hexLength = (c.ha1Algorithm ?? 'MD5') === 'MD5' ? 32 : 64;
    if (c.ha1.length !== hexLength) throw new TrunkConfigError(`${where}: ha1 must be ${hexLength} hex digits for ${c.ha1Algorithm ?? 'MD5'}`);
  }
}

/** Checks that span keys: unique names, credential forms, SRTP only over TLS, address lists. */
export function checkTrunkConfigs(trunks: readonly TrunkConfig[]): void {
  const names = new Set<string>();
  for (const t of trunks) {
    const where = `trunks ${JSON.stringify(t.name)}`;
    if (names.has(t.name)) throw new TrunkConfigError(`${where}: the name is used twice`);
    names.add(t.name);
    if (net.isIP(t.host) === 0) throw new TrunkConfigError(`${where}: host must be an IP address (no DNS resolution yet)`);
    if (t.auth !== undefined) checkCredentials(`${where} auth`, t.auth);
    if (t.inbound?.auth !== undefined) checkCredentials(`${where} inbound.auth`, t.inbound.auth);
    if (t.register?.enabled === true && t.auth === undefined) throw new TrunkConfigError(`${where}: register needs auth`);
    // RFC 4568 §8.3: SDES keys travel in the SDP; over UDP/TCP anyone on the path reads them.
    if (t.media?.srtp === true && t.transport !== 'TLS') throw new TrunkConfigError(`${where}: media.srtp needs transport TLS (SDES keys travel in SIP)`);
    for (const a of t.inbound?.addresses ?? []) {
      if (!isAddressOrPrefix(a)) throw new TrunkConfigError(`${where}: inbound address ${JSON.stringify(a)} is not an IP address or prefix`);
    }
  }
}
