/**
 * Validation of the administrator-entered account fields. Every pattern is anchored with bounded
 * repetition of a single character class: linear time, no backtracking on hostile input.
 */
import { InvalidDisplayNameError, InvalidFingerprintError, InvalidNumberError, InvalidUserNameError } from './errors';

/**
 * RFC 3261 §25.1 `user` restricted to `unreserved` (alphanum / mark), lower-case: a name that
 * needs no escaping in a SIP URI and cannot collide with another spelling of itself (the user part
 * compares case-sensitively, RFC 3261 §19.1.4, so mixed case would invite look-alike accounts).
 */
const USER_NAME = /^[a-z0-9\-_.!~*'()]{1,64}$/;
/** E.164 (ITU-T E.164 §6): country code never starts with 0; 8..15 digits in all. */
const E164 = /^\+[1-9][0-9]{7,14}$/;
const HEX64 = /^[0-9a-f]{64}$/;
/** Control characters and lone surrogates: a display name lands in From/To headers. */
const DISPLAY_FORBIDDEN = /[\p{Cc}\p{Cs}]/u;
export const DISPLAY_NAME_MAX_LENGTH = 128;

export function isValidUserName(name: string): boolean {
  return USER_NAME.test(name);
}

export function checkUserName(name: string): string {
  if (!isValidUserName(name)) throw new InvalidUserNameError();
  return name;
}

export function checkNumber(number: string): string {
  if (!E164.test(number)) throw new InvalidNumberError();
  return number;
}

export function checkDisplayName(display: string): string {
  const length = Array.from(display).length;
  if (length < 1 || length > DISPLAY_NAME_MAX_LENGTH || DISPLAY_FORBIDDEN.test(display)) {
    throw new InvalidDisplayNameError(DISPLAY_NAME_MAX_LENGTH);
  }
  return display;
}

/**
 * A SHA-256 certificate fingerprint in the stored form (64 lower-case hex digits). Accepts the
 * bare hex, colon-separated pairs (`openssl x509 -fingerprint -sha256`), and the RFC 8122 §5
 * `a=fingerprint` value form with its `sha-256 ` prefix.
 */
export function normalizeFingerprint(input: string): string {
  if (input.length > 200) throw new InvalidFingerprintError();
  let text = input.trim().toLowerCase();
  if (text.startsWith('sha-256 ')) text = text.slice(8).trim();
  else if (text.startsWith('sha256 fingerprint=')) text = text.slice(19);
  if (text.length === 95) {
    for (let i = 2; i < 95; i += 3) if (text[i] !== ':') throw new InvalidFingerprintError();
    text = text.split(':').join('');
  }
  if (!HEX64.test(text)) throw new InvalidFingerprintError();
  return text;
}
