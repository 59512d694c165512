/**
 * A TLS client (node:tls) gets 200 to OPTIONS over the gateway's TLS listener, verifying the
 * self-signed certificate generated on first start; old protocol versions are refused.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process';

function optionsRequest(port: number): string {
  const branch = 'z9hG4bK' + crypto.randomBytes(8).toString('hex');
  return [
    `OPTIONS sip:127.0.0.1:${port};transport=tls SIP/2.0`,
    `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=${branch}`,
    'Max-Forwards: 70',
    `To: <sip:127.0.0.1:${port}>`,
    `From: <sip:probe@127.0.0.1>;tag=${crypto.randomBytes(4).toString('hex')}`,
    `Call-ID: ${crypto.randomBytes(8).toString('hex')}@127.0.0.1`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function connect(port: number, opts: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...opts }, () => resolve(s));
    s.once('error', reject);
  });
}

function readResponse(s: tls.TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('no response: ' + buf)), 5000);
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n\r\n')) {
        clearTimeout(t);
        resolve(buf);
      }
    });
  });
}

describe('Integration: SIP over TLS (RFC 3261 §26.2, RFC 5246/8446)', function () {
  this.timeout(30_000);
  let gw: GatewayProcess;
  let ca: Buffer;

  before(async () => {
    gw = await startGateway();
    ca = fs.readFileSync(path.join(gw.dataDir, 'tls', 'cert.pem'));
  });
  after(async () => {
    await gw?.stop();
  });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`answers OPTIONS with 200 over ${version}, with an AEAD suite and a verifiable certificate`, async () => {
      const s = await connect(gw.tls.port, { ca, minVersion: version, maxVersion: version });
      try {
        assert.equal(s.authorized, true, String(s.authorizationError));
        assert.equal(s.getProtocol(), version);
        assert.match(s.getCipher().name, /GCM|CHACHA20/);
        const reply = readResponse(s);
        s.write(optionsRequest(gw.tls.port));
        const text = await reply;
        assert.match(text, /^SIP\/2\.0 200 /);
        assert.match(text, /\r\nAllow: /i);
        assert.match(text, /\r\nVia: SIP\/2\.0\/TLS 127\.0\.0\.1:5999;branch=z9hG4bK/i);
      } finally {
        s.destroy();
      }
    });
  }

  it('refuses TLS 1.1', async () => {
    await assert.rejects(connect(gw.tls.port, { ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }));
  });

  it('refuses a client that offers only CBC suites on TLS 1.2', async () => {
    await assert.rejects(
      connect(gw.tls.port, { ca, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:AES128-SHA' }),
    );
  });
});
