/**
 * Topology hiding (issue 5 §1): each leg is a dialog of its own, so nothing of one leg's routing
 * crosses to the other: no Via, Record-Route, Route, Contact, Call-ID, tags, User-Agent or Server,
 * and no address inside the SDP (the media engine rewrites it). Only headers on an allow-list
 * travel, bounded in number and size; by default those that carry call identity or user data end
 * to end: P-Asserted-Identity (RFC 3325), Privacy (RFC 3323), Diversion (RFC 5806) and
 * User-to-User (RFC 7433).
 *
 * P-Asserted-Identity is only believed from inside the trust domain (RFC 3325 §5): a trunk. A
 * user's own PAI is dropped and replaced by the identity the gateway authenticated.
 */
import type { HeaderList } from '../sip/message/message';

export const DEFAULT_PASS_HEADERS: readonly string[] = ['P-Asserted-Identity', 'Privacy', 'Diversion', 'User-to-User'];

/** Headers that INFO carries for its package (RFC 6086 §5.2), passed with the body. */
export const INFO_HEADERS: readonly string[] = ['Info-Package'];

/** Most values of one passed header, and the longest value passed. */
const MAX_VALUES = 8;
const MAX_VALUE_LENGTH = 1024;

/** Header names never passed, whatever the configuration says: they are the topology. */
const NEVER: ReadonlySet<string> = new Set([
  'via', 'route', 'record-route', 'contact', 'call-id', 'from', 'to', 'cseq', 'max-forwards', 'content-length',
  'content-type', 'authorization', 'proxy-authorization', 'www-authenticate', 'proxy-authenticate', 'path',
  'service-route', 'user-agent', 'server', 'session-expires', 'min-se', 'require', 'supported', 'allow',
  'proxy-require', 'rseq', 'rack', 'refer-to', 'referred-by', 'replaces', 'sip-if-match',
]);

export class HeaderPolicy {
  private readonly names: readonly string[];

  constructor(allow: readonly string[] = DEFAULT_PASS_HEADERS) {
    this.names = allow.filter((n) => !NEVER.has(n.toLowerCase()));
  }

  /**
   * The allow-listed headers of a message, to copy to the other leg. `trusted` says whether the
   * sender is in the trust domain; without it P-Asserted-Identity is not passed.
   */
  pass(headers: HeaderList, trusted: boolean): Array<[string, string]> {
    return copy(headers, this.names, trusted);
  }
}

/** INFO's package headers (RFC 6086), bounded like the others. */
export function infoHeaders(headers: HeaderList): Array<[string, string]> {
  return copy(headers, INFO_HEADERS, true);
}

function copy(headers: HeaderList, names: readonly string[], trusted: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const name of names) {
    if (!trusted && name.toLowerCase() === 'p-asserted-identity') continue;
    const values = headers.getAll(name);
    for (const v of values.slice(0, MAX_VALUES)) if (v.length <= MAX_VALUE_LENGTH) out.push([name, v]);
  }
  return out;
}
