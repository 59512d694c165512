/**
 * DigestServer: challenges and verification (RFC 3261 §22, RFC 7616 §3.3–§3.4, RFC 8760 §2.3).
 */
import { strict as assert } from 'node:assert';
import { parseAuthHeader, authParam, serializeAuthHeader, type AuthParamValue } from '../../../gateway/sip/digest/auth-params';
import {
  computeHA1,
  computeHA2,
  computeResponse,
  hashOf,
  parseAlgorithm,
  sessionKey,
  type DigestAlgorithm,
  type DigestHash,
} from '../../../gateway/sip/digest/algorithms';
import { DigestServer, type HA1Lookup } from '../../../gateway/sip/digest/server';
import { DigestConfigError } from '../../../gateway/sip/digest/errors';

const REALM = 'ciphergate.example';
const USERS: Record<string, string> = { alice: 'correct horse', bob: 'battery staple' };

/** Counts lookups, so tests can see that an unknown user costs a lookup like a known one. */
function makeLookup(): HA1Lookup & { calls: number } {
  const f = ((username: string, realm: string, hash: DigestHash) => {
    f.calls++;
    const pw = USERS[username];
    return pw === undefined ? undefined : computeHA1(hash, username, realm, pw);
  }) as HA1Lookup & { calls: number };
  f.calls = 0;
  return f;
}

interface Answer {
  username?: string;
  password?: string;
  method?: string;
  uri?: string;
  nc?: string;
  cnonce?: string;
  realm?: string;
  nonce?: string;
  algorithm?: string;
  drop?: string[];
  extra?: Array<[string, AuthParamValue]>;
}

/** Builds credentials by hand (independently of DigestClient) for one challenge value. */
function answer(challengeValue: string, a: Answer = {}): string {
  const ch = parseAuthHeader(challengeValue);
  const username = a.username ?? 'alice';
  const realm = a.realm ?? authParam(ch, 'realm') ?? '';
  const nonce = a.nonce ?? authParam(ch, 'nonce') ?? '';
  const algToken = a.algorithm ?? authParam(ch, 'algorithm') ?? 'MD5';
  const alg: DigestAlgorithm = parseAlgorithm(algToken) ?? 'MD5';
  const hash = hashOf(alg);
  const method = a.method ?? 'REGISTER';
  const uri = a.uri ?? 'sip:ciphergate.example';
  const nc = a.nc ?? '00000001';
  const cnonce = a.cnonce ?? 'c0ffee';
  const ha1 = sessionKey(alg, computeHA1(hash, username, realm, a.password ?? USERS[username] ?? 'x'), nonce, cnonce);
  const response = computeResponse(hash, { ha1, nonce, nc, cnonce, qop: 'auth', ha2: computeHA2(hash, method, uri) });
  const q = (value: string): AuthParamValue => ({ value, quoted: true });
  const t = (value: string): AuthParamValue => ({ value, quoted: false });
  const params: Array<[string, AuthParamValue]> = [
    ['username', q(username)],
    ['realm', q(realm)],
    ['nonce', q(nonce)],
    ['uri', q(uri)],
    ['response', q(response)],
    ['algorithm', t(algToken)],
    ['cnonce', q(cnonce)],
    ['qop', t('auth')],
    ['nc', t(nc)],
  ];
  const kept = params.filter(([n]) => !(a.drop ?? []).includes(n));
  return serializeAuthHeader('Digest', [...kept, ...(a.extra ?? [])]);
}

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_700_000_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('DigestServer (RFC 3261 §22, RFC 7616, RFC 8760)', () => {
  describe('challenge (RFC 7616 §3.3, RFC 8760 §2.3)', () => {
    it('MUST offer SHA-256 first, then MD5, each with qop="auth" and its own nonce', () => {
      const s = new DigestServer();
      const values = s.challenge({ realm: REALM });
      assert.equal(values.length, 2);
      const [a, b] = values.map((v) => parseAuthHeader(v));
      assert.equal(authParam(a, 'algorithm'), 'SHA-256');
      assert.equal(authParam(b, 'algorithm'), 'MD5');
      for (const h of [a, b]) {
        assert.equal(h.scheme, 'Digest');
        assert.equal(authParam(h, 'realm'), REALM);
        assert.deepEqual(h.params.get('qop'), { value: 'auth', quoted: true });
        assert.equal(h.params.has('stale'), false);
      }
      assert.notEqual(authParam(a, 'nonce'), authParam(b, 'nonce'));
    });

    it('MUST follow the configured order, add stale=true and opaque when asked', () => {
      const s = new DigestServer({ algorithms: ['SHA-512-256', 'SHA-256'], opaque: 'op' });
      const values = s.challenge({ realm: REALM, stale: true, proxy: true }).map((v) => parseAuthHeader(v));
      assert.deepEqual(values.map((h) => authParam(h, 'algorithm')), ['SHA-512-256', 'SHA-256']);
      assert.deepEqual(values[0].params.get('stale'), { value: 'true', quoted: false });
      assert.equal(authParam(values[0], 'opaque'), 'op');
      assert.equal(DigestServer.challengeHeaderName(true), 'Proxy-Authenticate');
      assert.equal(DigestServer.challengeHeaderName(), 'WWW-Authenticate');
    });

    it('MUST refuse an unusable configuration', () => {
      assert.throws(() => new DigestServer({ algorithms: [] }), DigestConfigError);
      assert.throws(() => new DigestServer({ algorithms: ['SHA-1' as DigestAlgorithm] }), DigestConfigError);
      assert.throws(() => new DigestServer({ algorithms: ['MD5', 'MD5'] }), DigestConfigError);
      assert.throws(() => new DigestServer().challenge({ realm: 'a\r\nb' }), DigestConfigError);
      assert.throws(() => new DigestServer().challenge({ realm: '' }), DigestConfigError);
    });
  });

  describe('verify (RFC 7616 §3.4, RFC 3261 §22.4)', () => {
    it('MUST accept a right SHA-256 answer and report who, which uri and which nc', () => {
      const s = new DigestServer();
      const [sha] = s.challenge({ realm: REALM });
      const r = s.verify({ method: 'REGISTER', credentials: answer(sha), realm: REALM, lookup: makeLookup() });
      assert.deepEqual(r, { status: 'ok', username: 'alice', realm: REALM, algorithm: 'SHA-256', uri: 'sip:ciphergate.example', nc: 1 });
    });

    it('MUST accept MD5, SHA-512-256 and the -sess variants when configured', () => {
      const algs: DigestAlgorithm[] = ['MD5', 'MD5-sess', 'SHA-256-sess', 'SHA-512-256', 'SHA-512-256-sess'];
      const s = new DigestServer({ algorithms: algs });
      s.challenge({ realm: REALM }).forEach((v, i) => {
        const r = s.verify({ method: 'INVITE', credentials: answer(v, { method: 'INVITE' }), realm: REALM, lookup: makeLookup() });
        assert.equal(r.status, 'ok', algs[i]);
        assert.equal(r.status === 'ok' && r.algorithm, algs[i]);
      });
    });

    it('MUST say invalid for a wrong password, and the same for an unknown user, after a lookup either way', () => {
      const s = new DigestServer();
      const [v] = s.challenge({ realm: REALM });
      const lookup = makeLookup();
      const wrong = s.verify({ method: 'REGISTER', credentials: answer(v, { password: 'guess' }), realm: REALM, lookup });
      const unknown = s.verify({ method: 'REGISTER', credentials: answer(v, { username: 'mallory' }), realm: REALM, lookup });
      assert.deepEqual(wrong, { status: 'invalid', reason: 'bad-credentials' });
      assert.deepEqual(unknown, wrong);
      assert.equal(lookup.calls, 2);
    });

    it('MUST treat a malformed stored HA1 like an unknown user and tell the operator hook', () => {
      const seen: string[] = [];
      const s = new DigestServer({ onStoredSecretError: (u, _r, h) => seen.push(`${u}/${h}`) });
      const [v] = s.challenge({ realm: REALM });
      const r = s.verify({ method: 'REGISTER', credentials: answer(v), realm: REALM, lookup: () => 'not-hex' });
      assert.deepEqual(r, { status: 'invalid', reason: 'bad-credentials' });
      assert.deepEqual(seen, ['alice/SHA-256']);
    });

    it('MUST accept raw-byte HA1 and an async lookup', async () => {
      const s = new DigestServer();
      const [v] = s.challenge({ realm: REALM });
      const lookup = async (u: string, r: string, h: DigestHash): Promise<Buffer> => Buffer.from(computeHA1(h, u, r, USERS[u]), 'hex');
      const r = await s.verifyAsync({ method: 'REGISTER', credentials: answer(v), realm: REALM, lookup });
      assert.equal(r.status, 'ok');
    });

    it('MUST say stale for an expired nonce with a right digest, invalid with a wrong one (RFC 7616 §3.3)', () => {
      const c = clock();
      const s = new DigestServer({ now: c.now });
      const [v] = s.challenge({ realm: REALM });
      c.advance(300_001);
      const lookup = makeLookup();
      assert.deepEqual(s.verify({ method: 'REGISTER', credentials: answer(v), realm: REALM, lookup }), { status: 'stale', algorithm: 'SHA-256' });
      assert.deepEqual(s.verify({ method: 'REGISTER', credentials: answer(v, { password: 'no' }), realm: REALM, lookup }), {
        status: 'invalid',
        reason: 'bad-credentials',
      });
      const stale = s.challenge({ realm: REALM, stale: true });
      assert.equal(authParam(parseAuthHeader(stale[0]), 'stale'), 'true');
    });

    it('MUST say invalid (not stale) for a forged nonce, before any lookup', () => {
      const s = new DigestServer();
      const forged = new DigestServer().challenge({ realm: REALM })[0]; // another secret
      const lookup = makeLookup();
      const r = s.verify({ method: 'REGISTER', credentials: answer(forged), realm: REALM, lookup });
      assert.deepEqual(r, { status: 'invalid', reason: 'bad-nonce' });
      const [v] = s.challenge({ realm: REALM });
      const r2 = s.verify({ method: 'REGISTER', credentials: answer(v, { nonce: 'abc' }), realm: REALM, lookup });
      assert.deepEqual(r2, { status: 'invalid', reason: 'bad-nonce' });
      assert.equal(lookup.calls, 0);
    });

    it('MUST reject a replayed nc and accept increasing ones (RFC 7616 §3.4)', () => {
      const s = new DigestServer();
      const [v] = s.challenge({ realm: REALM });
      const lookup = makeLookup();
      const first = answer(v, { nc: '00000001' });
      assert.equal(s.verify({ method: 'REGISTER', credentials: first, realm: REALM, lookup }).status, 'ok');
      assert.deepEqual(s.verify({ method: 'REGISTER', credentials: first, realm: REALM, lookup }), { status: 'invalid', reason: 'nc-replay' });
      const third = s.verify({ method: 'REGISTER', credentials: answer(v, { nc: '00000003', cnonce: 'x' }), realm: REALM, lookup });
      assert.equal(third.status === 'ok' && third.nc, 3);
      const second = s.verify({ method: 'REGISTER', credentials: answer(v, { nc: '00000002' }), realm: REALM, lookup });
      assert.deepEqual(second, { status: 'invalid', reason: 'nc-replay' });
    });

    it('MUST NOT let a wrong answer burn a nonce-count', () => {
      const s = new DigestServer();
      const [v] = s.challenge({ realm: REALM });
      const lookup = makeLookup();
      assert.equal(s.verify({ method: 'REGISTER', credentials: answer(v, { nc: '00000009', password: 'x' }), realm: REALM, lookup }).status, 'invalid');
      assert.equal(s.verify({ method: 'REGISTER', credentials: answer(v, { nc: '00000001' }), realm: REALM, lookup }).status, 'ok');
    });

    it('MUST bind nonces to the binding given at challenge time', () => {
      const s = new DigestServer();
      const [v] = s.challenge({ realm: REALM, binding: '192.0.2.7' });
      const lookup = makeLookup();
      assert.equal(s.verify({ method: 'REGISTER', credentials: answer(v), realm: REALM, lookup, binding: '192.0.2.8' }).status, 'invalid');
      assert.equal(s.verify({ method: 'REGISTER', credentials: answer(v), realm: REALM, lookup, binding: '192.0.2.7' }).status, 'ok');
    });

    it('MUST only consider credentials for its realm (RFC 3261 §22.3)', () => {
      const s = new DigestServer();
      const [v] = s.challenge({ realm: REALM });
      const lookup = makeLookup();
      const foreign = answer(v, { realm: 'other.example' });
      assert.deepEqual(s.verify({ method: 'REGISTER', credentials: foreign, realm: REALM, lookup }), { status: 'invalid', reason: 'realm-mismatch' });
      const r = s.verify({ method: 'REGISTER', credentials: [foreign, answer(v)], realm: REALM, lookup });
      assert.equal(r.status, 'ok');
      assert.deepEqual(s.verify({ method: 'REGISTER', credentials: [answer(v, { nc: '00000002' }), answer(v, { nc: '00000003' })], realm: REALM, lookup }), {
        status: 'invalid',
        reason: 'ambiguous',
      });
    });

    it('MUST say missing when there are no Digest credentials (RFC 4475 regaut01)', () => {
      const s = new DigestServer();
      const lookup = makeLookup();
      assert.deepEqual(s.verify({ method: 'REGISTER', credentials: undefined, realm: REALM, lookup }), { status: 'missing', reason: 'no-credentials' });
      assert.deepEqual(s.verify({ method: 'REGISTER', credentials: [], realm: REALM, lookup }), { status: 'missing', reason: 'no-credentials' });
      assert.deepEqual(s.verify({ method: 'REGISTER', credentials: 'NoOneKnowsThisScheme opaque-data=here', realm: REALM, lookup }), {
        status: 'missing',
        reason: 'unsupported-scheme',
      });
    });

    it('MUST refuse an algorithm it did not offer, including an absent one meaning MD5', () => {
      const s = new DigestServer({ algorithms: ['SHA-256'] });
      const [v] = s.challenge({ realm: REALM });
      const lookup = makeLookup();
      const cases = [answer(v, { algorithm: 'MD5' }), answer(v, { algorithm: 'SHA-1' }), answer(v, { drop: ['algorithm'] })];
      for (const cred of cases) {
        assert.deepEqual(s.verify({ method: 'REGISTER', credentials: cred, realm: REALM, lookup }), { status: 'invalid', reason: 'unsupported-algorithm' });
      }
    });

    it('MUST require qop=auth with cnonce and nc, a uri, and a well-formed nc and response', () => {
      const s = new DigestServer({ opaque: 'o1' });
      const [v] = s.challenge({ realm: REALM });
      const lookup = makeLookup();
      const op: Array<[string, AuthParamValue]> = [['opaque', { value: 'o1', quoted: true }]];
      const check = (a: Answer, reason: string): void => {
        const r = s.verify({ method: 'REGISTER', credentials: answer(v, { extra: op, ...a }), realm: REALM, lookup });
        assert.deepEqual(r, { status: 'invalid', reason }, JSON.stringify(a));
      };
      check({ drop: ['qop'] }, 'qop-missing');
      check({ drop: ['qop'], extra: [...op, ['qop', { value: 'auth-int', quoted: false }]] }, 'qop-unsupported');
      check({ drop: ['cnonce'] }, 'missing-param');
      check({ drop: ['nc'] }, 'missing-param');
      check({ drop: ['uri'] }, 'missing-param');
      check({ drop: ['username'] }, 'missing-param');
      check({ drop: ['response'] }, 'missing-param');
      check({ nc: '1' }, 'bad-nc');
      check({ nc: '00000000' }, 'bad-nc');
      check({ nc: '0000000g' }, 'bad-nc');
      check({ extra: [] }, 'opaque-mismatch');
      check({ extra: [...op, ['userhash', { value: 'true', quoted: false }]] }, 'unsupported-username');
      const short = answer(v, { extra: op }).replace(/response="[0-9a-f]+"/, 'response="abc"');
      assert.deepEqual(s.verify({ method: 'REGISTER', credentials: short, realm: REALM, lookup }), { status: 'invalid', reason: 'malformed' });
      assert.equal(lookup.calls, 0);
      assert.equal(s.verify({ method: 'REGISTER', credentials: answer(v, { extra: op }), realm: REALM, lookup }).status, 'ok');
    });

    it('MUST bind the response to the method and the digest-uri (RFC 7616 §3.4.3)', () => {
      const s = new DigestServer();
      const [v] = s.challenge({ realm: REALM });
      const cred = answer(v, { method: 'INVITE' });
      assert.equal(s.verify({ method: 'BYE', credentials: cred, realm: REALM, lookup: makeLookup() }).status, 'invalid');
      const tampered = cred.replace('uri="sip:ciphergate.example"', 'uri="sip:evil.example"');
      assert.equal(s.verify({ method: 'INVITE', credentials: tampered, realm: REALM, lookup: makeLookup() }).status, 'invalid');
    });

    it('MUST say malformed for a syntax error in any credentials value', () => {
      const s = new DigestServer();
      const r = s.verify({ method: 'REGISTER', credentials: 'Digest username="a', realm: REALM, lookup: makeLookup() });
      assert.deepEqual(r, { status: 'invalid', reason: 'malformed' });
    });

    it('MUST keep validating nonces issued just before a secret rotation', () => {
      const s = new DigestServer();
      const [v] = s.challenge({ realm: REALM });
      s.rotateSecret();
      assert.equal(s.verify({ method: 'REGISTER', credentials: answer(v), realm: REALM, lookup: makeLookup() }).status, 'ok');
    });
  });
});
