/**
 * DigestClient, for trunks (RFC 3261 §22.2–§22.3, RFC 7616 §3.4, RFC 8760 §2.4, RFC 2069).
 */
import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';
import { authParam, parseAuthHeader } from '../../../gateway/sip/digest/auth-params';
import { computeHA1, type DigestAlgorithm, type DigestHash } from '../../../gateway/sip/digest/algorithms';
import { DigestClient } from '../../../gateway/sip/digest/client';
import { DigestServer, type DigestVerifyResult } from '../../../gateway/sip/digest/server';
import { DigestChallengeError, DigestConfigError, DigestLoopError, InvalidAuthParamError } from '../../../gateway/sip/digest/errors';

const REALM = 'trunk.example';
const PASSWORD = 'tr0ub4dor&3';
const URI = 'sip:registrar.trunk.example';

function lookup(username: string, realm: string, hash: DigestHash): string | undefined {
  return username === 'gw' ? computeHA1(hash, username, realm, PASSWORD) : undefined;
}

function verify(s: DigestServer, credentials: string | string[], method = 'REGISTER'): DigestVerifyResult {
  return s.verify({ method, credentials, realm: REALM, lookup });
}

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_700_000_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof DigestLoopError || e instanceof DigestChallengeError) return `${e.name}:${e.reason}`;
    throw e;
  }
  assert.fail('expected a throw');
}

describe('DigestClient (RFC 3261 §22.2, RFC 7616 §3.4)', () => {
  describe('answering a challenge', () => {
    const algs: DigestAlgorithm[] = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'SHA-512-256', 'SHA-512-256-sess'];
    for (const alg of algs) {
      it(`MUST produce credentials the server accepts with ${alg}`, () => {
        const s = new DigestServer({ algorithms: [alg] });
        const c = new DigestClient({ username: 'gw', password: PASSWORD, realm: REALM });
        const [h] = c.respond({ status: 401, challenges: s.challenge({ realm: REALM }), method: 'REGISTER', uri: URI });
        assert.equal(h.name, 'Authorization');
        const r = verify(s, h.value);
        assert.equal(r.status, 'ok');
        assert.equal(r.status === 'ok' && r.algorithm, alg);
        const p = parseAuthHeader(h.value);
        assert.deepEqual(p.params.get('qop'), { value: 'auth', quoted: false });
        assert.deepEqual(p.params.get('nc'), { value: '00000001', quoted: false });
        assert.equal(authParam(p, 'uri'), URI);
      });
    }

    it('MUST pick SHA-256 when SHA-256 and MD5 are offered, whatever their order', () => {
      const s = new DigestServer({ algorithms: ['MD5', 'SHA-256'] }); // MD5 on top: a downgrade attempt
      const c = new DigestClient({ username: 'gw', password: PASSWORD });
      const [h] = c.respond({ status: 401, challenges: s.challenge({ realm: REALM }), method: 'REGISTER', uri: URI });
      assert.equal(authParam(parseAuthHeader(h.value), 'algorithm'), 'SHA-256');
      assert.equal(verify(s, h.value).status, 'ok');
    });

    it('MUST prefer SHA-512-256 over SHA-256 over MD5 and honour an allowed-algorithm list', () => {
      const s = new DigestServer({ algorithms: ['SHA-256', 'MD5', 'SHA-512-256'] });
      const ch = s.challenge({ realm: REALM });
      const best = new DigestClient({ username: 'gw', password: PASSWORD }).respond({ status: 401, challenges: ch, method: 'REGISTER', uri: URI });
      assert.equal(authParam(parseAuthHeader(best[0].value), 'algorithm'), 'SHA-512-256');
      const md5Only = new DigestClient({ username: 'gw', password: PASSWORD }, { algorithms: ['MD5'] });
      const [h] = md5Only.respond({ status: 401, challenges: ch, method: 'REGISTER', uri: URI });
      assert.equal(authParam(parseAuthHeader(h.value), 'algorithm'), 'MD5');
      const noMd5 = new DigestClient({ username: 'gw', password: PASSWORD }, { algorithms: ['SHA-256'] });
      const onlyMd5 = new DigestServer({ algorithms: ['MD5'] }).challenge({ realm: REALM });
      assert.equal(reason(() => noMd5.respond({ status: 401, challenges: onlyMd5, method: 'REGISTER', uri: URI })), 'DigestChallengeError:no-usable-challenge');
    });

    it('MUST answer a 407 with Proxy-Authorization', () => {
      const s = new DigestServer();
      const c = new DigestClient({ username: 'gw', password: PASSWORD });
      const [h] = c.respond({ status: 407, challenges: s.challenge({ realm: REALM, proxy: true }), method: 'INVITE', uri: 'sip:bob@example.com' });
      assert.equal(h.name, 'Proxy-Authorization');
      assert.equal(verify(s, h.value, 'INVITE').status, 'ok');
    });

    it('MUST answer the RFC 2069 form when the challenge has no qop (RFC 2069 §2.4 erratum value)', () => {
      const c = new DigestClient({ username: 'Mufasa', password: 'CircleOfLife' });
      const challenge = 'Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"';
      const [h] = c.respond({ status: 401, challenges: challenge, method: 'GET', uri: '/dir/index.html' });
      const p = parseAuthHeader(h.value);
      assert.equal(authParam(p, 'response'), '1949323746fe6a43ef61f9606e7febea');
      assert.equal(authParam(p, 'opaque'), '5ccc069c403ebaf9f0171e9517f40e41');
      for (const absent of ['qop', 'nc', 'cnonce', 'algorithm']) assert.equal(p.params.has(absent), false, absent);
      const strict = new DigestClient({ username: 'Mufasa', password: 'CircleOfLife' }, { allowLegacy: false });
      assert.equal(reason(() => strict.respond({ status: 401, challenges: challenge, method: 'GET', uri: '/' })), 'DigestChallengeError:no-usable-challenge');
      const sess = challenge + ', algorithm=MD5-sess';
      assert.equal(reason(() => c.respond({ status: 401, challenges: sess, method: 'GET', uri: '/' })), 'DigestChallengeError:no-usable-challenge');
    });

    it('MUST echo algorithm and opaque exactly as challenged (RFC 7616 §3.4)', () => {
      const c = new DigestClient({ username: 'gw', password: PASSWORD });
      const [h] = c.respond({ status: 401, challenges: 'Digest realm="r", nonce="n", qop="auth", opaque="o\\"q"', method: 'OPTIONS', uri: URI });
      const p = parseAuthHeader(h.value);
      assert.equal(p.params.has('algorithm'), false);
      assert.equal(authParam(p, 'opaque'), 'o"q');
    });

    it('MUST skip challenges it cannot answer: auth-int only, other schemes, other realms, malformed', () => {
      const c = new DigestClient({ username: 'gw', password: PASSWORD, realm: REALM });
      const authInt = `Digest realm="${REALM}", nonce="n", qop="auth-int"`;
      assert.equal(reason(() => c.respond({ status: 401, challenges: authInt, method: 'REGISTER', uri: URI })), 'DigestChallengeError:no-usable-challenge');
      const foreign = new DigestServer().challenge({ realm: 'evil.example' });
      assert.equal(reason(() => c.respond({ status: 401, challenges: foreign, method: 'REGISTER', uri: URI })), 'DigestChallengeError:no-usable-challenge');
      assert.equal(reason(() => c.respond({ status: 401, challenges: ['Digest realm="x'], method: 'REGISTER', uri: URI })), 'DigestChallengeError:malformed');
      assert.equal(reason(() => c.respond({ status: 401, challenges: [], method: 'REGISTER', uri: URI })), 'DigestChallengeError:no-challenge');
      const s = new DigestServer();
      const mixed = ['Bearer realm="x"', 'Digest realm="x', ...s.challenge({ realm: REALM })];
      const [h] = c.respond({ status: 401, challenges: mixed, method: 'REGISTER', uri: URI });
      assert.equal(verify(s, h.value).status, 'ok');
    });

    it('MUST answer every realm of an aggregated 407 (RFC 3261 §16.7, §22.3)', () => {
      const a = new DigestServer();
      const b = new DigestServer();
      const c = new DigestClient({ username: 'gw', password: PASSWORD });
      const out = c.respond({ status: 407, challenges: [...a.challenge({ realm: REALM }), ...b.challenge({ realm: 'other.example' })], method: 'INVITE', uri: URI });
      assert.equal(out.length, 2);
      const values = out.map((h) => h.value);
      assert.equal(a.verify({ method: 'INVITE', credentials: values, realm: REALM, lookup }).status, 'ok');
      assert.equal(b.verify({ method: 'INVITE', credentials: values, realm: 'other.example', lookup }).status, 'ok');
    });

    it('MUST work from an HA1 without the password, for the hashes it has one for', () => {
      const s = new DigestServer({ algorithms: ['SHA-256', 'MD5'] });
      const c = new DigestClient({ username: 'gw', realm: REALM, ha1: { MD5: computeHA1('MD5', 'gw', REALM, PASSWORD) } });
      const [h] = c.respond({ status: 401, challenges: s.challenge({ realm: REALM }), method: 'REGISTER', uri: URI });
      assert.equal(authParam(parseAuthHeader(h.value), 'algorithm'), 'MD5');
      assert.equal(verify(s, h.value).status, 'ok');
      assert.throws(() => new DigestClient({ username: 'gw', ha1: { MD5: computeHA1('MD5', 'gw', REALM, PASSWORD) } }), DigestConfigError);
      assert.throws(() => new DigestClient({ username: 'gw', realm: REALM, ha1: { MD5: 'xyz' } }), DigestConfigError);
      assert.throws(() => new DigestClient({ username: 'gw' }), DigestConfigError);
      assert.throws(() => new DigestClient({ username: 'g\r\nw', password: 'p' }), DigestConfigError);
    });
  });

  describe('reusing the nonce (RFC 7616 §3.4)', () => {
    it('MUST increment nc per request with the same nonce, and the server MUST accept each', () => {
      const s = new DigestServer();
      const c = new DigestClient({ username: 'gw', password: PASSWORD, realm: REALM });
      const [first] = c.respond({ status: 401, challenges: s.challenge({ realm: REALM }), method: 'REGISTER', uri: URI });
      assert.equal(verify(s, first.value).status, 'ok');
      const nonce = authParam(parseAuthHeader(first.value), 'nonce');
      const cnonces = new Set<string | undefined>([authParam(parseAuthHeader(first.value), 'cnonce')]);
      for (const expected of ['00000002', '00000003', '00000004']) {
        const [h] = c.authorize({ method: 'INVITE', uri: 'sip:bob@example.com' });
        const p = parseAuthHeader(h.value);
        assert.equal(authParam(p, 'nc'), expected);
        assert.equal(authParam(p, 'nonce'), nonce);
        cnonces.add(authParam(p, 'cnonce'));
        const r = verify(s, h.value, 'INVITE');
        assert.equal(r.status === 'ok' && r.nc, parseInt(expected, 16));
      }
      assert.equal(cnonces.size, 4, 'a fresh cnonce per request');
    });

    it('MUST keep one cnonce per nonce for a -sess algorithm', () => {
      const s = new DigestServer({ algorithms: ['SHA-256-sess'] });
      const c = new DigestClient({ username: 'gw', password: PASSWORD });
      const [a] = c.respond({ status: 401, challenges: s.challenge({ realm: REALM }), method: 'REGISTER', uri: URI });
      const [b] = c.authorize({ method: 'REGISTER', uri: URI });
      assert.equal(authParam(parseAuthHeader(a.value), 'cnonce'), authParam(parseAuthHeader(b.value), 'cnonce'));
      assert.equal(verify(s, a.value).status, 'ok');
      assert.equal(verify(s, b.value).status, 'ok');
    });

    it('MUST reuse proxy credentials only within their Call-ID unless the realm is its own (RFC 3261 §22.3)', () => {
      const s = new DigestServer();
      const c = new DigestClient({ username: 'gw', password: PASSWORD });
      c.respond({ status: 407, challenges: s.challenge({ realm: 'transit.example' }), method: 'INVITE', uri: URI, callId: 'call-1' });
      assert.equal(c.authorize({ method: 'BYE', uri: URI, callId: 'call-1' }).length, 1);
      assert.equal(c.authorize({ method: 'INVITE', uri: URI, callId: 'call-2' }).length, 0);
      const own = new DigestClient({ username: 'gw', password: PASSWORD, realm: REALM });
      own.respond({ status: 407, challenges: s.challenge({ realm: REALM }), method: 'INVITE', uri: URI, callId: 'call-1' });
      assert.equal(own.authorize({ method: 'INVITE', uri: URI, callId: 'call-2' }).length, 1);
    });

    it('MUST return nothing before any challenge, and after forget()', () => {
      const c = new DigestClient({ username: 'gw', password: PASSWORD });
      assert.deepEqual(c.authorize({ method: 'REGISTER', uri: URI }), []);
      c.respond({ status: 401, challenges: new DigestServer().challenge({ realm: REALM }), method: 'REGISTER', uri: URI });
      c.forget();
      assert.deepEqual(c.authorize({ method: 'REGISTER', uri: URI }), []);
    });
  });

  describe('stale nonces (RFC 7616 §3.3)', () => {
    it('MUST retry with the new nonce on stale=true without new credentials, and the server MUST accept it', () => {
      const clk = clock();
      const s = new DigestServer({ now: clk.now });
      const c = new DigestClient({ username: 'gw', password: PASSWORD, realm: REALM });
      const [first] = c.respond({ status: 401, challenges: s.challenge({ realm: REALM }), method: 'REGISTER', uri: URI });
      assert.equal(verify(s, first.value).status, 'ok');
      clk.advance(3_600_000);
      const [later] = c.authorize({ method: 'REGISTER', uri: URI });
      assert.equal(verify(s, later.value).status, 'stale');
      const [retry] = c.respond({ status: 401, challenges: s.challenge({ realm: REALM, stale: true }), method: 'REGISTER', uri: URI, sent: later.value });
      assert.notEqual(authParam(parseAuthHeader(retry.value), 'nonce'), authParam(parseAuthHeader(later.value), 'nonce'));
      assert.equal(authParam(parseAuthHeader(retry.value), 'nc'), '00000001');
      assert.equal(verify(s, retry.value).status, 'ok');
    });
  });

  describe('loop protection (RFC 3261 §22.2)', () => {
    it('MUST refuse to answer again when the credentials it sent are rejected without stale', () => {
      const s = new DigestServer();
      const c = new DigestClient({ username: 'gw', password: 'wrong' });
      const [h] = c.respond({ status: 401, challenges: s.challenge({ realm: REALM }), method: 'REGISTER', uri: URI });
      assert.deepEqual(verify(s, h.value), { status: 'invalid', reason: 'bad-credentials' });
      const again = s.challenge({ realm: REALM }); // a fresh nonce, not stale
      assert.equal(reason(() => c.respond({ status: 401, challenges: again, method: 'REGISTER', uri: URI, sent: h.value })), 'DigestLoopError:credentials-rejected');
    });

    it('MUST refuse to answer the same challenge twice', () => {
      const s = new DigestServer();
      const c = new DigestClient({ username: 'gw', password: PASSWORD });
      const ch = s.challenge({ realm: REALM });
      c.respond({ status: 401, challenges: ch, method: 'REGISTER', uri: URI });
      assert.equal(reason(() => c.respond({ status: 401, challenges: ch, method: 'REGISTER', uri: URI })), 'DigestLoopError:same-challenge');
    });

    it('MUST refuse a stale=true that carries the nonce it just used', () => {
      const c = new DigestClient({ username: 'gw', password: PASSWORD });
      const ch = `Digest realm="${REALM}", nonce="abc", qop="auth"`;
      const [h] = new DigestClient({ username: 'gw', password: PASSWORD }).respond({ status: 401, challenges: ch, method: 'REGISTER', uri: URI });
      const staleSame = `${ch}, stale=true`;
      assert.equal(reason(() => c.respond({ status: 401, challenges: staleSame, method: 'REGISTER', uri: URI, sent: h.value })), 'DigestLoopError:same-challenge');
    });

    it('MUST leave its state unchanged when it throws', () => {
      const s = new DigestServer();
      const c = new DigestClient({ username: 'gw', password: PASSWORD });
      const ch = s.challenge({ realm: REALM });
      assert.throws(() => c.respond({ status: 401, challenges: ch, method: 'REGISTER', uri: 'sip:x\r\nVia: evil' }), InvalidAuthParamError);
      assert.deepEqual(c.authorize({ method: 'REGISTER', uri: URI }), []);
      const [h] = c.respond({ status: 401, challenges: ch, method: 'REGISTER', uri: URI }); // not "same-challenge"
      assert.equal(verify(s, h.value).status, 'ok');
    });
  });

  describe('secrets', () => {
    it('MUST NOT show the password or HA1 through inspect, JSON or errors', () => {
      const ha1 = computeHA1('SHA-256', 'gw', REALM, PASSWORD);
      const c = new DigestClient({ username: 'gw', password: PASSWORD, realm: REALM });
      c.respond({ status: 401, challenges: new DigestServer().challenge({ realm: REALM }), method: 'REGISTER', uri: URI });
      const shown = inspect(c, { depth: 10, showHidden: true }) + JSON.stringify(c);
      assert.ok(!shown.includes(PASSWORD) && !shown.includes(ha1), 'secret visible');
      const staleAgain = new DigestServer().challenge({ realm: REALM, stale: false });
      const [sent] = c.authorize({ method: 'REGISTER', uri: URI });
      assert.throws(
        () => c.respond({ status: 401, challenges: staleAgain, method: 'REGISTER', uri: URI, sent: sent.value }),
        (e: unknown) => e instanceof DigestLoopError && !e.message.includes(PASSWORD) && !e.message.includes(ha1),
      );
    });
  });
});
