import assert from 'node:assert/strict';
import crypto, { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { nullLogger } from '../../gateway/log/logger';
import {
  CertificateError, ensureCertificate, generateSelfSigned, GENERATED_VALIDITY_DAYS, loadTlsMaterial,
  type CertificateConfig,
} from '../../gateway/tls/certificate';
import { captureLogger } from '../log/capture';

const DAY_MS = 24 * 60 * 60 * 1000;

function configFor(dataDir: string, tlsKeys: Partial<CertificateConfig['tls']> = {}): CertificateConfig {
  return { dataDir, sip: { domain: 'ciphergate.local' }, tls: { cert: '', key: '', ca: '', ...tlsKeys } };
}

describe('tls/certificate (RFC 3261 §26.3.1 server certificate)', () => {
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-tls-')); });
  afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

  describe('first start: generated self-signed certificate', () => {
    it('MUST generate once and reuse it: same fingerprint, same files on the second start', async () => {
      const cfg = configFor(path.join(tmp, 'data'));
      const first = await ensureCertificate(cfg, nullLogger);
      assert.equal(first.generated, true);
      assert.equal(first.certPath, path.join(tmp, 'data', 'tls', 'cert.pem'));
      assert.equal(first.keyPath, path.join(tmp, 'data', 'tls', 'key.pem'));
      const second = await ensureCertificate(cfg, nullLogger);
      assert.equal(second.generated, false);
      assert.equal(second.fingerprint, first.fingerprint);
      assert.deepEqual(second.cert, first.cert);
      assert.deepEqual(second.key, first.key);
    });

    it('MUST write the key with mode 0600 inside a 0700 directory', async () => {
      const m = await ensureCertificate(configFor(tmp), nullLogger);
      assert.equal(fs.statSync(m.keyPath).mode & 0o777, 0o600);
      assert.equal(fs.statSync(path.dirname(m.keyPath)).mode & 0o777, 0o700);
      assert.deepEqual(fs.readdirSync(path.dirname(m.keyPath)).sort(), ['cert.pem', 'key.pem'], 'no temp files left');
    });

    it('is ECDSA P-256, CN = sip.domain, with DNS and IP SANs (127.0.0.1 also as DNS for mbedTLS)', async () => {
      const m = await ensureCertificate(configFor(tmp), nullLogger);
      const x509 = new X509Certificate(m.cert);
      assert.equal(x509.subject, 'CN=ciphergate.local');
      assert.equal(x509.publicKey.asymmetricKeyType, 'ec');
      assert.equal(x509.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      const sans = (x509.subjectAltName ?? '').split(', ');
      for (const san of ['DNS:ciphergate.local', 'DNS:localhost', 'DNS:127.0.0.1', 'IP Address:127.0.0.1',
        'IP Address:0:0:0:0:0:0:0:1']) {
        assert.ok(sans.includes(san), `missing SAN ${san} in ${x509.subjectAltName}`);
      }
      assert.equal(x509.ca, false);
    });

    it(`is valid now and for ${GENERATED_VALIDITY_DAYS} days`, async () => {
      const x509 = new X509Certificate((await ensureCertificate(configFor(tmp), nullLogger)).cert);
      assert.ok(Date.parse(x509.validFrom) < Date.now());
      const days = (Date.parse(x509.validTo) - Date.now()) / DAY_MS;
      assert.ok(days > GENERATED_VALIDITY_DAYS - 1 && days <= GENERATED_VALIDITY_DAYS, `validity ${days} days`);
    });

    it('reports the SHA-256 fingerprint in AB:CD:... form, equal to the certificate\'s', async () => {
      const m = await ensureCertificate(configFor(tmp), nullLogger);
      assert.match(m.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      assert.equal(m.fingerprint, new X509Certificate(m.cert).fingerprint256);
    });

    it('serves a TLS handshake that verifies for sip.domain, localhost, 127.0.0.1 and ::1', async () => {
      const m = await ensureCertificate(configFor(tmp), nullLogger);
      const server = tls.createServer({ cert: m.cert, key: m.key }, (s) => s.end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      try {
        for (const servername of ['ciphergate.local', 'localhost']) {
          await new Promise<void>((resolve, reject) => {
            const socket = tls.connect({ host: '127.0.0.1', port, ca: m.cert, servername }, () => {
              const peer = socket.getPeerCertificate();
              socket.end();
              // IP literals are never sent as SNI; check the identity rule clients apply to them.
              assert.equal(tls.checkServerIdentity('127.0.0.1', peer), undefined);
              assert.equal(tls.checkServerIdentity('::1', peer), undefined);
              resolve();
            });
            socket.on('error', reject);
            socket.setTimeout(5000, () => reject(new Error('handshake timeout')));
          });
        }
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it('MUST NOT log the private key', async () => {
      const { log, output } = captureLogger();
      const m = await ensureCertificate(configFor(tmp), log);
      const out = await output();
      assert.ok(out.includes(m.fingerprint), 'the fingerprint is logged');
      assert.ok(!out.includes('PRIVATE KEY'));
      const body = m.key.toString().split('\n')[1];
      assert.ok(!out.includes(body));
    });

    it('resets a generated key file that became readable by others to 0600, with a warning', async () => {
      const cfg = configFor(tmp);
      const m = await ensureCertificate(cfg, nullLogger);
      fs.chmodSync(m.keyPath, 0o644);
      const { log, output } = captureLogger();
      await ensureCertificate(cfg, log);
      assert.equal(fs.statSync(m.keyPath).mode & 0o777, 0o600);
      assert.match(await output(), /"level":"warn".*0600/);
    });

    it('regenerates when one of the two files is missing', async () => {
      const cfg = configFor(tmp);
      const first = await ensureCertificate(cfg, nullLogger);
      fs.rmSync(first.certPath);
      const second = await ensureCertificate(cfg, nullLogger);
      assert.equal(second.generated, true);
      assert.notEqual(second.fingerprint, first.fingerprint);
    });

    it('regenerates an expired generated certificate', async () => {
      const dir = path.join(tmp, 'tls');
      fs.mkdirSync(dir, { mode: 0o700 });
      const old = await generateSelfSigned('ciphergate.local', new Date(Date.now() - (GENERATED_VALIDITY_DAYS + 5) * DAY_MS));
      fs.writeFileSync(path.join(dir, 'cert.pem'), old.cert);
      fs.writeFileSync(path.join(dir, 'key.pem'), old.key, { mode: 0o600 });
      const m = await ensureCertificate(configFor(tmp), nullLogger);
      assert.equal(m.generated, true);
      assert.ok(Date.parse(new X509Certificate(m.cert).validTo) > Date.now());
    });

    it('refuses a sip.domain that could inject into the certificate subject', async () => {
      await assert.rejects(generateSelfSigned('a,CN=evil'), CertificateError);
    });
  });

  describe('configured tls.cert / tls.key', () => {
    let certPath: string;
    let keyPath: string;
    let keyPem: string;
    beforeEach(async () => {
      const pems = await generateSelfSigned('sip.example.org');
      certPath = path.join(tmp, 'server.crt');
      keyPath = path.join(tmp, 'server.key');
      keyPem = pems.key;
      fs.writeFileSync(certPath, pems.cert);
      fs.writeFileSync(keyPath, pems.key, { mode: 0o600 });
    });

    it('loads them instead of generating (nothing written to dataDir)', async () => {
      const dataDir = path.join(tmp, 'data');
      const m = await ensureCertificate(configFor(dataDir, { cert: certPath, key: keyPath }), nullLogger);
      assert.equal(m.generated, false);
      assert.equal(m.certPath, certPath);
      assert.equal(m.keyPath, keyPath);
      assert.equal(new X509Certificate(m.cert).subject, 'CN=sip.example.org');
      assert.equal(fs.existsSync(dataDir), false);
    });

    it('loads tls.ca as the client-certificate CA bundle', async () => {
      const m = await ensureCertificate(configFor(tmp, { cert: certPath, key: keyPath, ca: certPath }), nullLogger);
      assert.deepEqual(m.ca, fs.readFileSync(certPath));
    });

    it('names the unreadable file', async () => {
      const missing = path.join(tmp, 'nope.crt');
      await assert.rejects(ensureCertificate(configFor(tmp, { cert: missing, key: keyPath }), nullLogger),
        { name: 'CertificateError', message: `tls.cert: ${missing}: cannot read (ENOENT)` });
    });

    it('names the file that is not a certificate / not a key, without echoing its contents', async () => {
      assert.throws(() => loadTlsMaterial(keyPath, keyPath),
        { name: 'CertificateError', message: `tls.cert: ${keyPath}: not a PEM X.509 certificate` });
      try {
        loadTlsMaterial(certPath, certPath);
        assert.fail('accepted a certificate as key');
      } catch (err) {
        assert.ok(err instanceof CertificateError);
        assert.equal(err.message, `tls.key: ${certPath}: not an unencrypted PEM private key`);
      }
    });

    it('rejects a key that does not match the certificate (message carries no key material)', async () => {
      const other = path.join(tmp, 'other.key');
      const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      fs.writeFileSync(other, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      try {
        loadTlsMaterial(certPath, other);
        assert.fail('accepted a mismatched key');
      } catch (err) {
        assert.ok(err instanceof CertificateError);
        assert.equal(err.message, `tls.key: ${other}: does not match the certificate in ${certPath}`);
        assert.ok(!err.message.includes(keyPem.split('\n')[1]));
      }
    });

    it('warns when the configured key file is readable by group/others', async () => {
      fs.chmodSync(keyPath, 0o640);
      const { log, output } = captureLogger();
      await ensureCertificate(configFor(tmp, { cert: certPath, key: keyPath }), log);
      assert.match(await output(), /"level":"warn".*chmod 600/);
    });
  });
});
