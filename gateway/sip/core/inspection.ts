/**
 * UAS request inspection in the order RFC 3261 §8.2 prescribes: method (§8.2.1), Request-URI and
 * Max-Forwards (§8.2.2.1, §16.3), extensions (§8.2.2.3), content (§8.2.3), then Accept (§8.2.6 /
 * RFC 4475 §3.3.15). A request that passes goes to its method's handler.
 */
import type { SipRequest } from '../message/message';
import {
  ACCEPTED_CONTENT_TYPES, ACCEPTED_ENCODINGS, KNOWN_METHODS, SDP_BEARING_METHODS, type Capabilities,
} from './capabilities';

export interface Rejection {
  status: number;
  reason: string;
  headers: Array<[string, string]>;
}

/** Methods answered by this element itself; everything else would be forwarded (so 483 applies). */
const LOCALLY_ANSWERED: ReadonlySet<string> = new Set(['OPTIONS', 'REGISTER', 'ACK', 'CANCEL']);

/** Splits a comma list of tokens (option-tags, codings) already free of quoted strings. */
function tokens(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    for (const part of v.split(',')) {
      const t = part.trim();
      if (t) out.push(t);
    }
  }
  return out;
}

/** The media type of a Content-Type / Accept entry, lower-cased, without parameters. */
export function mediaType(value: string): string {
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
}

function acceptAllows(accept: string[], type: string): boolean {
  const [major] = type.split('/');
  return accept.some((a) => {
    const t = mediaType(a);
    return t === type || t === '*/*' || t === `${major}/*`;
  });
}

export function inspectRequest(req: SipRequest, caps: Capabilities): Rejection | undefined {
  // §8.2.1: an unknown method gets 501; a known one this element does not implement gets 405 with Allow.
  if (!KNOWN_METHODS.has(req.method)) return { status: 501, reason: 'Not Implemented', headers: [['Allow', caps.allow.join(', ')]] };
  if (req.method === 'ACK' || req.method === 'CANCEL') return undefined;

  // §8.2.2.1: a Request-URI scheme we cannot process gets 416.
  const scheme = req.uri.scheme;
  if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') {
    return { status: 416, reason: 'Unsupported URI Scheme', headers: [] };
  }

  // §16.3 step 2 (applied by the B2BUA to what it would forward): Max-Forwards 0 gets 483.
  if (req.maxForwards === 0 && !LOCALLY_ANSWERED.has(req.method)) {
    return { status: 483, reason: 'Too Many Hops', headers: [] };
  }

  // §8.2.2.3: option tags in Require (and, acting for the next hop, Proxy-Require) we do not support.
  const required = tokens([...req.headers.getAll('Require'), ...req.headers.getAll('Proxy-Require')]);
  const supported = required.length === 0 ? undefined : new Set(caps.supported.map((s) => s.toLowerCase()));
  const unsupported = supported === undefined ? [] : required.filter((t) => !supported.has(t.toLowerCase()));
  if (unsupported.length > 0) {
    return { status: 420, reason: 'Bad Extension', headers: [['Unsupported', [...new Set(unsupported)].join(', ')]] };
  }

  // §8.2.3: a body we cannot process gets 415 naming what we accept.
  if (req.body.length > 0) {
    const ct = req.headers.get('Content-Type');
    if (ct === undefined) {
      return { status: 400, reason: 'Bad Request - Body Without Content-Type', headers: [] };
    }
    if (!ACCEPTED_CONTENT_TYPES.includes(mediaType(ct))) {
      return { status: 415, reason: 'Unsupported Media Type', headers: [['Accept', ACCEPTED_CONTENT_TYPES.join(', ')]] };
    }
    const codings = tokens(req.headers.getAll('Content-Encoding')).map((c) => c.toLowerCase());
    if (codings.some((c) => !ACCEPTED_ENCODINGS.includes(c))) {
      return { status: 415, reason: 'Unsupported Media Type', headers: [['Accept-Encoding', ACCEPTED_ENCODINGS.join(', ')]] };
    }
  }

  // RFC 3261 §20.1 / RFC 4475 §3.3.15: our answer to these methods carries SDP; an Accept without it gets 406.
  if (SDP_BEARING_METHODS.has(req.method) && req.headers.has('Accept')) {
    if (!acceptAllows(tokens(req.headers.getAll('Accept')), 'application/sdp')) {
      return { status: 406, reason: 'Not Acceptable', headers: [['Accept', 'application/sdp']] };
    }
  }
  return undefined;
}
