/**
 * Digest algorithms (RFC 7616 §3.4, §3.9.1; RFC 8760 §2.1; RFC 2069).
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import {
  computeHA1,
  computeHA2,
  computeLegacyResponse,
  computeResponse,
  digestHex,
  hashOf,
  normalizeHA1,
  parseAlgorithm,
  sessionKey,
  type DigestHash,
} from '../../../gateway/sip/digest/algorithms';

/** RFC 7616 §3.9.1. */
const V = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  nc: '00000001',
  qop: 'auth',
  uri: '/dir/index.html',
  method: 'GET',
};

function rfc7616Response(hash: DigestHash): string {
  return computeResponse(hash, {
    ha1: computeHA1(hash, V.username, V.realm, V.password),
    nonce: V.nonce,
    nc: V.nc,
    cnonce: V.cnonce,
    qop: V.qop,
    ha2: computeHA2(hash, V.method, V.uri),
  });
}

describe('Digest algorithms (RFC 7616 §3.4, RFC 8760 §2.1)', () => {
  describe('RFC 7616 §3.9.1 example', () => {
    it('MUST give response 8ca523f5e9506fed4657c9700eebdbec with MD5', () => {
      assert.equal(rfc7616Response('MD5'), '8ca523f5e9506fed4657c9700eebdbec');
    });
    it('MUST give response 753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1 with SHA-256', () => {
      assert.equal(rfc7616Response('SHA-256'), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    });
  });

  describe('hash functions', () => {
    it('MUST implement SHA-512/256 as FIPS 180-4 defines it, not a truncated SHA-512', () => {
      // FIPS 180-4 / NIST CSRC example for "abc".
      assert.equal(digestHex('SHA-512-256', 'abc'), '53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23');
      assert.notEqual(digestHex('SHA-512-256', 'abc'), digestHex('SHA-256', 'abc'));
    });
    it('MUST hash strings as UTF-8', () => {
      const utf8 = createHash('md5').update(Buffer.from([0xc3, 0xa9])).digest('hex');
      const latin1 = createHash('md5').update(Buffer.from([0xe9])).digest('hex');
      assert.equal(digestHex('MD5', '\u00e9'), utf8);
      assert.notEqual(utf8, latin1);
    });
  });

  describe('algorithm names (RFC 7616 §3.3)', () => {
    it('MUST default an absent algorithm to MD5 and match names case-insensitively', () => {
      assert.equal(parseAlgorithm(undefined), 'MD5');
      assert.equal(parseAlgorithm('sha-256'), 'SHA-256');
      assert.equal(parseAlgorithm('sha-512-256-SESS'), 'SHA-512-256-sess');
      assert.equal(parseAlgorithm('SHA-1'), undefined);
      assert.equal(parseAlgorithm(''), undefined);
      assert.equal(hashOf('MD5-sess'), 'MD5');
    });
  });

  describe('-sess and the RFC 2069 form', () => {
    it('MUST derive the -sess key as H(HA1:nonce:cnonce) (RFC 7616 §3.4.2)', () => {
      const ha1 = computeHA1('SHA-256', V.username, V.realm, V.password);
      assert.equal(sessionKey('SHA-256', ha1, V.nonce, V.cnonce), ha1);
      assert.equal(sessionKey('SHA-256-sess', ha1, V.nonce, V.cnonce), digestHex('SHA-256', `${ha1}:${V.nonce}:${V.cnonce}`));
    });
    it('MUST compute the legacy response as in RFC 2069 §2.4 (as corrected by its erratum)', () => {
      const ha1 = computeHA1('MD5', 'Mufasa', 'testrealm@host.com', 'CircleOfLife');
      const ha2 = computeHA2('MD5', 'GET', '/dir/index.html');
      assert.equal(computeLegacyResponse('MD5', ha1, 'dcd98b7102dd2f0e8b11d0f600bfb0c093', ha2), '1949323746fe6a43ef61f9606e7febea');
    });
  });

  describe('RFC 2617 §3.5 example', () => {
    it('MUST give response 6629fae49393a05397450978507c4ef1', () => {
      const r = computeResponse('MD5', {
        ha1: computeHA1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life'),
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        nc: '00000001',
        cnonce: '0a4f113b',
        qop: 'auth',
        ha2: computeHA2('MD5', 'GET', '/dir/index.html'),
      });
      assert.equal(r, '6629fae49393a05397450978507c4ef1');
    });
  });

  describe('stored HA1 forms', () => {
    it('MUST accept hex of the right size (either case) or raw digest bytes, nothing else', () => {
      const hex = computeHA1('SHA-256', 'u', 'r', 'p');
      assert.equal(normalizeHA1('SHA-256', hex.toUpperCase()), hex);
      assert.equal(normalizeHA1('SHA-256', Buffer.from(hex, 'hex')), hex);
      assert.equal(normalizeHA1('MD5', hex), undefined);
      assert.equal(normalizeHA1('SHA-256', Buffer.from(hex)), undefined);
      assert.equal(normalizeHA1('MD5', '\u0010'.repeat(32)), undefined);
      assert.equal(normalizeHA1('MD5', 'g'.repeat(32)), undefined);
    });
  });
});
