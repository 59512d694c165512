import assert from 'node:assert/strict';
import type { ConnectionOptions } from 'node:tls';
import { TransportLayer } from '../../../gateway/sip/transport/transport-layer';
import { TLS12_AEAD_SUITES, TLS13_SUITES } from '../../../gateway/sip/transport/tls';
import type { TlsConfig } from '../../../gateway/sip/transport/options';
import { RecordingUser, sipRequest, testPki, tlsPeer, waitFor, type StreamPeer, type TestPki } from './helpers';

type Family = 'IPv4' | 'IPv6';

async function tlsLayer(tls: Omit<TlsConfig, 'cert' | 'key'>, pki: TestPki): Promise<{ layer: TransportLayer; user: RecordingUser }> {
  const layer = await TransportLayer.listen({
    hosts: ['127.0.0.1', '::1'],
    tlsPort: 0,
    tls: { cert: pki.server.cert, key: pki.server.key, ...tls },
  });
  const user = new RecordingUser();
  layer.setUser(user);
  return { layer, user };
}

function tlsPortOf(layer: TransportLayer, family: Family = 'IPv4'): number {
  const a = layer.addresses().find((x) => x.protocol === 'TLS' && x.family === family);
  assert.ok(a);
  return a.port;
}

describe('RFC 3261 §26.2 TLS transport (RFC 9325 policy)', function () {
  this.timeout(30_000);
  let pki: TestPki;
  let layer: TransportLayer;
  let user: RecordingUser;
  const peers: StreamPeer[] = [];

  before(async () => {
    pki = await testPki();
    ({ layer, user } = await tlsLayer({ ca: pki.ca }, pki));
  });
  after(async () => {
    for (const p of peers) p.socket.destroy();
    await layer.close();
  });

  /** A client that verifies our server certificate, like a real phone should. */
  function client(extra: ConnectionOptions = {}, family: Family = 'IPv4'): ConnectionOptions {
    return {
      host: family === 'IPv4' ? '127.0.0.1' : '::1',
      port: tlsPortOf(layer, family),
      ca: pki.ca,
      servername: 'localhost',
      ...extra,
    };
  }
  async function connectPeer(extra: ConnectionOptions = {}, family: Family = 'IPv4') {
    const p = await tlsPeer(client(extra, family));
    peers.push(p);
    return p;
  }

  describe('protocol versions and cipher suites', () => {
    it('completes a TLS 1.3 handshake with an AEAD suite', async () => {
      const p = await connectPeer({ minVersion: 'TLSv1.3' });
      assert.equal(p.socket.getProtocol(), 'TLSv1.3');
      assert.ok(TLS13_SUITES.includes(p.socket.getCipher().standardName));
      assert.equal(p.socket.authorized, true);
    });

    it('completes a TLS 1.2 handshake with an ECDHE AEAD suite', async () => {
      const p = await connectPeer({ maxVersion: 'TLSv1.2' });
      assert.equal(p.socket.getProtocol(), 'TLSv1.2');
      assert.ok(TLS12_AEAD_SUITES.includes(p.socket.getCipher().name), p.socket.getCipher().name);
    });

    it("applies the server's cipher order, not the client's (honorCipherOrder)", async () => {
      const p = await connectPeer({
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384',
      });
      assert.equal(p.socket.getCipher().name, 'ECDHE-RSA-AES256-GCM-SHA384');
    });

    it('MUST refuse TLS 1.1', async () => {
      const failures = layer.counters.tlsHandshakeFailures;
      await assert.rejects(
        tlsPeer(client({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' })),
        (err: NodeJS.ErrnoException) => err.code === 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
      );
      await waitFor('the server-side failure count', () => layer.counters.tlsHandshakeFailures === failures + 1);
    });

    it('MUST refuse a client that offers only CBC suites', async () => {
      await assert.rejects(
        tlsPeer(client({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA:AES128-SHA' })),
        (err: NodeJS.ErrnoException) => err.code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
      );
    });
  });

  for (const family of ['IPv4', 'IPv6'] as const) {
    it(`answers over the same TLS flow on ${family}: the client never accepts connections`, async () => {
      const p = await connectPeer({}, family);
      const before = user.received.length;
      const opened = layer.counters.connectionsOpened;
      const req = sipRequest('OPTIONS', '', 'TLS');
      p.socket.write(req);
      await waitFor('the request', () => user.received.length === before + 1);
      const { data, info } = user.received[before];
      assert.equal(data.toString('latin1'), req);
      assert.equal(info.protocol, 'TLS');
      assert.equal(info.remote.address, family === 'IPv4' ? '127.0.0.1' : '::1');
      assert.equal(info.peerCertificate, undefined, 'no client certificate was requested');
      const response = 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n';
      await layer.send({ protocol: 'TLS', remote: info.remote, flowId: info.flowId }, Buffer.from(response));
      await waitFor('the response', () => p.received() === response);
      assert.equal(layer.counters.connectionsOpened, opened);
    });
  }

  it('answers a CRLF ping inside TLS', async () => {
    const p = await connectPeer();
    p.socket.write('\r\n\r\n');
    await waitFor('the pong', () => p.received() === '\r\n');
  });
});

describe('RFC 3261 §26.3.1 / RFC 5922 client certificates', function () {
  this.timeout(30_000);
  let pki: TestPki;
  const layers: TransportLayer[] = [];
  const peers: StreamPeer[] = [];
  after(async () => {
    for (const p of peers) p.socket.destroy();
    await Promise.all(layers.map((l) => l.close()));
  });
  before(async () => {
    pki = await testPki();
  });

  async function setup(tls: Omit<TlsConfig, 'cert' | 'key'>) {
    const s = await tlsLayer(tls, pki);
    layers.push(s.layer);
    return s;
  }
  /** Connects with the given client certificate, sends one request, waits for delivery or close. */
  async function sendWith(layer: TransportLayer, user: RecordingUser, cert?: { cert: string; key: string }) {
    const before = user.received.length;
    const p = await tlsPeer({ host: '127.0.0.1', port: tlsPortOf(layer), ca: pki.ca, servername: 'localhost', ...cert });
    peers.push(p);
    p.socket.write(sipRequest('REGISTER', '', 'TLS'));
    await waitFor('delivery or close', () => user.received.length > before || p.closed());
    return { peer: p, delivered: user.received.slice(before) };
  }

  it('hands up the verified client certificate when one is required', async () => {
    const { layer, user } = await setup({ ca: pki.ca, requestClientCert: true, rejectUnauthorizedClients: true });
    const { delivered } = await sendWith(layer, user, pki.client);
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0].info.peerCertificate?.subject.CN, 'alice.test');
  });

  it('MUST refuse a client without a certificate, or with one from another issuer, when required', async () => {
    const { layer, user } = await setup({ ca: pki.ca, requestClientCert: true, rejectUnauthorizedClients: true });
    const failures = layer.counters.tlsHandshakeFailures;
    for (const cert of [undefined, pki.rogue]) {
      let p: StreamPeer | undefined;
      try {
        p = await tlsPeer({ host: '127.0.0.1', port: tlsPortOf(layer), ca: pki.ca, servername: 'localhost', ...cert });
      } catch {
        continue; // refused during the handshake (TLS 1.2 style)
      }
      // With TLS 1.3 the client finishes first and learns of the refusal from the alert.
      peers.push(p);
      p.socket.write(sipRequest('REGISTER', '', 'TLS'));
      const peer = p;
      await waitFor('the disconnect', () => peer.closed());
    }
    await waitFor('both refusals counted', () => layer.counters.tlsHandshakeFailures === failures + 2);
    assert.equal(user.received.length, 0);
    assert.equal(layer.flowCount, 0);
  });

  it('accepts unverified clients when so configured, but hands up only verified certificates', async () => {
    const { layer, user } = await setup({ ca: pki.ca, requestClientCert: true, rejectUnauthorizedClients: false });
    const rogue = await sendWith(layer, user, pki.rogue);
    assert.equal(rogue.delivered.length, 1);
    assert.equal(rogue.delivered[0].info.peerCertificate, undefined);
    const alice = await sendWith(layer, user, pki.client);
    assert.equal(alice.delivered[0].info.peerCertificate?.subject.CN, 'alice.test');
  });

  it('does not ask for (nor hand up) a client certificate when verification is off', async () => {
    const { layer, user } = await setup({ ca: pki.ca });
    const { delivered } = await sendWith(layer, user, pki.client);
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0].info.peerCertificate, undefined);
  });
});
