/**
 * The SIP message model (RFC 3261 §7, §20, §25).
 *
 * Structured values for the headers the core routes on; every other header is kept as text.
 * Parameters are ordered maps: `null` is a parameter without a value (`;lr`). Names are lower-cased;
 * values are kept as received (a quoted-string value keeps its quotes: `"<urn:uuid:...>"`).
 */

export type Params = Map<string, string | null>;

/** sip: and sips: URIs (RFC 3261 §19.1). `host` keeps IPv6 references bracketed: `[2001:db8::1]` (RFC 5118). */
export interface SipUri {
  scheme: 'sip' | 'sips';
  /** %-escaped as received (RFC 3261 §19.1.4 compares unescaped: see unescapeUriPart). */
  user?: string;
  password?: string;
  host: string;
  port?: number;
  /** uri-parameters; names lower-cased. */
  params: Params;
  /** headers after `?` (hname=hvalue), still %-escaped as received. */
  headers: Params;
}

/** tel: URIs (RFC 3966). */
export interface TelUri {
  scheme: 'tel';
  number: string;
  params: Params;
}

/** Any other absoluteURI (RFC 3261 §25.1): kept opaque. */
export interface OtherUri {
  scheme: string;
  opaque: string;
}

export type Uri = SipUri | TelUri | OtherUri;

/** name-addr / addr-spec with header parameters (From, To, Contact, Route, Record-Route). */
export interface NameAddr {
  /** The display name as text: unquoted, quoted-pairs resolved. Written back as a quoted-string. */
  displayName?: string;
  uri: Uri;
  params: Params;
}

/** One Via value (RFC 3261 §20.42). `transport` is upper-cased (UDP, TCP, TLS, SCTP, WS, WSS, ...). */
export interface Via {
  /** protocol-name "/" protocol-version, e.g. "SIP/2.0". */
  protocol: string;
  transport: string;
  host: string;
  port?: number;
  params: Params;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** Contact: either `*` (only in REGISTER) or a list of name-addrs. */
export type ContactList = '*' | NameAddr[];

export function isSipUri(u: Uri): u is SipUri {
  return u.scheme === 'sip' || u.scheme === 'sips';
}
export function isTelUri(u: Uri): u is TelUri {
  return u.scheme === 'tel';
}

/** RFC 3261 §8.1.1.7: a branch made by an RFC 3261 element starts with this cookie. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';
