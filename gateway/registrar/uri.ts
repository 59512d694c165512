/**
 * URI questions the registrar asks: are two URIs equal (RFC 3261 §19.1.4), what canonical text a
 * Contact is stored under (§10.3 step 7 compares Contacts with URI equality), and is a host one
 * of ours (§10.3 step 1 and step 5).
 */
import { isIP } from 'node:net';
import { serializeUri, unescapeUriPart } from '../sip/message/grammar';
import { isSipUri, type Params, type SipUri, type Uri } from '../sip/message/types';

/** uri-parameters that must match when present in either URI (RFC 3261 §19.1.4). */
const STRICT_PARAMS: ReadonlySet<string> = new Set(['user', 'ttl', 'method', 'maddr']);

function bare(host: string): string {
  return (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host).toLowerCase();
}

function paramValue(v: string | null): string {
  return v === null ? '' : unescapeUriPart(v).toLowerCase();
}

/**
 * RFC 3261 §19.1.4 equality of two sip/sips URIs: scheme, user and password (case-sensitive,
 * unescaped), host (case-insensitive), port (an omitted port never equals an explicit default),
 * uri-parameters (those in both must match; user/ttl/method/maddr must be in both or neither;
 * others in only one are ignored) and headers (all must be in both and match). Other schemes
 * compare as case-insensitive scheme plus exact text.
 */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (!isSipUri(a) || !isSipUri(b)) {
    return a.scheme.toLowerCase() === b.scheme.toLowerCase() && serializeUri(a).slice(a.scheme.length) === serializeUri(b).slice(b.scheme.length);
  }
  if (a.scheme !== b.scheme || a.port !== b.port || bare(a.host) !== bare(b.host)) return false;
  if (unescapeOpt(a.user) !== unescapeOpt(b.user) || unescapeOpt(a.password) !== unescapeOpt(b.password)) return false;
  for (const [name, v] of a.params) {
    const w = b.params.get(name);
    if (w === undefined) {
      if (STRICT_PARAMS.has(name)) return false;
    } else if (paramValue(v) !== paramValue(w)) {
      return false;
    }
  }
  for (const name of b.params.keys()) if (STRICT_PARAMS.has(name) && !a.params.has(name)) return false;
  if (a.headers.size !== b.headers.size) return false;
  for (const [name, v] of a.headers) {
    const w = b.headers.get(name);
    if (w === undefined || unescapeUriPart(v ?? '') !== unescapeUriPart(w ?? '')) return false;
  }
  return true;
}

function unescapeOpt(s: string | undefined): string | undefined {
  return s === undefined ? undefined : unescapeUriPart(s);
}

/**
 * The text a Contact is stored and compared under: the URI with its host in lower case and its
 * parameters in name order, so the usual re-spellings of one Contact (host case, parameter order)
 * update one binding instead of creating a second. Stricter than §19.1.4 in one way, on purpose:
 * a parameter present in only one spelling makes two bindings (a UA repeats its Contact verbatim,
 * and a spare binding expires; merging two devices' bindings would lose one of them).
 */
export function canonicalContact(uri: SipUri): string {
  const params: Params = new Map([...uri.params].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  return serializeUri({ ...uri, host: uri.host.toLowerCase(), params });
}

/** The user part as an account name: unescaped (RFC 3261 §19.1.4 compares it unescaped). */
export function userOf(uri: Uri): string | undefined {
  return isSipUri(uri) && uri.user !== undefined ? unescapeUriPart(uri.user) : undefined;
}

/**
 * The domains this registrar has bindings for (RFC 3261 §10.3 step 1): the configured SIP domain,
 * every configured listen address that names one host, and the address a request actually reached.
 */
export class DomainMatcher {
  private readonly names: ReadonlySet<string>;

  constructor(domain: string, listenAddresses: readonly string[]) {
    const names = new Set<string>([domain.toLowerCase()]);
    for (const a of listenAddresses) {
      const b = bare(a);
      if (isIP(b) !== 0 && b !== '0.0.0.0' && b !== '::') names.add(canonicalIp(b));
    }
    this.names = names;
  }

  /** Whether `host` (a URI host, IPv6 bracketed or not) is ours for a request that reached `localAddress`. */
  isOurs(host: string, localAddress: string): boolean {
    const h = bare(host);
    if (this.names.has(h)) return true;
    if (isIP(h) === 0) return false;
    const c = canonicalIp(h);
    return this.names.has(c) || c === canonicalIp(bare(localAddress));
  }
}

/** One spelling per IPv6 address (zero compression and case vary; RFC 5952 §4 form). */
function canonicalIp(address: string): string {
  if (isIP(address) !== 6) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address;
  }
}
