/**
 * What a MESSAGE carries (RFC 3428 §9, RFC 3862, RFC 3994, RFC 5438) and how the gateway treats it:
 *
 * - text/plain and message/cpim are messages: delivered, or stored when they cannot be. IMDN
 *   (RFC 5438) travels inside message/cpim, requests and notifications alike, so it is passed
 *   through and stored like any message without the gateway reading it.
 * - application/im-iscomposing+xml (RFC 3994) is a transient indication: passed to online
 *   devices and never stored (a stale "is typing" is worse than none, RFC 3994 §3).
 * - Anything else gets 415 with the Accept list (RFC 3428 §7, RFC 3261 §21.4.13).
 *
 * Confidential mode is asked for per message with the extension header
 * `Ciphergate-Confidential: 1` (README "Secure messaging").
 */
import type { SipRequest } from '../sip/message/message';

export type MessageClass = 'message' | 'transient';

/** Media types accepted in MESSAGE, for the Accept header of a 415. */
export const MESSAGE_CONTENT_TYPES: readonly string[] = ['text/plain', 'message/cpim', 'application/im-iscomposing+xml'];

const CLASSES: ReadonlyMap<string, MessageClass> = new Map([
  ['text/plain', 'message'],
  ['message/cpim', 'message'],
  ['application/im-iscomposing+xml', 'transient'],
]);

/** The header that asks for confidential (never stored) handling of one message. */
export const CONFIDENTIAL_HEADER = 'Ciphergate-Confidential';

/** The media type of a Content-Type value, lower-cased, parameters dropped. */
export function mediaTypeOf(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** How a Content-Type is handled, or undefined for one MESSAGE does not carry here (415). */
export function classify(contentType: string | undefined): MessageClass | undefined {
  return contentType === undefined ? undefined : CLASSES.get(mediaTypeOf(contentType));
}

/**
 * Whether the request asks for confidential handling: `Ciphergate-Confidential` with the value
 * 1, yes, true or on (any case). Other values, e.g. 0, do not; policy may still impose it.
 */
export function asksConfidential(req: SipRequest): boolean {
  for (const v of req.headers.getAll(CONFIDENTIAL_HEADER)) {
    const t = v.trim().toLowerCase();
    if (t === '1' || t === 'yes' || t === 'true' || t === 'on') return true;
  }
  return false;
}
