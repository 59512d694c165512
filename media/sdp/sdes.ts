/**
 * SDES offer/answer for SRTP (RFC 4568 §7): which a=crypto lines to offer, which offered line to
 * accept, whether an answer fits our offer, and when a re-offer keeps the current key.
 *
 * Policy (a security gateway never negotiates down):
 * - A line asking for UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP or UNAUTHENTICATED_SRTP (§6.3.2, §6.3.3)
 *   is refused; if that leaves nothing, the SdesError code is 'weaker-security-refused'.
 * - KDR (§6.3.1): media/srtp derives session keys once per master key (RFC 3711 §4.3.1 with
 *   key_derivation_rate 0). KDR=0 and an absent KDR mean exactly that and are accepted; KDR=1..24
 *   asks for periodic re-derivation, which the SRTP context does not do: that line is skipped.
 * - MKI (§6.1; RFC 3711 §3.1): a line with one key and an MKI is accepted, and its MKI carried to
 *   the SRTP context (every packet of that key carries it). A line with several keys, told apart by
 *   MKI, is skipped: one master key per direction. Our own lines never use an MKI. A peer that keeps
 *   its key but changes its MKI is refused ('mki-changed'): the MKI is not authenticated, so a fresh
 *   context for the old key would replay its old packets. Lifetime is accepted and returned with the key.
 * - A line with a session parameter RFC 4568 does not define (§9.2 srtp-session-extension) is
 *   skipped: we cannot know it does not weaken the stream. FEC_ORDER / FEC_KEY (no FEC here) and
 *   WSH (a hint) are harmless and accepted.
 * - Two lines with one tag (RFC 4568 §4: a tag identifies one line of the stream) are both
 *   skipped: an answer could not say which one it accepted.
 * Every key we send is fresh from an SdesKeyRing, per line, per offer or answer, per leg.
 */
import { SdesError, type SdesSkipReason, type SkippedCrypto } from './errors';
import { formatCryptoAttribute, parseCryptoAttribute, type SdesCryptoAttribute, type SdesKey } from './crypto-attribute';
import { defaultKeyRing, sameKey, type SdesKeyRing } from './key-ring';
import { isSrtpProfileName, type SrtpProfileName } from '../srtp/profiles';

/** Our default preference, strongest first: AEAD before AES-CM+HMAC, 256 before 128, 80-bit tag before 32. */
export const DEFAULT_SDES_PREFERENCE: readonly SrtpProfileName[] = Object.freeze([
  'AEAD_AES_256_GCM',
  'AEAD_AES_128_GCM',
  'AES_256_CM_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
] as const);

/** A stream keyed by SDES after one offer/answer exchange. */
export interface SdesStream {
  readonly tag: number;
  readonly suite: SrtpProfileName;
  /** Our key: protect what we send. */
  readonly local: SdesKey;
  /** The peer's key: unprotect what we receive. */
  readonly remote: SdesKey;
  /** Our transport address for the stream when negotiated (any stable text, e.g. "203.0.113.5:40000"). */
  readonly transport: string | undefined;
}

export interface SdesOfferedCrypto {
  readonly tag: number;
  readonly suite: SrtpProfileName;
  readonly key: SdesKey;
  /** The a=crypto value to write (without "a=crypto:"). */
  readonly value: string;
}

export interface SdesOffer {
  readonly cryptos: readonly SdesOfferedCrypto[];
  /** The a=crypto values, in preference order: what `replaceCrypto` takes. */
  readonly values: readonly string[];
  readonly transport: string | undefined;
  /** The tag whose current key was kept (RFC 4568 §7.1.4), if any. */
  readonly keptTag: number | undefined;
}

export interface SdesExchangeOptions {
  keyRing?: SdesKeyRing;
  /** The stream as currently negotiated, for a re-offer or the answer to one. */
  current?: SdesStream;
  /** Our transport address now; a change means new keys (RFC 4568 §7.1.4). */
  transport?: string;
}

export interface SdesNegotiation {
  readonly stream: SdesStream;
  /** The outbound SRTP context must be rebuilt. */
  readonly localKeyChanged: boolean;
  /** The inbound SRTP context must be rebuilt. */
  readonly remoteKeyChanged: boolean;
}

export interface SdesAnswer extends SdesNegotiation {
  /** The one a=crypto value of the answer (without "a=crypto:"). */
  readonly value: string;
  /** Offered lines not chosen because unusable, with why. */
  readonly skipped: readonly SkippedCrypto[];
}

/**
 * Offer (§7.1.1) one a=crypto line per suite, in `suites` order (our preference), tags 1, 2, ...,
 * each with its own fresh key. Re-offer (§7.1.4): if `current` is given, its suite is still
 * offered and the transport is unchanged, that line keeps the current tag and key.
 */
export function makeOffer(suites: readonly SrtpProfileName[], options: SdesExchangeOptions = {}): SdesOffer {
  checkSuites(suites);
  const ring = options.keyRing ?? defaultKeyRing;
  const cur = options.current;
  const keep = cur !== undefined && cur.transport !== undefined && cur.transport === options.transport && suites.includes(cur.suite);
  let nextTag = 1;
  const cryptos = suites.map((suite): SdesOfferedCrypto => {
    if (keep && suite === cur.suite) return offered(cur.tag, suite, cur.local);
    if (keep && nextTag === cur.tag) nextTag++;
    return offered(nextTag++, suite, ring.issue(suite));
  });
  return { cryptos, values: cryptos.map((c) => c.value), transport: options.transport, keptTag: keep ? cur.tag : undefined };
}

/**
 * Answer an offer's a=crypto values (§7.1.2): pick the usable line whose suite ranks best in
 * `localPreference` (ties: the offerer's order), answer with its tag, its suite and a fresh key
 * of ours, or the current key on an unchanged re-offer (same tag, suite, transport).
 * Throws SdesError (488) when no line is usable.
 */
export function answer(
  offerValues: readonly string[],
  localPreference: readonly SrtpProfileName[] = DEFAULT_SDES_PREFERENCE,
  options: SdesExchangeOptions = {},
): SdesAnswer {
  checkSuites(localPreference);
  if (offerValues.length === 0) throw new SdesError('no-crypto');
  const ring = options.keyRing ?? defaultKeyRing;
  const skipped: SkippedCrypto[] = [];
  const candidates: { attr: SdesCryptoAttribute; index: number }[] = [];
  const parsed = offerValues.map((v, index) => examine(v, index, skipped));
  const tagCount = new Map<number, number>();
  for (const p of parsed) if (p.tag !== undefined) tagCount.set(p.tag, (tagCount.get(p.tag) ?? 0) + 1);
  parsed.forEach((p, index) => {
    if (!p.attr) return;
    let reason: SdesSkipReason | undefined;
    if ((tagCount.get(p.attr.tag) ?? 0) > 1) reason = 'duplicate-tag';
    else reason = policyVerdict(p.attr) ?? (localPreference.includes(p.attr.suite) ? undefined : 'suite-not-allowed');
    if (reason) skipped.push({ index, tag: p.attr.tag, reason });
    else candidates.push({ attr: p.attr, index });
  });
  skipped.sort((a, b) => a.index - b.index);
  if (candidates.length === 0) {
    const weaker = skipped.some((s) => s.reason === 'weaker-security');
    throw new SdesError(weaker ? 'weaker-security-refused' : 'no-usable-crypto', undefined, skipped);
  }
  const rank = (a: SdesCryptoAttribute): number => localPreference.indexOf(a.suite);
  const best = candidates.reduce((b, c) => (rank(c.attr) < rank(b.attr) ? c : b)).attr;
  const remote = best.keys[0]!;
  // A peer presenting a key we issued (to this leg or any other) would make two senders share it.
  if (ring.issuedHere(remote)) throw new SdesError('key-reflected', best.tag);
  const cur = options.current;
  checkMkiKept(cur, remote, best.tag);
  ring.observe(remote);
  const keep =
    cur !== undefined &&
    cur.tag === best.tag &&
    cur.suite === best.suite &&
    cur.transport !== undefined &&
    cur.transport === options.transport;
  const local = keep ? cur.local : ring.issue(best.suite);
  if (sameKey(local, remote)) throw new SdesError('key-reflected', best.tag);
  return {
    value: formatCryptoAttribute({ tag: best.tag, suite: best.suite, keys: [local] }),
    stream: { tag: best.tag, suite: best.suite, local, remote, transport: options.transport },
    localKeyChanged: !keep,
    remoteKeyChanged: cur === undefined || !sameKey(cur.remote, remote),
    skipped,
  };
}

/**
 * Check the answer to our offer (§7.1.3): exactly one a=crypto line, with a tag we
 * offered and that line's suite, usable under our policy, and not our own key sent back.
 */
export function acceptAnswer(
  offer: SdesOffer,
  answerValues: readonly string[],
  options: Omit<SdesExchangeOptions, 'transport'> = {},
): SdesNegotiation {
  if (answerValues.length === 0) throw new SdesError('no-crypto');
  if (answerValues.length > 1) throw new SdesError('answer-not-single');
  const skipped: SkippedCrypto[] = [];
  const p = examine(answerValues[0]!, 0, skipped);
  if (!p.attr) throw new SdesError('answer-unusable', p.tag);
  const attr = p.attr;
  const mine = offer.cryptos.find((c) => c.tag === attr.tag);
  if (!mine) throw new SdesError('answer-tag-not-offered', attr.tag);
  if (mine.suite !== attr.suite) throw new SdesError('answer-suite-mismatch', attr.tag);
  const verdict = policyVerdict(attr);
  if (verdict === 'weaker-security') throw new SdesError('weaker-security-refused', attr.tag);
  if (verdict) throw new SdesError('answer-unusable', attr.tag);
  const remote = attr.keys[0]!;
  const ring = options.keyRing ?? defaultKeyRing;
  if (offer.cryptos.some((c) => sameKey(c.key, remote)) || ring.issuedHere(remote)) {
    throw new SdesError('key-reflected', attr.tag);
  }
  const cur = options.current;
  checkMkiKept(cur, remote, attr.tag);
  ring.observe(remote);
  return {
    stream: { tag: attr.tag, suite: attr.suite, local: mine.key, remote, transport: offer.transport },
    localKeyChanged: cur === undefined || !sameKey(cur.local, mine.key),
    remoteKeyChanged: cur === undefined || !sameKey(cur.remote, remote),
  };
}

/**
 * Why an a=crypto line is not acceptable to this gateway, or undefined if it is. The parse
 * (grammar, suite, key length) is `parseCryptoAttribute`'s; this is the policy above.
 */
export function policyVerdict(attr: SdesCryptoAttribute): SdesSkipReason | undefined {
  const p = attr.sessionParams;
  if (p.unencryptedSrtp || p.unencryptedSrtcp || p.unauthenticatedSrtp) return 'weaker-security';
  if (p.kdr !== undefined && p.kdr !== 0) return 'kdr-unsupported';
  if (attr.keys.length !== 1) return 'multiple-keys-unsupported';
  if (p.unknown.length > 0) return 'unknown-session-parameter';
  return undefined;
}

function examine(value: string, index: number, skipped: SkippedCrypto[]): { attr?: SdesCryptoAttribute; tag?: number } {
  try {
    const attr = parseCryptoAttribute(value);
    return { attr, tag: attr.tag };
  } catch (e) {
    if (!(e instanceof SdesError)) throw e;
    skipped.push({ index, tag: e.tag, reason: e.code === 'unsupported-crypto' ? 'unsupported-suite' : 'malformed' });
    return e.tag === undefined ? {} : { tag: e.tag };
  }
}

/** The peer's key unchanged but its MKI not (added, removed or changed): refused, see the policy above. */
function checkMkiKept(current: SdesStream | undefined, remote: SdesKey, tag: number): void {
  if (current === undefined || !sameKey(current.remote, remote)) return;
  const [a, b] = [current.remote.mki, remote.mki];
  if (a === undefined && b === undefined) return;
  if (a === undefined || b === undefined || !a.equals(b)) throw new SdesError('mki-changed', tag);
}

function offered(tag: number, suite: SrtpProfileName, key: SdesKey): SdesOfferedCrypto {
  return { tag, suite, key, value: formatCryptoAttribute({ tag, suite, keys: [key] }) };
}

function checkSuites(suites: readonly SrtpProfileName[]): void {
  if (suites.length === 0 || new Set(suites).size !== suites.length || !suites.every((s) => isSrtpProfileName(s))) {
    throw new SdesError('bad-configuration');
  }
}
