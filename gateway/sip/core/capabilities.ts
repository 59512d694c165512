/**
 * What this UA core understands, as advertised in Allow, Accept, Accept-Encoding and Supported
 * (RFC 3261 §20.1, §20.5, §20.37). Later layers register the methods they implement.
 */

/** Methods the RFC 3261 family defines. A request with any other method gets 501 (RFC 3261 §8.2.1). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH',
  'INFO', 'REFER', 'MESSAGE', 'UPDATE',
]);

/** Body types the gateway can process (RFC 3261 §8.2.3); anything else gets 415 with Accept. */
export const ACCEPTED_CONTENT_TYPES: readonly string[] = [
  'application/sdp',
  'text/plain',
  'message/cpim',
  'application/im-iscomposing+xml',
  'message/imdn+xml',
  'multipart/mixed',
  'application/dtmf-relay',
];

/** Methods whose 2xx carries an SDP answer or offer, so an Accept that rules out SDP gets 406. */
export const SDP_BEARING_METHODS: ReadonlySet<string> = new Set(['INVITE', 'UPDATE', 'PRACK']);

/** Only the identity content-coding is implemented (RFC 3261 §20.12). */
export const ACCEPTED_ENCODINGS: readonly string[] = ['identity'];

export interface Capabilities {
  /** Methods with a handler, for Allow. */
  allow: readonly string[];
  /** Option tags this element implements (RFC 3261 §19.2), for Supported and Require checks. */
  supported: readonly string[];
}
