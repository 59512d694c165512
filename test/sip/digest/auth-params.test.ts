/**
 * Challenge / credentials value syntax (RFC 3261 §25.1, RFC 7235 §2.1, RFC 7616 §3.3–§3.4).
 */
import { strict as assert } from 'node:assert';
import {
  AUTH_HEADER_MAX_LENGTH,
  authParam,
  parseAuthHeader,
  parseQopOptions,
  serializeAuthHeader,
} from '../../../gateway/sip/digest/auth-params';
import { AuthHeaderSyntaxError, DigestError, InvalidAuthParamError } from '../../../gateway/sip/digest/errors';

function syntaxReason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof AuthHeaderSyntaxError, `expected AuthHeaderSyntaxError, got ${String(e)}`);
    return e.reason;
  }
  assert.fail('expected a throw');
}

describe('Digest auth-params (RFC 3261 §25.1, RFC 7235 §2.1)', () => {
  describe('parsing', () => {
    it('MUST parse the RFC 3261 §20.27 style challenge with tokens and quoted-strings', () => {
      const h = parseAuthHeader(
        'Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5',
      );
      assert.equal(h.scheme, 'Digest');
      assert.equal(h.isDigest, true);
      assert.equal(authParam(h, 'realm'), 'atlanta.com');
      assert.equal(authParam(h, 'opaque'), '');
      assert.deepEqual(h.params.get('stale'), { value: 'FALSE', quoted: false });
      assert.deepEqual(h.params.get('qop'), { value: 'auth', quoted: true });
      assert.deepEqual([...h.params.keys()], ['realm', 'domain', 'qop', 'nonce', 'opaque', 'stale', 'algorithm']);
    });

    it('MUST treat scheme and parameter names case-insensitively', () => {
      const h = parseAuthHeader('dIgEsT ReAlM="x", NONCE="n"');
      assert.equal(h.isDigest, true);
      assert.equal(h.scheme, 'dIgEsT');
      assert.equal(authParam(h, 'realm'), 'x');
      assert.equal(authParam(h, 'Nonce'), 'n');
    });

    it('MUST unescape quoted-pairs and keep commas and equals signs inside quotes', () => {
      const h = parseAuthHeader('Digest username="a\\"b\\\\c", uri="sip:x;a=b,c"');
      assert.equal(authParam(h, 'username'), 'a"b\\c');
      assert.equal(authParam(h, 'uri'), 'sip:x;a=b,c');
    });

    it('MUST accept LWS around "=" and "," and line folds (RFC 3261 §7.3.1)', () => {
      const h = parseAuthHeader('Digest realm = "x" ,\r\n nonce\t=\t"y z" , nc=00000001  ');
      assert.equal(authParam(h, 'realm'), 'x');
      assert.equal(authParam(h, 'nonce'), 'y z');
      assert.equal(authParam(h, 'nc'), '00000001');
    });

    it('MUST keep UTF-8 (non-ASCII) characters of quoted-strings', () => {
      assert.equal(authParam(parseAuthHeader('Digest username="Jäsøn Doe"'), 'username'), 'Jäsøn Doe');
    });

    it('MUST report an unknown scheme as such, without judging its parameters (RFC 4475 regaut01)', () => {
      const h = parseAuthHeader('NoOneKnowsThisScheme opaque-data=here');
      assert.equal(h.isDigest, false);
      assert.equal(h.scheme, 'NoOneKnowsThisScheme');
      assert.equal(h.params.size, 0);
      assert.equal(parseAuthHeader('Bearer abc.def/ghi==').isDigest, false);
    });

    it('MUST reject a duplicate parameter, whatever its case', () => {
      assert.equal(syntaxReason(() => parseAuthHeader('Digest realm="a", REALM="b"')), 'duplicate-param');
    });

    const malformed: Array<[string, string]> = [
      ['', 'expected-scheme'],
      ['"Digest" realm="x"', 'expected-scheme'],
      ['Digest', 'expected-param-name'],
      ['Digest,realm="x"', 'expected-whitespace'],
      ['Digest realm', 'expected-equal'],
      ['Digest realm=', 'expected-param-value'],
      ['Digest realm="x" nonce="y"', 'expected-comma'],
      ['Digest realm="x",', 'expected-param-name'],
      ['Digest realm="x",, nonce="y"', 'expected-param-name'],
      ['Digest realm="x', 'unterminated-quoted-string'],
      ['Digest realm="x\\', 'unterminated-quoted-string'],
      ['Digest realm="a\u0000b"', 'bad-char'],
      ['Digest realm="a\\\u0001"', 'bad-escape'],
      ['Digest realm="a\rb"', 'bad-char'],
      ['Digest realm="a\r\nb"', 'bad-char'],
      ['Digest realm=x\r\n', 'expected-comma'],
      ['Digest realm=a"b"', 'expected-comma'],
    ];
    for (const [input, reason] of malformed) {
      it(`MUST reject ${JSON.stringify(input)} with ${reason}`, () => {
        assert.equal(syntaxReason(() => parseAuthHeader(input)), reason);
      });
    }

    it('MUST bound the length and the number of parameters', () => {
      const long = `Digest realm="${'a'.repeat(AUTH_HEADER_MAX_LENGTH)}"`;
      assert.equal(syntaxReason(() => parseAuthHeader(long)), 'too-long');
      const many = 'Digest ' + Array.from({ length: 40 }, (_, i) => `p${i}=v`).join(', ');
      assert.equal(syntaxReason(() => parseAuthHeader(many)), 'too-many-params');
      assert.equal(parseAuthHeader(many, { maxParams: 40 }).params.size, 40);
    });

    it('MUST NOT echo the header value in its error message', () => {
      try {
        parseAuthHeader('Digest response="6629fae49393a05397450978507c4ef1", oops');
        assert.fail('expected a throw');
      } catch (e) {
        assert.ok(e instanceof DigestError);
        assert.ok(!e.message.includes('6629fae4'), e.message);
      }
    });

    it('MUST scan pathological input in linear time', () => {
      const inputs = [
        'Digest a="' + '\\"'.repeat(2000),
        'Digest ' + 'a=b,'.repeat(1000),
        'Digest ' + ' '.repeat(4000),
        'Digest a="' + '\r\n '.repeat(1300) + '"',
      ];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 50; i++) {
        for (const s of inputs) {
          try {
            parseAuthHeader(s);
          } catch (e) {
            assert.ok(e instanceof AuthHeaderSyntaxError);
          }
        }
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      assert.ok(ms < 1000, `200 pathological parses took ${ms} ms`);
    });
  });

  describe('serialization', () => {
    it('MUST round-trip through the parser, escaping DQUOTE and backslash', () => {
      const params = new Map([
        ['username', { value: 'a"b\\c', quoted: true }],
        ['realm', { value: 'x, y=z', quoted: true }],
        ['nc', { value: '00000001', quoted: false }],
      ]);
      const text = serializeAuthHeader('Digest', params);
      assert.equal(text, 'Digest username="a\\"b\\\\c", realm="x, y=z", nc=00000001');
      assert.deepEqual(parseAuthHeader(text).params, params);
    });

    it('MUST refuse control characters (header injection) and non-token tokens', () => {
      assert.throws(
        () => serializeAuthHeader('Digest', [['realm', { value: 'x"\r\nVia: evil', quoted: true }]]),
        InvalidAuthParamError,
      );
      assert.throws(() => serializeAuthHeader('Digest', [['nc', { value: '1 2', quoted: false }]]), InvalidAuthParamError);
      assert.throws(() => serializeAuthHeader('Digest', [['nc', { value: '', quoted: false }]]), InvalidAuthParamError);
      assert.throws(() => serializeAuthHeader('Digest', [['a b', { value: 'x', quoted: true }]]), InvalidAuthParamError);
      assert.throws(() => serializeAuthHeader('Dig est', []), InvalidAuthParamError);
    });
  });

  describe('qop-options (RFC 7616 §3.3)', () => {
    it('MUST split the quoted list into lower-cased tokens', () => {
      assert.deepEqual(parseQopOptions('auth, Auth-Int ,,'), ['auth', 'auth-int']);
      assert.deepEqual(parseQopOptions(''), []);
    });
  });
});
