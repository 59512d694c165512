/**
 * UAC side of Digest, for trunks (RFC 3261 §22.2, §22.3; RFC 7616 §3.4; RFC 8760 §2.4).
 *
 * `respond()` answers a 401/407 and remembers the challenge per realm; `authorize()` adds
 * credentials to later requests with the same nonce and an incremented nc, so that a registrar
 * is not asked for a new challenge on every request (RFC 7616 §3.4: the client reuses the nonce).
 *
 * Algorithm choice is a deliberate local policy (allowed by RFC 8760 §2.4): per realm the
 * strongest offered hash wins rather than the topmost header field, because challenges are not
 * integrity-protected and an on-path attacker could otherwise reorder them to force MD5
 * (RFC 8760 §3). Ties go to the topmost, so the server still decides among equals.
 *
 * Secrets (password, HA1s) live in #private fields: not enumerable, not shown by util.inspect,
 * not serialized by JSON.stringify.
 */
import { randomBytes } from 'node:crypto';
import { authParam, parseAuthHeader, parseQopOptions, serializeAuthHeader, type AuthHeaderValue, type AuthParamValue } from './auth-params';
import {
  checkAlgorithmList,
  computeHA1,
  computeHA2,
  computeLegacyResponse,
  computeResponse,
  DIGEST_ALGORITHMS,
  HASH_STRENGTH,
  hashOf,
  isSessionAlgorithm,
  normalizeHA1,
  parseAlgorithm,
  sessionKey,
  type DigestAlgorithm,
  type DigestHash,
} from './algorithms';
import { AuthHeaderSyntaxError, DigestChallengeError, DigestConfigError, DigestLoopError, InvalidAuthParamError } from './errors';
import { NC_MAX } from './nonce-count';

export interface DigestClientCredentials {
  username: string;
  /** The password; or give `ha1` instead. */
  password?: string;
  /** HA1 per hash (hex or raw bytes), for deployments that never hold the password. Needs `realm`. */
  ha1?: Partial<Record<DigestHash, Buffer | string>>;
  /**
   * Answer only challenges of this realm. Strongly advised: a response lets whoever sent the
   * challenge run an offline dictionary attack on the password.
   */
  realm?: string;
}

export interface DigestClientOptions {
  /** Algorithms the client may use. Default: all six. */
  algorithms?: readonly DigestAlgorithm[];
  /** Answer challenges without qop in the RFC 2069 form (old trunks). Default true. */
  allowLegacy?: boolean;
  /** Realms remembered for `authorize()`. Default 8. */
  maxCachedChallenges?: number;
}

export interface AuthorizationHeader {
  name: 'Authorization' | 'Proxy-Authorization';
  value: string;
}

export interface RespondInput {
  /** 401 → Authorization, 407 → Proxy-Authorization. */
  status: 401 | 407;
  /** Every WWW-Authenticate (401) or Proxy-Authenticate (407) value of the response. */
  challenges: string | readonly string[];
  /** Method and Request-URI of the request about to be re-sent. */
  method: string;
  uri: string;
  /**
   * The Authorization / Proxy-Authorization values the challenged request carried. With them the
   * client recognizes a rejection of credentials it already gave (RFC 3261 §22.2) and refuses.
   */
  sent?: string | readonly string[];
  /** Call-ID of the request: proxy credentials are reused only within it (RFC 3261 §22.3). */
  callId?: string;
}

export interface AuthorizeInput {
  method: string;
  uri: string;
  callId?: string;
}

/** A challenge the client can answer. */
interface Offer {
  realm: string;
  nonce: string;
  opaque: string | undefined;
  algorithm: DigestAlgorithm;
  /** RFC 7616 §3.4: the algorithm is echoed as received; some servers fail on an unasked one. */
  echoAlgorithm: boolean;
  /** qop=auth (true) or the RFC 2069 form (false). */
  qop: boolean;
  stale: boolean;
  index: number;
}

interface CacheEntry extends Offer {
  proxy: boolean;
  ha1: string;
  nc: number;
  /** -sess: one cnonce per nonce, so the session key stays H(HA1:nonce:cnonce) of the first use. */
  sessCnonce: string | undefined;
  callId: string | undefined;
}

const MAX_VALUES = 16;
const MAX_ANSWERED = 64;

function toList(v: string | readonly string[] | undefined): readonly string[] {
  return v === undefined ? [] : typeof v === 'string' ? [v] : v;
}

function tryParse(v: string): AuthHeaderValue | undefined {
  try {
    return parseAuthHeader(v);
  } catch (e) {
    if (e instanceof AuthHeaderSyntaxError) return undefined;
    throw e;
  }
}

function better(a: Offer, b: Offer): boolean {
  const sa = HASH_STRENGTH[hashOf(a.algorithm)];
  const sb = HASH_STRENGTH[hashOf(b.algorithm)];
  if (sa !== sb) return sa > sb;
  if (a.qop !== b.qop) return a.qop;
  return a.index < b.index;
}

export class DigestClient {
  readonly username: string;
  readonly realm: string | undefined;
  private readonly algorithms: readonly DigestAlgorithm[];
  private readonly allowLegacy: boolean;
  private readonly maxCached: number;
  readonly #password: string | undefined;
  readonly #ha1 = new Map<DigestHash, string>();
  readonly #cache = new Map<string, CacheEntry>();
  /** Challenges already answered (proxy, realm, nonce), oldest first. */
  readonly #answered = new Set<string>();

  constructor(credentials: DigestClientCredentials, options: DigestClientOptions = {}) {
    this.username = credentials.username;
    this.realm = credentials.realm;
    this.#password = credentials.password;
    this.algorithms = checkAlgorithmList(options.algorithms ?? DIGEST_ALGORITHMS, 'DigestClient');
    this.allowLegacy = options.allowLegacy ?? true;
    this.maxCached = Math.max(1, Math.floor(options.maxCachedChallenges ?? 8));
    for (const [hash, v] of Object.entries(credentials.ha1 ?? {}) as Array<[DigestHash, Buffer | string | undefined]>) {
      if (v === undefined) continue;
      const ha1 = HASH_STRENGTH[hash] === undefined ? undefined : normalizeHA1(hash, v);
      if (ha1 === undefined) throw new DigestConfigError(`DigestClient: HA1 for ${JSON.stringify(hash)} has the wrong form`);
      this.#ha1.set(hash, ha1);
    }
    if (this.#password === undefined && this.#ha1.size === 0) throw new DigestConfigError('DigestClient: a password or an HA1 is needed');
    if (this.#ha1.size > 0 && this.realm === undefined) throw new DigestConfigError('DigestClient: an HA1 is bound to a realm; set realm');
    try {
      serializeAuthHeader('Digest', [['username', { value: this.username, quoted: true }]]);
    } catch (e) {
      if (e instanceof InvalidAuthParamError) throw new DigestConfigError('DigestClient: username has control characters');
      throw e;
    }
  }

  /**
   * Answers a 401/407: per realm, the strongest challenge this client can answer. Throws
   * {@link DigestChallengeError} when none can be answered and {@link DigestLoopError} when
   * answering would repeat itself (same challenge again, or credentials just rejected without
   * stale=true). On a throw, no state changes.
   */
  respond(input: RespondInput): AuthorizationHeader[] {
    const values = toList(input.challenges).slice(0, MAX_VALUES);
    if (values.length === 0) throw new DigestChallengeError('no-challenge');
    const proxy = input.status === 407;
    const best = new Map<string, Offer>();
    let parsed = 0;
    values.forEach((v, index) => {
      const h = tryParse(v);
      if (h === undefined) return;
      parsed++;
      const offer = h.isDigest ? this.offerOf(h, index) : undefined;
      if (offer === undefined) return;
      const cur = best.get(offer.realm);
      if (cur === undefined || better(offer, cur)) best.set(offer.realm, offer);
    });
    if (best.size === 0) throw new DigestChallengeError(parsed === 0 ? 'malformed' : 'no-usable-challenge');

    const sentNonce = new Map<string, string>();
    for (const v of toList(input.sent).slice(0, MAX_VALUES)) {
      const h = tryParse(v);
      const realm = h?.isDigest === true ? authParam(h, 'realm') : undefined;
      const nonce = h === undefined ? undefined : authParam(h, 'nonce');
      if (realm !== undefined && nonce !== undefined && !sentNonce.has(realm)) sentNonce.set(realm, nonce);
    }
    for (const o of best.values()) {
      const prev = sentNonce.get(o.realm);
      // RFC 7616 §3.3: without stale=true, a challenge to credentials we sent means they were wrong.
      if (prev !== undefined && !o.stale) throw new DigestLoopError(o.realm, 'credentials-rejected');
      if (prev === o.nonce || this.#answered.has(this.answeredKey(proxy, o))) throw new DigestLoopError(o.realm, 'same-challenge');
    }

    const entries: CacheEntry[] = [...best.values()].map((o) => ({
      ...o,
      proxy,
      ha1: this.ha1For(hashOf(o.algorithm), o.realm),
      nc: 0,
      sessCnonce: isSessionAlgorithm(o.algorithm) ? randomBytes(16).toString('hex') : undefined,
      callId: input.callId,
    }));
    // Build every value before remembering anything: a bad uri throws with no state changed.
    const out = entries.map((e) => this.build(e, input.method, input.uri)).filter((h): h is AuthorizationHeader => h !== undefined);
    for (const e of entries) this.remember(e);
    return out;
  }

  /**
   * Credentials for a new request from the remembered challenges (one per realm), each with the
   * next nc. Proxy credentials are only reused within their Call-ID, except for `realm` (our
   * outbound proxy / registrar), as RFC 3261 §22.3 allows.
   */
  authorize(input: AuthorizeInput): AuthorizationHeader[] {
    const out: AuthorizationHeader[] = [];
    for (const [key, e] of this.#cache) {
      if (e.proxy && e.callId !== undefined && e.callId !== input.callId && e.realm !== this.realm) continue;
      const header = this.build(e, input.method, input.uri);
      if (header === undefined) this.#cache.delete(key);
      else out.push(header);
    }
    return out;
  }

  /** Drops every remembered challenge (e.g. after a configuration change). */
  forget(): void {
    this.#cache.clear();
    this.#answered.clear();
  }

  private offerOf(h: AuthHeaderValue, index: number): Offer | undefined {
    const realm = authParam(h, 'realm');
    const nonce = authParam(h, 'nonce');
    if (realm === undefined || nonce === undefined || nonce === '') return undefined;
    if (this.realm !== undefined && realm !== this.realm) return undefined;
    const algToken = authParam(h, 'algorithm');
    const algorithm = parseAlgorithm(algToken);
    if (algorithm === undefined || !this.algorithms.includes(algorithm)) return undefined;
    if (this.#password === undefined && !this.#ha1.has(hashOf(algorithm))) return undefined;
    const qopOptions = authParam(h, 'qop');
    let qop: boolean;
    if (qopOptions !== undefined) {
      if (!parseQopOptions(qopOptions).includes('auth')) return undefined; // auth-int needs the body
      qop = true;
    } else {
      // RFC 2069 form: no cnonce, hence no -sess (RFC 7616 §3.4.2 needs the cnonce).
      if (!this.allowLegacy || isSessionAlgorithm(algorithm)) return undefined;
      qop = false;
    }
    const stale = authParam(h, 'stale')?.toLowerCase() === 'true';
    return { realm, nonce, opaque: authParam(h, 'opaque'), algorithm, echoAlgorithm: algToken !== undefined, qop, stale, index };
  }

  private ha1For(hash: DigestHash, realm: string): string {
    const stored = this.#ha1.get(hash);
    if (stored !== undefined) return stored;
    // offerOf() only admits a hash we have an HA1 for, or any hash when we hold the password.
    return computeHA1(hash, this.username, realm, this.#password ?? '');
  }

  private answeredKey(proxy: boolean, o: Offer): string {
    return `${proxy ? 'P' : 'W'}\0${o.realm}\0${o.nonce}`;
  }

  private remember(e: CacheEntry): void {
    const key = `${e.proxy ? 'P' : 'W'}\0${e.realm}`;
    this.#cache.delete(key);
    this.#cache.set(key, e);
    while (this.#cache.size > this.maxCached) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#answered.add(this.answeredKey(e.proxy, e));
    while (this.#answered.size > MAX_ANSWERED) this.#answered.delete(this.#answered.values().next().value as string);
  }

  /** One credentials value (RFC 7616 §3.4), or undefined once the nc space is spent. */
  private build(e: CacheEntry, method: string, uri: string): AuthorizationHeader | undefined {
    const hash = hashOf(e.algorithm);
    const ha2 = computeHA2(hash, method, uri);
    const q = (value: string): AuthParamValue => ({ value, quoted: true });
    const t = (value: string): AuthParamValue => ({ value, quoted: false });
    let response: string;
    let tail: Array<[string, AuthParamValue]> = [];
    if (e.qop) {
      if (e.nc >= NC_MAX) return undefined;
      e.nc++;
      const nc = e.nc.toString(16).padStart(8, '0');
      const cnonce = e.sessCnonce ?? randomBytes(16).toString('hex');
      const key = sessionKey(e.algorithm, e.ha1, e.nonce, cnonce);
      response = computeResponse(hash, { ha1: key, nonce: e.nonce, nc, cnonce, qop: 'auth', ha2 });
      tail = [['cnonce', q(cnonce)]];
      if (e.opaque !== undefined) tail.push(['opaque', q(e.opaque)]);
      tail.push(['qop', t('auth')], ['nc', t(nc)]);
    } else {
      response = computeLegacyResponse(hash, e.ha1, e.nonce, ha2);
      if (e.opaque !== undefined) tail.push(['opaque', q(e.opaque)]);
    }
    const params: Array<[string, AuthParamValue]> = [
      ['username', q(this.username)],
      ['realm', q(e.realm)],
      ['nonce', q(e.nonce)],
      ['uri', q(uri)],
      ['response', q(response)],
    ];
    if (e.echoAlgorithm) params.push(['algorithm', t(e.algorithm)]);
    const value = serializeAuthHeader('Digest', [...params, ...tail]);
    return { name: e.proxy ? 'Proxy-Authorization' : 'Authorization', value };
  }
}
