/**
 * Identifiers whose unpredictability matters (RFC 3261 §8.1.1.4, §8.1.1.7, §19.3): branches,
 * tags and Call-IDs are guessed by off-path attackers to inject CANCELs, BYEs or responses, so
 * they come from node:crypto only.
 */
import { BRANCH_MAGIC_COOKIE } from '../message/types';
import { randomToken } from '../random';

/** A Via branch: the magic cookie then 128 random bits (§8.1.1.7: unique across space and time). */
export function newBranch(): string {
  return BRANCH_MAGIC_COOKIE + randomToken(16);
}

/** A From/To tag: 96 random bits (§19.3 asks for at least 32). */
export function newTag(): string {
  return randomToken(12);
}

/**
 * A Call-ID: 128 random bits, optionally `@host` (§8.1.1.4). Only a host name or address the
 * caller controls should be passed; it is not validated here.
 */
export function newCallId(host?: string): string {
  const local = randomToken(16);
  return host === undefined || host === '' ? local : `${local}@${host}`;
}
