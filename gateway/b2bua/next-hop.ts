/**
 * Where a request inside a trunk dialog goes (RFC 3261 §8.1.2, §12.2.1.1; RFC 3263 §4).
 *
 * The dialog decides, not the trunk's configuration: when the route set is not empty the request
 * goes to the first route's URI (loose routing; with a strict first route that URI is the
 * Request-URI, §12.2.1.1, and the request goes to the Request-URI: the same URI), else to the
 * remote target, the peer's Contact. A PBX behind a Record-Routing SBC, or an Asterisk whose
 * Contact names another interface or port than the trunk's configured address, is reached where
 * it asked to be.
 *
 * What the leg's configured hop (the trunk's target) still decides, because the request was built
 * for it: the transport (our Via names it, RFC 3261 §18.1.1), the address family (our sent-by is
 * of that family), the TLS name the peer's certificate is checked against (only the trunk's
 * identity gets the dialog's requests, which carry its digest credentials), and the UDP socket we
 * send from (RFC 3581). A URI that asks for another clear-text transport or family, or whose host
 * cannot be resolved, falls back to that configured hop. A URI that asks for TLS (`sips:`,
 * `transport=tls`) on a leg that is not TLS is refused: a SIPS request never leaves in clear
 * (RFC 3261 §26.2.2, RFC 5630 §3), and a TLS leg never leaves TLS.
 *
 * Not done (as for trunk hosts, trunk/config.ts): RFC 3263 NAPTR/SRV. A host name is resolved to
 * an address (node:dns lookup, bounded in time) and the port is the URI's or the transport's
 * default. `maddr` is ignored: from a URI learnt off the network it would let a peer aim our traffic.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from '../log/logger';
import { isSipUri, type NameAddr, type Uri } from '../sip/message/types';
import { serializeUri } from '../sip/message/uri';
import { defaultPort } from '../sip/transaction/via';
import { transportForUri } from '../sip/transport/uri-transport';
import type { Endpoint, SendTarget, TransportProtocol } from '../sip/transport/types';

/** Resolves a host name to one address of `family` (rejects when there is none). */
export type HostLookup = (host: string, family: 4 | 6) => Promise<string>;

/** node:dns lookup (getaddrinfo: /etc/hosts, then DNS A/AAAA). */
export const systemLookup: HostLookup = async (host, family) => (await dnsLookup(host, { family, verbatim: true })).address;

/** How long a host name lookup may take before the configured hop is used instead. */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 2000;

/** The dialog cannot be followed without breaking a security requirement: nothing is sent. */
export class NextHopRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NextHopRefusedError';
  }
}

/** The dialog state that decides the next hop (a `Dialog` fits). */
export interface DialogRoute {
  readonly routeSet: readonly NameAddr[];
  readonly remoteTarget: Uri;
}

/**
 * RFC 3261 §8.1.2: the URI a request inside the dialog is sent to. Loose first route: the request
 * goes to it (its URI, §16.12.1.1). Strict first route: §12.2.1.1 made it the Request-URI, and the
 * request goes to the Request-URI. No route set: the Request-URI, which is the remote target.
 */
export function nextHopUri(dialog: DialogRoute): Uri {
  return dialog.routeSet[0]?.uri ?? dialog.remoteTarget;
}

/** `sips:` or `transport=tls` (RFC 3261 §19.1.2, §26.2.2): only TLS may carry a request toward it. */
export function requiresTls(uri: Uri): boolean {
  if (uri.scheme.toLowerCase() === 'sips') return true;
  return isSipUri(uri) && uri.params.get('transport')?.toLowerCase() === 'tls';
}

/** What the URI alone says: a target, a name to resolve, or why the configured hop is used. */
export type NextHopPlan =
  | { readonly kind: 'target'; readonly target: SendTarget }
  | { readonly kind: 'lookup'; readonly host: string; readonly port: number; readonly family: 4 | 6 }
  | { readonly kind: 'fallback'; readonly why: string };

const UNSPECIFIED = new Set(['0.0.0.0', '::']);

/** Letters, digits, dots and hyphens, 1..253 (RFC 3261 §25.1 hostname, without trailing-dot subtleties). */
function isHostName(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  for (const c of host) {
    const ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '.' || c === '-';
    if (!ok) return false;
  }
  return true;
}

/** The configured hop's protocol, SNI name and UDP source with another remote address. */
function toward(configured: SendTarget, remote: Endpoint): SendTarget {
  return {
    protocol: configured.protocol,
    remote,
    ...(configured.serverName !== undefined && { serverName: configured.serverName }),
    ...(configured.protocol === 'UDP' && configured.local !== undefined && { local: { ...configured.local } }),
  };
}

/**
 * Decides from the dialog alone (no I/O). Throws NextHopRefusedError when the dialog asks for TLS
 * on a leg that is not TLS. `local` is our sent-by on the leg: the next hop must be of its family.
 */
export function planNextHop(dialog: DialogRoute, configured: SendTarget, local: Endpoint): NextHopPlan {
  const uri = nextHopUri(dialog);
  const protocol: TransportProtocol = configured.protocol;
  // The Request-URI (the remote target, unless a strict route took its place) counts too: a
  // sips: target reached through a sip: route still needs TLS on every hop (RFC 5630 §3.1.1).
  if (protocol !== 'TLS' && (requiresTls(uri) || requiresTls(dialog.remoteTarget))) {
    throw new NextHopRefusedError(`the dialog needs TLS, the leg is ${protocol}`);
  }
  if (!isSipUri(uri)) return { kind: 'fallback', why: `${uri.scheme}: URI` };
  let wanted: TransportProtocol;
  try {
    wanted = transportForUri(uri);
  } catch {
    return { kind: 'fallback', why: 'unsupported transport' };
  }
  // Our Via names the leg's transport; a TLS leg is never downgraded (the configured hop is TLS).
  if (wanted !== protocol) return { kind: 'fallback', why: `URI asks for ${wanted} on a ${protocol} leg` };
  const host = uri.host.startsWith('[') && uri.host.endsWith(']') ? uri.host.slice(1, -1) : uri.host;
  const port = uri.port ?? defaultPort(protocol);
  const family = isIP(local.address) === 6 ? 6 : 4;
  const hostFamily = isIP(host);
  if (hostFamily === 0) {
    if (!isHostName(host)) return { kind: 'fallback', why: 'not a host name' };
    return { kind: 'lookup', host, port, family };
  }
  if (hostFamily !== family) return { kind: 'fallback', why: `IPv${hostFamily} next hop, IPv${family} leg` };
  if (UNSPECIFIED.has(host.toLowerCase())) return { kind: 'fallback', why: 'unspecified address' };
  return { kind: 'target', target: toward(configured, { address: host, port }) };
}

export interface NextHopRouterOptions {
  readonly lookup?: HostLookup;
  readonly lookupTimeoutMs?: number;
  readonly log?: Logger;
}

/**
 * One leg's router: the next hop of each request, computed again when the route set's first URI
 * or the remote target changes (target refresh, §12.2.1.2) and cached otherwise, so the ACK, its
 * retransmissions and the BYE do not each wait for a lookup. A pending lookup is shared: requests
 * leave in the order they were routed (the ACK before the BYE that follows it).
 */
export class NextHopRouter {
  private cache: { readonly key: string; hop: SendTarget | Promise<SendTarget> } | undefined;

  constructor(private readonly o: NextHopRouterOptions = {}) {}

  /**
   * The next hop: a target at once when no lookup is needed, else a promise (never rejecting: a
   * failed lookup gives the configured hop). Throws NextHopRefusedError (see planNextHop).
   */
  route(dialog: DialogRoute, configured: SendTarget, local: Endpoint): SendTarget | Promise<SendTarget> {
    const key = `${configured.protocol} ${serializeUri(nextHopUri(dialog))} ${serializeUri(dialog.remoteTarget)}`;
    if (this.cache?.key === key) return this.cache.hop;
    const plan = planNextHop(dialog, configured, local);
    let hop: SendTarget | Promise<SendTarget>;
    if (plan.kind === 'target') hop = plan.target;
    else if (plan.kind === 'fallback') {
      this.o.log?.debug('in-dialog request to the configured hop', { why: plan.why });
      hop = configured;
    } else hop = this.resolve(plan.host, plan.port, plan.family, configured);
    const entry = { key, hop };
    this.cache = entry;
    if (hop instanceof Promise) void hop.then((h) => (entry.hop = h));
    return hop;
  }

  private async resolve(host: string, port: number, family: 4 | 6, configured: SendTarget): Promise<SendTarget> {
    const lookup = this.o.lookup ?? systemLookup;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.o.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS);
      timer.unref();
    });
    try {
      const address = await Promise.race([lookup(host, family).catch(() => undefined), timeout]);
      if (address !== undefined && isIP(address) === family && !UNSPECIFIED.has(address)) return toward(configured, { address, port });
      this.o.log?.warn('in-dialog next hop not resolved: configured hop used', { family });
      return configured;
    } finally {
      clearTimeout(timer);
    }
  }
}
