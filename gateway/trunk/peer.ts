/**
 * One trunk: its resolved configuration, its live state, and the credentials it holds.
 *
 * Credentials stay inside: the outbound ones in a DigestClient (which keeps them in #private
 * fields), the inbound ones in a #private lookup. Nothing enumerable on a TrunkPeer is secret,
 * so logging or inspecting one cannot leak a password or an HA1.
 */
import { BlockList, isIP } from 'node:net';
import { computeHA1, DigestClient, type DigestHash } from '../sip/digest';
import { defaultPort } from '../sip/transaction/via';
import type { Endpoint, SendTarget, TransportProtocol } from '../sip/transport/types';
import type { NumberFormat, Trunk, TrunkConfig, TrunkCredentialsConfig, TrunkInboundPolicy, TrunkMediaPolicy, TrunkStatus } from './types';

export const DEFAULT_CODECS: readonly string[] = Object.freeze(['PCMA', 'PCMU']);
export const DEFAULT_KEEPALIVE_SEC = 30;
export const DEFAULT_KEEPALIVE_FAILURES = 3;
export const DEFAULT_REGISTER_EXPIRES_SEC = 600;

/** `::ffff:192.0.2.1` (a dual-stack socket's view of an IPv4 peer) → `192.0.2.1`; brackets and zone dropped. */
export function plainAddress(address: string): string {
  let a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const pct = a.indexOf('%');
  if (pct >= 0) a = a.slice(0, pct);
  const lower = a.toLowerCase();
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4) return lower.slice(7);
  return lower;
}

function credentialsHa1(c: TrunkCredentialsConfig): Partial<Record<DigestHash, string>> | undefined {
  if (c.ha1 === undefined) return undefined;
  return { [c.ha1Algorithm ?? 'MD5']: c.ha1 };
}

/** HA1 lookup for inbound digest against one configured user (RFC 7616 §3.4.2). */
export type InboundHa1Lookup = (username: string, realm: string, hash: DigestHash) => string | undefined;

export class TrunkPeer implements Trunk {
  readonly name: string;
  readonly target: SendTarget;
  readonly transport: TransportProtocol;
  readonly local: Endpoint;
  readonly domain: string;
  readonly numberFormat: NumberFormat;
  readonly media: TrunkMediaPolicy;
  readonly inbound: TrunkInboundPolicy;
  readonly hasCredentials: boolean;
  readonly keepAliveMs: number;
  readonly keepAliveFailures: number;
  readonly register?: { readonly expiresSec: number; readonly user: string };
  status: TrunkStatus = 'unknown';
  registered = false;
  /** For inbound requests: username expected, realm challenged with (RFC 3261 §22.4). */
  readonly inboundAuthUser?: string;
  readonly inboundRealm?: string;
  readonly #digest: DigestClient | undefined;
  readonly #inboundLookup: InboundHa1Lookup | undefined;
  readonly #sources = new BlockList();

  /** `config` must have passed checkTrunkConfigs; `defaultRealm` is sip.realm (inbound challenges). */
  constructor(config: TrunkConfig, local: Endpoint, defaultRealm: string) {
    this.name = config.name;
    this.transport = config.transport;
    const port = config.port ?? defaultPort(config.transport);
    this.target = {
      protocol: config.transport,
      remote: { address: config.host, port },
      ...(config.transport === 'TLS' && { serverName: config.serverName ?? config.host }),
      // UDP: leave from the socket our Via names, so the PBX's answers (RFC 3581) reach it.
      ...(config.transport === 'UDP' && { local: { ...local } }),
    };
    this.local = { ...local };
    const host = isIP(config.host) === 6 ? `[${config.host}]` : config.host;
    this.domain = config.domain ?? host;
    this.numberFormat = config.numberFormat ?? 'e164';
    this.media = Object.freeze({
      profile: config.media?.srtp === true ? 'RTP/SAVP' : 'RTP/AVP',
      codecs: Object.freeze([...(config.media?.codecs ?? DEFAULT_CODECS)]),
      telephoneEvent: config.media?.telephoneEvent ?? true,
    });
    const addresses = config.inbound?.addresses ?? [config.host];
    this.inbound = Object.freeze({ addresses: Object.freeze([...addresses]), digest: config.inbound?.auth !== undefined });
    for (const a of addresses) {
      const slash = a.indexOf('/');
      const base = plainAddress(slash < 0 ? a : a.slice(0, slash));
      const type = isIP(base) === 6 ? 'ipv6' : 'ipv4';
      if (slash < 0) this.#sources.addAddress(base, type);
      else this.#sources.addSubnet(base, Number(a.slice(slash + 1)), type);
    }
    this.#digest = config.auth === undefined
      ? undefined
      : new DigestClient({
          username: config.auth.username,
          ...(config.auth.password !== undefined && { password: config.auth.password }),
          ...(credentialsHa1(config.auth) !== undefined && { ha1: credentialsHa1(config.auth) }),
          ...(config.auth.realm !== undefined && { realm: config.auth.realm }),
        });
    this.hasCredentials = this.#digest !== undefined;
    const inboundAuth = config.inbound?.auth;
    if (inboundAuth !== undefined) {
      this.inboundAuthUser = inboundAuth.username;
      this.inboundRealm = inboundAuth.realm ?? defaultRealm;
      this.#inboundLookup = inboundLookup(inboundAuth, this.inboundRealm);
    }
    this.keepAliveMs = (config.keepAlive?.intervalSec ?? DEFAULT_KEEPALIVE_SEC) * 1000;
    this.keepAliveFailures = config.keepAlive?.failures ?? DEFAULT_KEEPALIVE_FAILURES;
    if (config.register?.enabled === true) {
      this.register = {
        expiresSec: config.register.expiresSec ?? DEFAULT_REGISTER_EXPIRES_SEC,
        user: config.register.user ?? config.auth?.username ?? config.name,
      };
    }
  }

  /** The outbound digest client (undefined without `auth`). */
  get digest(): DigestClient | undefined {
    return this.#digest;
  }

  /** HA1 lookup for inbound digest (undefined without `inbound.auth`). */
  get inboundLookup(): InboundHa1Lookup | undefined {
    return this.#inboundLookup;
  }

  /** Whether a source address belongs to this trunk (its `inbound.addresses`). */
  hasSource(address: string): boolean {
    const a = plainAddress(address);
    const family = isIP(a);
    if (family === 0) return false;
    return this.#sources.check(a, family === 6 ? 'ipv6' : 'ipv4');
  }

  /** Plain data for logs and the admin API: no credentials. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, transport: this.transport, remote: this.target.remote, status: this.status, registered: this.registered };
  }
}

function inboundLookup(c: TrunkCredentialsConfig, realm: string): InboundHa1Lookup {
  const password = c.password;
  const ha1 = c.ha1;
  const ha1Hash: DigestHash = c.ha1Algorithm ?? 'MD5';
  return (username, askedRealm, hash) => {
    if (username !== c.username || askedRealm !== realm) return undefined;
    if (password !== undefined) return computeHA1(hash, username, realm, password);
    return hash === ha1Hash ? ha1 : undefined;
  };
}
