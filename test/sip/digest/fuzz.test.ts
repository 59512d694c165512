/**
 * Robustness of the Digest layer against malformed input (RFC 4475 §1: "a torture test" spirit).
 *
 * A few hundred random mutations of valid challenge and credentials values: the parser throws
 * only AuthHeaderSyntaxError, the server never throws and never accepts a changed response, the
 * client throws only DigestError subclasses, and everything finishes quickly. The mutation
 * generator is seeded (seed printed on failure) so a failure can be replayed.
 */
import { strict as assert } from 'node:assert';
import { randomInt } from 'node:crypto';
import { authParam, parseAuthHeader } from '../../../gateway/sip/digest/auth-params';
import { computeHA1, type DigestHash } from '../../../gateway/sip/digest/algorithms';
import { DigestClient } from '../../../gateway/sip/digest/client';
import { DigestServer } from '../../../gateway/sip/digest/server';
import { AuthHeaderSyntaxError, DigestError } from '../../../gateway/sip/digest/errors';

const REALM = 'fuzz.example';
const PASSWORD = 'fuzz-password';
const ROUNDS = 400;

/** xorshift32: reproducible mutations; not used for anything security-relevant. */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const ALPHABET = ['"', '\\', ',', '=', ' ', '\t', '\r', '\n', '\r\n ', '\u0000', '\u007f', 'é', '\ud800', 'a', 'Z', '0', 'f', '*', ':'];

function mutate(s: string, rnd: (n: number) => number): string {
  let out = s;
  const steps = 1 + rnd(4);
  for (let i = 0; i < steps; i++) {
    const at = rnd(out.length + 1);
    switch (rnd(6)) {
      case 0: // insert
        out = out.slice(0, at) + ALPHABET[rnd(ALPHABET.length)] + out.slice(at);
        break;
      case 1: // delete
        out = out.slice(0, at) + out.slice(at + 1 + rnd(8));
        break;
      case 2: // replace
        out = out.slice(0, at) + ALPHABET[rnd(ALPHABET.length)] + out.slice(at + 1);
        break;
      case 3: // truncate
        out = out.slice(0, at);
        break;
      case 4: // duplicate a slice (repeated params, long values)
        out = out.slice(0, at) + out.slice(at, at + rnd(40)).repeat(1 + rnd(4)) + out.slice(at);
        break;
      default: // random printable byte
        out = out.slice(0, at) + String.fromCharCode(rnd(0x80)) + out.slice(at);
    }
  }
  return out;
}

function lookup(username: string, realm: string, hash: DigestHash): string | undefined {
  return username === 'gw' ? computeHA1(hash, username, realm, PASSWORD) : undefined;
}

describe('Digest robustness against malformed values (fuzz)', () => {
  const seed = randomInt(1, 2 ** 31);

  it(`MUST survive ${ROUNDS} mutated credentials: no foreign throw, no hang, no accepted tampering`, () => {
    const rnd = prng(seed);
    const server = new DigestServer({ algorithms: ['SHA-256', 'MD5', 'SHA-512-256-sess'] });
    const client = new DigestClient({ username: 'gw', password: PASSWORD, realm: REALM });
    const [valid] = client.respond({ status: 401, challenges: server.challenge({ realm: REALM }), method: 'REGISTER', uri: 'sip:fuzz.example' });
    const originalResponse = authParam(parseAuthHeader(valid.value), 'response');
    const t0 = Date.now();
    let slowest = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const input = mutate(valid.value, rnd);
      const start = process.hrtime.bigint();
      try {
        parseAuthHeader(input);
      } catch (e) {
        assert.ok(e instanceof AuthHeaderSyntaxError, `seed ${seed} round ${i}: parser threw ${String(e)}`);
      }
      const r = server.verify({ method: 'REGISTER', credentials: input, realm: REALM, lookup });
      assert.ok(['ok', 'stale', 'invalid', 'missing'].includes(r.status), `seed ${seed} round ${i}`);
      if (r.status === 'ok') {
        // Only an equivalent spelling of the same answer may pass (whitespace, case of names...).
        assert.equal(authParam(parseAuthHeader(input), 'response')?.toLowerCase(), originalResponse, `seed ${seed} round ${i}`);
      }
      slowest = Math.max(slowest, Number(process.hrtime.bigint() - start) / 1e6);
    }
    assert.ok(slowest < 50, `seed ${seed}: slowest round took ${slowest} ms`);
    assert.ok(Date.now() - t0 < 5000, `seed ${seed}: fuzzing took too long`);
  });

  it(`MUST survive ${ROUNDS} mutated challenges on the client side`, () => {
    const rnd = prng(seed ^ 0x5bd1e995);
    const server = new DigestServer({ algorithms: ['SHA-256', 'MD5'], opaque: 'opaque-value' });
    const challenges = server.challenge({ realm: REALM, stale: true });
    const t0 = Date.now();
    for (let i = 0; i < ROUNDS; i++) {
      const client = new DigestClient({ username: 'gw', password: PASSWORD });
      const mutated = challenges.map((c) => (rnd(2) === 0 ? mutate(c, rnd) : c));
      try {
        const out = client.respond({ status: 401, challenges: mutated, method: 'REGISTER', uri: 'sip:fuzz.example' });
        for (const h of out) parseAuthHeader(h.value); // what we send must parse back
      } catch (e) {
        assert.ok(e instanceof DigestError, `seed ${seed} round ${i}: client threw ${String(e)}`);
      }
    }
    assert.ok(Date.now() - t0 < 5000, `seed ${seed}: fuzzing took too long`);
  });

  it('MUST reject oversize and flooding input cheaply', () => {
    const server = new DigestServer();
    const huge = 'Digest username="' + 'a'.repeat(1_000_000) + '"';
    const many = Array.from({ length: 1000 }, () => 'Digest realm="x", nonce="y"');
    const t0 = process.hrtime.bigint();
    assert.deepEqual(server.verify({ method: 'REGISTER', credentials: huge, realm: REALM, lookup }), { status: 'invalid', reason: 'malformed' });
    assert.deepEqual(server.verify({ method: 'REGISTER', credentials: many, realm: REALM, lookup }), { status: 'invalid', reason: 'malformed' });
    assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 50);
  });
});
