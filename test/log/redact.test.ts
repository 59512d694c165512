import assert from 'node:assert/strict';
import { isSecretKey, REDACTED, redactText, redactValue } from '../../gateway/log/redact';
import { captureLogger, jsonLines } from './capture';

/** Sentinel secrets: none of these strings may appear in any log output. */
const SDES_KEY = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';
const DIGEST_RESPONSE = '6629fae49393a05397450978507c4ef1';
const PROXY_RESPONSE = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const CNONCE = '0a4f113b';
const MIKEY = 'AQAFgM0XflABAAAAAAAAAAAAAAsAyOOTaQAAAAAA';

const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 192.0.2.1',
  's=-',
  'c=IN IP4 192.0.2.1',
  't=0 0',
  'm=audio 20000 RTP/SAVP 0',
  `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${SDES_KEY}|2^20|1:4`,
  `a=key-mgmt:mikey ${MIKEY}`,
  'a=fingerprint:sha-256 AB:CD:EF',
  '',
].join('\r\n');

const INVITE = [
  'INVITE sip:bob@ciphergate.local SIP/2.0',
  'Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK776asdhds',
  'From: <sip:alice@ciphergate.local>;tag=1928301774',
  'To: <sip:bob@ciphergate.local>',
  'Call-ID: a84b4c76e66710',
  'CSeq: 2 INVITE',
  `Authorization: Digest username="alice", realm="ciphergate.local", nonce="dcd98b7102dd2f0e",`,
  `  uri="sip:bob@ciphergate.local", response="${DIGEST_RESPONSE}", cnonce="${CNONCE}"`,
  `proxy-authorization : Digest username="alice", response="${PROXY_RESPONSE}"`,
  'Content-Type: application/sdp',
  `Content-Length: ${Buffer.byteLength(SDP)}`,
  '',
  SDP,
].join('\r\n');

const PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n';
const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIBfTCCASOgAwIBAgIJAPUBLICCERT\n-----END CERTIFICATE-----\n';

function assertNoSecrets(text: string): void {
  const secrets = { SDES_KEY, DIGEST_RESPONSE, PROXY_RESPONSE, CNONCE, MIKEY, PEM_KEY_BODY: 'SECRETKEYMATERIAL' };
  for (const [name, secret] of Object.entries(secrets)) {
    // The message names the secret, never quotes it: assertion messages are printed on failure.
    assert.ok(!text.includes(secret), `log output contains ${name}`);
  }
}

describe('log/redact', () => {
  describe('secret-named keys', () => {
    const names = ['password', 'passwd', 'ha1', 'otp', 'secret', 'key', 'privateKey', 'token', 'authorization',
      'proxy-authorization', 'Proxy_Authorization', 'response', 'cnonce', 'passphrase', 'trunkPassword',
      'nonceSecret', 'accessToken'];
    for (const name of names) {
      it(`MUST redact a field named ${name}, at any depth`, async () => {
        const { log, output } = captureLogger();
        log.info('auth', { [name]: 'S3NTINEL-top', nested: { list: [{ [name]: 'S3NTINEL-deep' }] } });
        const out = await output();
        assert.ok(!out.includes('S3NTINEL'), out);
        const [entry] = jsonLines(out);
        assert.equal(entry[name], REDACTED);
      });
    }

    it('keeps non-secret fields and the digest nonce (a public challenge, see redact.ts)', () => {
      assert.equal(isSecretKey('nonce'), false);
      assert.equal(isSecretKey('keyPath'), false);
      assert.equal(isSecretKey('callId'), false);
      assert.deepEqual(redactValue({ nonce: 'n1', status: 401 }, { debugBodies: false }), { nonce: 'n1', status: 401 });
    });
  });

  describe('RFC 3261 §20.7/§20.28 credentials in logged SIP text', () => {
    it('MUST redact Authorization and Proxy-Authorization values, folded lines included', () => {
      const out = redactText(INVITE, { debugBodies: true });
      assertNoSecrets(out);
      assert.match(out, /\r\nAuthorization: \[redacted\]\r\n/);
      assert.match(out, /\r\nproxy-authorization : \[redacted\]\r\n/);
      assert.ok(!out.includes('uri="sip:bob'), 'folded continuation line must go too');
      assert.ok(out.includes('Call-ID: a84b4c76e66710'), 'other headers are kept');
    });

    it('MUST redact a credential header quoted inside an error message', async () => {
      const { log, output } = captureLogger();
      log.warn('bad header', { error: new Error(`cannot parse Authorization: Digest response="${DIGEST_RESPONSE}"`) });
      const out = await output();
      assertNoSecrets(out);
      assert.ok(out.includes('cannot parse Authorization: [redacted]'), out);
    });
  });

  describe('message bodies', () => {
    it('MUST NOT log bodies when log.debugBodies is off (body field, SIP text, bare SDP)', async () => {
      const { log, output } = captureLogger({ debugBodies: false });
      log.debug('sip in', { body: SDP, sdp: SDP, raw: INVITE });
      log.debug(SDP);
      const out = await output();
      assertNoSecrets(out);
      const [first, second] = jsonLines(out);
      assert.equal(first.body, REDACTED);
      assert.equal(first.sdp, REDACTED);
      assert.ok(String(first.raw).includes('CSeq: 2 INVITE'), 'headers stay');
      assert.ok(!String(first.raw).includes('m=audio'), 'body is gone');
      assert.match(String(first.raw), /\[body redacted: \d+ bytes\]$/);
      assert.match(String(second.message), /^\[body redacted: \d+ bytes\]$/);
    });

    it('with log.debugBodies on, logs the body but still MUST redact RFC 4568 a=crypto and RFC 4567 a=key-mgmt keys', async () => {
      const { log, output } = captureLogger({ debugBodies: true });
      log.debug('sip in', { body: SDP, raw: INVITE, bytes: Buffer.from(SDP) });
      const out = await output();
      assertNoSecrets(out);
      const [entry] = jsonLines(out);
      assert.ok(String(entry.body).includes('m=audio 20000 RTP/SAVP 0'));
      assert.ok(String(entry.body).includes('a=crypto:1 AES_CM_128_HMAC_SHA1_80 [redacted]'));
      assert.ok(String(entry.body).includes('a=key-mgmt:mikey [redacted]'));
      assert.ok(String(entry.body).includes('a=fingerprint:sha-256 AB:CD:EF'), 'fingerprints are public');
      assert.ok(String(entry.raw).includes('m=audio'));
      assert.equal(entry.bytes, `[${Buffer.byteLength(SDP)} bytes]`, 'raw bytes are never dumped');
    });

    it('MUST redact any inline: key parameter outside an a=crypto line', () => {
      const out = redactText(`offer crypto suite AES_256_CM_HMAC_SHA1_80 inline:${SDES_KEY}|2^31 next`, { debugBodies: true });
      assertNoSecrets(out);
      assert.ok(out.endsWith('inline:[redacted] next'));
    });
  });

  describe('PEM private keys', () => {
    it('MUST remove private key blocks and keep certificates', async () => {
      const { log, output } = captureLogger();
      log.error(`loaded ${PEM_CERT} and ${PEM_KEY} done`, { pem: `-----BEGIN EC PRIVATE KEY-----\nSECRETKEYMATERIAL` });
      const out = await output();
      assertNoSecrets(out);
      const [entry] = jsonLines(out);
      assert.ok(String(entry.message).includes('PUBLICCERT'));
      assert.match(String(entry.message), /\[redacted private key\]\s+done$/);
      assert.equal(entry.pem, '[redacted private key]', 'a block without END line is cut to the end');
    });
  });

  describe('value walking', () => {
    it('does not modify the caller\'s objects', async () => {
      const fields = { user: { password: 'pw' }, body: 'x' };
      const { log, output } = captureLogger();
      log.info('x', fields);
      await output();
      assert.deepEqual(fields, { user: { password: 'pw' }, body: 'x' });
    });

    it('survives cycles, deep nesting and huge arrays', () => {
      const a: Record<string, unknown> = { name: 'a' };
      a.self = a;
      let deep: Record<string, unknown> = { leaf: true };
      for (let i = 0; i < 20; i++) deep = { deep };
      const out = JSON.stringify(redactValue({ a, deep, big: new Array(1000).fill(1) }, { debugBodies: false }));
      assert.ok(out.includes('[circular]'));
      assert.ok(out.includes('[depth limit]'));
      assert.ok(out.includes('[800 more]'));
    });
  });
});
