/**
 * Reading what a REGISTER asks for (RFC 3261 §10.2, §10.3 step 6): its Contacts, each with the
 * expiry it requests (Contact `expires` parameter, else the Expires header, else the default),
 * its q-value (§20.10) and, for RFC 5626 outbound, its `+sip.instance` and `reg-id` (§4.1, §4.2).
 *
 * Every number is read by hand: digits only, bounded length, no regular expression.
 */
import { unquote } from '../sip/message/grammar';
import type { SipRequest } from '../sip/message/message';
import { isSipUri, type NameAddr, type SipUri } from '../sip/message/types';
import { canonicalContact } from './uri';

export interface RequestedContact {
  readonly uri: SipUri;
  /** Canonical text (uri.ts): the binding key. */
  readonly contact: string;
  /** Seconds asked for, before the registrar's bounds apply; 0 removes the binding. */
  readonly expires: number;
  /** Thousandths, 0..1000. */
  readonly qMilli?: number;
  /** `+sip.instance` value without the quotes, e.g. `<urn:uuid:…>`. */
  readonly instanceId?: string;
  readonly regId?: number;
}

export type ContactsRead =
  /** No Contact: a query for the current bindings (RFC 3261 §10.2.3). */
  | { readonly kind: 'fetch' }
  /** `Contact: *` (§10.2.2); `expires` is the Expires header value, if any. */
  | { readonly kind: 'wildcard'; readonly expires: number | undefined }
  | { readonly kind: 'contacts'; readonly contacts: readonly RequestedContact[] }
  | { readonly kind: 'invalid'; readonly reason: string };

/** RFC 3261 §20.19: delta-seconds beyond 2^32-1 are taken as 2^32-1. */
export const MAX_DELTA_SECONDS = 0xffffffff;
/** RFC 5626 §4.2: reg-id is 1 to 2^31-1. */
const MAX_REG_ID = 0x7fffffff;
const MAX_INSTANCE_LENGTH = 256;

/**
 * delta-seconds = 1*DIGIT (RFC 3261 §25.1), surrounding whitespace allowed. Undefined when
 * malformed; values beyond 2^32-1 are capped (the digit count is bounded before any arithmetic).
 */
export function parseDeltaSeconds(text: string): number | undefined {
  const s = text.trim();
  if (s.length === 0) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
  const digits = s.slice(i);
  return digits.length > 10 ? MAX_DELTA_SECONDS : Math.min(Number(digits), MAX_DELTA_SECONDS);
}

/** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 3261 §25.1), in thousandths. */
export function parseQValue(text: string): number | undefined {
  const s = text.trim();
  if (s.length === 0 || s.length > 5) return undefined;
  const lead = s.charCodeAt(0);
  if (lead !== 48 && lead !== 49) return undefined;
  if (s.length === 1) return lead === 49 ? 1000 : 0;
  if (s.charCodeAt(1) !== 46) return undefined;
  let milli = 0;
  let scale = 100;
  for (let i = 2; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    milli += (c - 48) * scale;
    scale /= 10;
  }
  if (lead === 49) return milli === 0 ? 1000 : undefined;
  return milli;
}

function param(addr: NameAddr, name: string): string | null | undefined {
  return addr.params.get(name);
}

/**
 * The request's Contacts, or why they are unusable (the reason is a 400 reason phrase). A Contact
 * repeated in one request counts once, its last occurrence winning.
 */
export function readContacts(req: SipRequest, defaultExpires: number): ContactsRead {
  const header = req.headers.get('Expires');
  // RFC 3261 §20.19: a malformed Expires is taken as 3600; we take the configured default.
  const headerExpires = header === undefined ? undefined : parseDeltaSeconds(header) ?? defaultExpires;
  const list = req.contact;
  if (list === undefined) return { kind: 'fetch' };
  if (list === '*') return { kind: 'wildcard', expires: headerExpires };
  const byContact = new Map<string, RequestedContact>();
  for (const addr of list) {
    if (!isSipUri(addr.uri)) return { kind: 'invalid', reason: 'Bad Request - Contact Must Be a SIP URI' };
    const expParam = param(addr, 'expires');
    let expires: number;
    if (expParam === undefined) {
      expires = headerExpires ?? defaultExpires;
    } else {
      const v = expParam === null ? undefined : parseDeltaSeconds(expParam);
      if (v === undefined) return { kind: 'invalid', reason: 'Bad Request - Malformed Contact expires' };
      expires = v;
    }
    const qText = param(addr, 'q');
    const qMilli = qText === undefined ? undefined : qText === null ? undefined : parseQValue(qText);
    if (qText !== undefined && qMilli === undefined) return { kind: 'invalid', reason: 'Bad Request - Malformed q-value' };
    const outbound = readOutbound(addr);
    if (outbound === 'invalid') return { kind: 'invalid', reason: 'Bad Request - Malformed reg-id or +sip.instance' };
    const contact = canonicalContact(addr.uri);
    byContact.delete(contact);
    byContact.set(contact, {
      uri: addr.uri,
      contact,
      expires,
      ...(qMilli !== undefined && { qMilli }),
      ...outbound,
    });
  }
  return { kind: 'contacts', contacts: [...byContact.values()] };
}

/**
 * `+sip.instance` = DQUOTE "<" instance-val ">" DQUOTE and `reg-id` = 1*DIGIT (RFC 5626 §4.1,
 * §4.2; RFC 5627 §3.1). Returned only together: reg-id without an instance means nothing (§6).
 */
function readOutbound(addr: NameAddr): { instanceId?: string; regId?: number } | 'invalid' {
  const inst = param(addr, '+sip.instance');
  const reg = param(addr, 'reg-id');
  let instanceId: string | undefined;
  if (inst !== undefined) {
    if (inst === null || inst.length > MAX_INSTANCE_LENGTH + 2 || !inst.startsWith('"')) return 'invalid';
    instanceId = unquote(inst);
    if (!instanceId.startsWith('<') || !instanceId.endsWith('>') || instanceId.length < 3) return 'invalid';
  }
  let regId: number | undefined;
  if (reg !== undefined) {
    const v = reg === null || reg.length > 10 ? undefined : parseDeltaSeconds(reg);
    if (v === undefined || v < 1 || v > MAX_REG_ID) return 'invalid';
    regId = v;
  }
  return instanceId !== undefined && regId !== undefined ? { instanceId, regId } : {};
}
