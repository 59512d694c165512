/**
 * UAS / proxy side of Digest (RFC 3261 §22.1–§22.4, RFC 7616 §3.3–§3.5, RFC 8760 §2.3).
 *
 * `challenge()` builds the WWW-Authenticate / Proxy-Authenticate values, `verify()` checks the
 * Authorization / Proxy-Authorization values of a request. Nonces are stateless (nonce.ts); the
 * only state is the bounded nonce-count table (nonce-count.ts). The server never sees a password:
 * it asks a lookup callback for HA1, the stored secret form.
 *
 * What an attacker can learn is limited on purpose: an unknown user and a wrong password give the
 * same result and cost the same hashing (a dummy HA1 stands in for the missing one), and no error
 * or result carries a secret.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { authParam, parseAuthHeader, serializeAuthHeader, type AuthHeaderValue, type AuthParamValue } from './auth-params';
import {
  checkAlgorithmList,
  computeHA2,
  computeResponse,
  hashOf,
  isDigestHex,
  isHex,
  normalizeHA1,
  parseAlgorithm,
  sessionKey,
  type DigestAlgorithm,
  type DigestHash,
} from './algorithms';
import { AuthHeaderSyntaxError, DigestConfigError } from './errors';
import { NonceManager, type NonceCheck } from './nonce';
import { NonceCountTracker } from './nonce-count';

export interface DigestServerOptions {
  /** Algorithms offered, most preferred first (RFC 8760 §2.3). Default `['SHA-256', 'MD5']`. */
  algorithms?: readonly DigestAlgorithm[];
  /** HMAC key for nonces, ≥ 32 bytes (share it across a cluster). Default: random. */
  nonceSecret?: Buffer;
  /** Nonce lifetime (RFC 7616 §3.3). Default 300 s. */
  nonceExpirySeconds?: number;
  /** How long the previous nonce secret validates after {@link DigestServer.rotateSecret}. */
  secretGraceSeconds?: number;
  /** Fixed opaque sent in challenges and required back (RFC 7616 §3.3). Default: none. */
  opaque?: string;
  /** Bound of the nonce-count table. Default 65 536. */
  maxTrackedNonces?: number;
  /** Nonce-count anti-replay window (see nonce-count.ts). Default 0: nc must strictly increase. */
  ncWindow?: number;
  /** Clock in ms since the epoch (tests). */
  now?: () => number;
  /** Told when the lookup returned an HA1 of the wrong size/form (treated as an unknown user). */
  onStoredSecretError?: (username: string, realm: string, hash: DigestHash) => void;
}

export interface ChallengeOptions {
  realm: string;
  /** The previous nonce was stale but the digest was right (RFC 7616 §3.3). */
  stale?: boolean;
  /** Proxy-Authenticate (407) rather than WWW-Authenticate (401); the values are the same. */
  proxy?: boolean;
  /** Binds the nonces to e.g. the client's address; pass the same binding to `verify`. */
  binding?: string;
}

/** Returns HA1 = H(username:realm:password) for `hash` (hex string or raw bytes), or undefined. */
export type HA1Lookup = (username: string, realm: string, hash: DigestHash) => Buffer | string | undefined;
export type HA1LookupAsync = (
  username: string,
  realm: string,
  hash: DigestHash,
) => Buffer | string | undefined | Promise<Buffer | string | undefined>;

export interface VerifyInput<L = HA1Lookup> {
  /** The request method (A2 uses it, RFC 7616 §3.4.3). */
  method: string;
  /** Every Authorization (or Proxy-Authorization) value of the request, or none. */
  credentials: string | readonly string[] | undefined;
  /** Our realm: only credentials for it are considered (RFC 3261 §22.3). */
  realm: string;
  lookup: L;
  /** Same binding as given to `challenge`. */
  binding?: string;
}

/** Reasons for metrics. `bad-credentials` covers both unknown user and wrong password on purpose. */
export type DigestInvalidReason =
  | 'malformed'
  | 'ambiguous'
  | 'realm-mismatch'
  | 'unsupported-algorithm'
  | 'unsupported-username'
  | 'missing-param'
  | 'qop-missing'
  | 'qop-unsupported'
  | 'bad-nc'
  | 'opaque-mismatch'
  | 'bad-nonce'
  | 'bad-credentials'
  | 'nc-replay';

export type DigestVerifyResult =
  | {
      status: 'ok';
      username: string;
      realm: string;
      algorithm: DigestAlgorithm;
      /** digest-uri: the core must compare it with the Request-URI (RFC 7616 §3.4.6). */
      uri: string;
      nc: number;
    }
  /** Right digest, expired nonce: challenge again with stale=true (RFC 7616 §3.3). */
  | { status: 'stale'; algorithm: DigestAlgorithm }
  | { status: 'invalid'; reason: DigestInvalidReason }
  /** No Digest credentials at all: challenge (RFC 3261 §22.1; RFC 4475 "regaut01"). */
  | { status: 'missing'; reason: 'no-credentials' | 'unsupported-scheme' };

/** Everything checked before the HA1 lookup; none of it depends on whether the user exists. */
interface Pending {
  username: string;
  realm: string;
  algorithm: DigestAlgorithm;
  uri: string;
  nonce: string;
  nonceState: Exclude<NonceCheck, { status: 'invalid' }>;
  ncText: string;
  nc: number;
  cnonce: string;
  response: string;
  method: string;
}

/** More credential values than any legitimate proxy chain produces; bounds the parsing work. */
const MAX_CREDENTIAL_VALUES = 16;
const MAX_CNONCE_LENGTH = 256;
const MAX_REALM_LENGTH = 256;

const invalid = (reason: DigestInvalidReason): DigestVerifyResult => ({ status: 'invalid', reason });

function parseNc(s: string): number | undefined {
  // nc-value = 8LHEX (RFC 7616 §3.4); upper-case accepted: the digest uses the text as sent.
  if (s.length !== 8 || !isHex(s)) return undefined;
  const n = parseInt(s, 16);
  return n === 0 ? undefined : n;
}

export class DigestServer {
  private readonly algorithms: readonly DigestAlgorithm[];
  private readonly nonces: NonceManager;
  private readonly counts: NonceCountTracker;
  private readonly opaque: string | undefined;
  private readonly onStoredSecretError: DigestServerOptions['onStoredSecretError'];
  /** Stand-in HA1 per hash for unknown users: same work, never matches (random per instance). */
  readonly #dummyHA1: Readonly<Record<DigestHash, string>>;

  constructor(options: DigestServerOptions = {}) {
    this.algorithms = checkAlgorithmList(options.algorithms ?? ['SHA-256', 'MD5'], 'DigestServer');
    this.nonces = new NonceManager({
      secret: options.nonceSecret,
      expirySeconds: options.nonceExpirySeconds,
      graceSeconds: options.secretGraceSeconds,
      now: options.now,
    });
    this.counts = new NonceCountTracker({ maxEntries: options.maxTrackedNonces, window: options.ncWindow, now: options.now });
    this.opaque = options.opaque;
    this.onStoredSecretError = options.onStoredSecretError;
    this.#dummyHA1 = {
      MD5: randomBytes(16).toString('hex'),
      'SHA-256': randomBytes(32).toString('hex'),
      'SHA-512-256': randomBytes(32).toString('hex'),
    };
    // Fail at start-up, not on the first 401, if the opaque cannot be written.
    if (this.opaque !== undefined) serializeAuthHeader('Digest', [['opaque', { value: this.opaque, quoted: true }]]);
  }

  /** The header a challenge goes in: WWW-Authenticate (401) or Proxy-Authenticate (407). */
  static challengeHeaderName(proxy = false): 'WWW-Authenticate' | 'Proxy-Authenticate' {
    return proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
  }

  /**
   * One challenge value per configured algorithm, most preferred first (RFC 8760 §2.3), each with
   * its own nonce and qop="auth". Throws {@link DigestConfigError} for an unusable realm.
   */
  challenge(opts: ChallengeOptions): string[] {
    const realm = opts.realm;
    if (realm.length === 0 || realm.length > MAX_REALM_LENGTH) throw new DigestConfigError('realm must be 1..256 characters');
    return this.algorithms.map((alg) => {
      const params: Array<[string, AuthParamValue]> = [
        ['realm', { value: realm, quoted: true }],
        ['nonce', { value: this.nonces.issue(realm, opts.binding), quoted: true }],
      ];
      if (this.opaque !== undefined) params.push(['opaque', { value: this.opaque, quoted: true }]);
      if (opts.stale === true) params.push(['stale', { value: 'true', quoted: false }]);
      params.push(['algorithm', { value: alg, quoted: false }], ['qop', { value: 'auth', quoted: true }]);
      try {
        return serializeAuthHeader('Digest', params);
      } catch {
        throw new DigestConfigError('realm cannot be written as a quoted-string');
      }
    });
  }

  /** Rotates the nonce secret (default: fresh random); the old one validates for the grace period. */
  rotateSecret(secret?: Buffer): void {
    this.nonces.rotate(secret);
  }

  /** Verifies credentials with a synchronous HA1 lookup. Never throws on network input. */
  verify(input: VerifyInput): DigestVerifyResult {
    const p = this.prepare(input);
    if ('status' in p) return p;
    return this.finish(p, input.lookup(p.username, p.realm, hashOf(p.algorithm)));
  }

  /** Same as {@link verify} with a lookup that may return a promise (database, directory). */
  async verifyAsync(input: VerifyInput<HA1LookupAsync>): Promise<DigestVerifyResult> {
    const p = this.prepare(input);
    if ('status' in p) return p;
    return this.finish(p, await input.lookup(p.username, p.realm, hashOf(p.algorithm)));
  }

  /** Picks the one Digest value for our realm (RFC 3261 §22.3) and checks it up to the nonce. */
  private prepare(input: VerifyInput<unknown>): Pending | DigestVerifyResult {
    const values = input.credentials === undefined ? [] : typeof input.credentials === 'string' ? [input.credentials] : input.credentials;
    if (values.length === 0) return { status: 'missing', reason: 'no-credentials' };
    if (values.length > MAX_CREDENTIAL_VALUES) return invalid('malformed');
    let digestSeen = false;
    let mine: AuthHeaderValue | undefined;
    for (const v of values) {
      let h: AuthHeaderValue;
      try {
        h = parseAuthHeader(v);
      } catch (e) {
        if (e instanceof AuthHeaderSyntaxError) return invalid('malformed');
        throw e;
      }
      if (!h.isDigest) continue;
      digestSeen = true;
      if (authParam(h, 'realm') !== input.realm) continue;
      if (mine !== undefined) return invalid('ambiguous');
      mine = h;
    }
    if (!digestSeen) return { status: 'missing', reason: 'unsupported-scheme' };
    if (mine === undefined) return invalid('realm-mismatch');
    return this.check(mine, input);
  }

  private check(h: AuthHeaderValue, input: VerifyInput<unknown>): Pending | DigestVerifyResult {
    const algorithm = parseAlgorithm(authParam(h, 'algorithm'));
    if (algorithm === undefined || !this.algorithms.includes(algorithm)) return invalid('unsupported-algorithm');
    // RFC 7616 §3.4.4: userhash and username* need server support we do not offer.
    if (authParam(h, 'userhash')?.toLowerCase() === 'true' || h.params.has('username*')) return invalid('unsupported-username');
    const username = authParam(h, 'username');
    const nonce = authParam(h, 'nonce');
    const uri = authParam(h, 'uri');
    const response = authParam(h, 'response');
    if (username === undefined || nonce === undefined || uri === undefined || uri === '' || response === undefined) {
      return invalid('missing-param');
    }
    // We always send qop="auth" (RFC 7616 §3.4: then qop, cnonce and nc MUST be present).
    const qop = authParam(h, 'qop');
    if (qop === undefined) return invalid('qop-missing');
    if (qop.toLowerCase() !== 'auth') return invalid('qop-unsupported');
    const cnonce = authParam(h, 'cnonce');
    const ncText = authParam(h, 'nc');
    if (cnonce === undefined || cnonce === '' || ncText === undefined) return invalid('missing-param');
    if (cnonce.length > MAX_CNONCE_LENGTH) return invalid('malformed');
    const nc = parseNc(ncText);
    if (nc === undefined) return invalid('bad-nc');
    const hash = hashOf(algorithm);
    if (!isDigestHex(hash, response)) return invalid('malformed');
    if (this.opaque !== undefined && authParam(h, 'opaque') !== this.opaque) return invalid('opaque-mismatch');
    const nonceState = this.nonces.check(nonce, input.realm, input.binding);
    if (nonceState.status === 'invalid') return invalid('bad-nonce');
    return { username, realm: input.realm, algorithm, uri, nonce, nonceState, ncText, nc, cnonce, response: response.toLowerCase(), method: input.method };
  }

  /** Computes the expected response with HA1 (or the dummy), compares, then checks the nc. */
  private finish(p: Pending, stored: Buffer | string | undefined): DigestVerifyResult {
    const hash = hashOf(p.algorithm);
    let ha1 = stored === undefined ? undefined : normalizeHA1(hash, stored);
    if (stored !== undefined && ha1 === undefined) this.onStoredSecretError?.(p.username, p.realm, hash);
    const known = ha1 !== undefined;
    ha1 ??= this.#dummyHA1[hash];
    const key = sessionKey(p.algorithm, ha1, p.nonce, p.cnonce);
    const expected = computeResponse(hash, {
      ha1: key,
      nonce: p.nonce,
      nc: p.ncText,
      cnonce: p.cnonce,
      qop: 'auth',
      ha2: computeHA2(hash, p.method, p.uri),
    });
    // Both are hexLength(hash) ASCII characters (checked in check()), so the buffers match in size.
    const equal = timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(p.response, 'latin1'));
    if (!equal || !known) return invalid('bad-credentials');
    // Only a right digest earns stale=true: otherwise a client would retry forever (RFC 7616 §3.3).
    if (p.nonceState.status === 'stale') return { status: 'stale', algorithm: p.algorithm };
    const verdict = this.counts.use(p.nonce, p.nc, p.nonceState.issuedAt, p.nonceState.expiresAt);
    if (verdict === 'replay') return invalid('nc-replay');
    if (verdict === 'evicted') return { status: 'stale', algorithm: p.algorithm };
    return { status: 'ok', username: p.username, realm: p.realm, algorithm: p.algorithm, uri: p.uri, nc: p.nc };
  }
}
