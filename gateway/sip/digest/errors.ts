/**
 * Errors of the Digest layer (RFC 7616, RFC 8760, RFC 3261 §22).
 *
 * Messages describe what went wrong and where, never the value involved: a header value can carry
 * a response or a username that must not end up in a log, and a configuration value can be an HA1.
 */

/** Base class: every error thrown by gateway/sip/digest is an instance of it. */
export class DigestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Why an auth header value was rejected by the scanner. */
export type AuthSyntaxReason =
  | 'too-long'
  | 'too-many-params'
  | 'expected-scheme'
  | 'expected-whitespace'
  | 'expected-param-name'
  | 'expected-equal'
  | 'expected-param-value'
  | 'expected-comma'
  | 'duplicate-param'
  | 'unterminated-quoted-string'
  | 'bad-escape'
  | 'bad-char';

/** A challenge or credentials value does not follow RFC 3261 §25.1 / RFC 7235 §2.1. */
export class AuthHeaderSyntaxError extends DigestError {
  constructor(
    readonly reason: AuthSyntaxReason,
    /** Offset in the header value (UTF-16 code units) where the scanner stopped. */
    readonly offset: number,
  ) {
    super(`malformed auth header: ${reason} at offset ${offset}`);
  }
}

/** A value handed to the serializer cannot be written as a token or a quoted-string. */
export class InvalidAuthParamError extends DigestError {
  constructor(
    /** The auth-param name (or "scheme"); names are not secret. */
    readonly param: string,
    readonly reason: 'not-a-token' | 'control-char',
  ) {
    super(`auth-param ${param} cannot be serialized: ${reason}`);
  }
}

/** Local configuration is unusable (bad secret length, unknown algorithm, bad HA1 form, ...). */
export class DigestConfigError extends DigestError {}

/** Why the client could not answer a challenge. */
export type DigestChallengeReason = 'no-challenge' | 'malformed' | 'no-usable-challenge';

/** The client found nothing it can (or may) answer in a 401/407 (RFC 3261 §22.2, §22.3). */
export class DigestChallengeError extends DigestError {
  constructor(readonly reason: DigestChallengeReason) {
    super(`cannot answer digest challenge: ${reason}`);
  }
}

/**
 * The client refuses to answer: the same challenge was already answered, or the server rejected
 * credentials it was just given (RFC 3261 §22.2: the UAC should not re-attempt with the same
 * credentials; RFC 7616 §3.3: only stale=true allows a retry without new credentials).
 */
export class DigestLoopError extends DigestError {
  constructor(
    /** The realm (public, sent by the server in clear). */
    readonly realm: string,
    readonly reason: 'same-challenge' | 'credentials-rejected',
  ) {
    // JSON.stringify: the realm comes from the network; quoting keeps a log line one line.
    super(`refusing to answer digest challenge again for realm ${JSON.stringify(realm)}: ${reason}`);
  }
}
