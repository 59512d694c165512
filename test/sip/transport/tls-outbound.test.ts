import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { TransportLayer } from '../../../gateway/sip/transport/transport-layer';
import { TlsHandshakeError } from '../../../gateway/sip/transport/tls';
import { TransportError, type SendTarget } from '../../../gateway/sip/transport/types';
import { RecordingUser, sipRequest, sleep, tcpPeer, testPki, waitFor, type StreamPeer, type TestPki } from './helpers';

const REQUEST = Buffer.from(sipRequest('OPTIONS', 'secret body', 'TLS'));

/** Listens on UDP and (optionally) TCP on one port number and records every byte that arrives. */
class Capture {
  readonly udp: Buffer[] = [];
  readonly tcp: Buffer[] = [];
  private udpSocket?: UdpSocket;
  private tcpServer?: Server;
  private readonly accepted: Socket[] = [];
  port = 0;

  async open(withTcp: boolean): Promise<void> {
    const udpSocket = createSocket('udp4');
    this.udpSocket = udpSocket;
    udpSocket.on('message', (m) => this.udp.push(m));
    await new Promise<void>((resolve) => udpSocket.bind(0, '127.0.0.1', () => resolve()));
    this.port = udpSocket.address().port;
    if (withTcp) {
      const server = createTcpServer((s) => {
        this.accepted.push(s);
        s.on('data', (c) => this.tcp.push(c));
        s.on('error', () => undefined);
      });
      this.tcpServer = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.port, '127.0.0.1', () => resolve());
      });
    }
  }

  async close(): Promise<void> {
    for (const s of this.accepted) s.destroy();
    this.udpSocket?.close();
    const server = this.tcpServer;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('RFC 3261 §26.2.2 a TLS target never leaves in clear text', function () {
  this.timeout(30_000);
  let pki: TestPki;
  let layer: TransportLayer;
  const user = new RecordingUser();
  const captures: Capture[] = [];
  const peers: StreamPeer[] = [];

  before(async () => {
    pki = await testPki();
    layer = await TransportLayer.listen({
      hosts: ['127.0.0.1'],
      udpPort: 0,
      tcpPort: 0,
      tlsPort: 0,
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca },
      limits: { connectTimeoutMs: 500 },
    });
    layer.setUser(user);
  });
  after(async () => {
    for (const p of peers) p.socket.destroy();
    await Promise.all(captures.map((c) => c.close()));
    await layer.close();
  });

  async function capture(withTcp: boolean): Promise<Capture> {
    const c = new Capture();
    captures.push(c);
    await c.open(withTcp);
    return c;
  }

  it('rejects with a TransportError when nothing listens, and sends nothing over UDP', async () => {
    const c = await capture(false);
    const out = layer.counters.messagesOut;
    await assert.rejects(layer.send({ protocol: 'TLS', remote: { address: '127.0.0.1', port: c.port } }, REQUEST), TransportError);
    await sleep(200);
    assert.equal(c.udp.length, 0, 'no datagram on the same port number');
    assert.equal(layer.counters.messagesOut, out);
  });

  it('rejects when the TLS handshake stalls, and the TCP peer only ever saw a TLS ClientHello', async () => {
    const c = await capture(true);
    await assert.rejects(
      layer.send({ protocol: 'TLS', remote: { address: '127.0.0.1', port: c.port }, serverName: 'localhost' }, REQUEST),
      TlsHandshakeError,
    );
    const seen = Buffer.concat(c.tcp);
    assert.ok(seen.length > 0, 'the connect did reach the port');
    assert.equal(seen[0], 0x16, 'a TLS handshake record, not SIP');
    assert.equal(seen.includes('OPTIONS'), false);
    assert.equal(seen.includes('secret body'), false);
    assert.equal(c.udp.length, 0);
  });

  it('rejects a server whose certificate is not issued by the configured CA', async () => {
    const received: Buffer[] = [];
    const rogue = createTlsServer({ cert: pki.rogue.cert, key: pki.rogue.key }, (s) => s.on('data', (d) => received.push(d)));
    rogue.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => rogue.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (rogue.address() as { port: number }).port;
      await assert.rejects(
        layer.send({ protocol: 'TLS', remote: { address: '127.0.0.1', port }, serverName: 'localhost' }, REQUEST),
        TlsHandshakeError,
      );
      await sleep(50);
      assert.equal(received.length, 0);
    } finally {
      await new Promise<void>((resolve) => rogue.close(() => resolve()));
    }
  });

  it('refuses a TLS target whose flowId names a TCP flow, and writes nothing on that flow', async () => {
    const tcpPort = layer.addresses().find((a) => a.protocol === 'TCP')?.port as number;
    const p = await tcpPeer('127.0.0.1', tcpPort);
    peers.push(p);
    const before = user.received.length;
    p.socket.write(sipRequest('REGISTER'));
    await waitFor('the REGISTER', () => user.received.length === before + 1);
    const { info } = user.received[before];
    const target: SendTarget = { protocol: 'TLS', remote: info.remote, flowId: info.flowId };
    await assert.rejects(layer.send(target, REQUEST), TransportError);
    await sleep(100);
    assert.equal(p.received(), '');
  });
});

describe('RFC 3261 §26.3.1 outbound TLS connections (verified, mutual)', function () {
  this.timeout(30_000);
  let pki: TestPki;
  let a: TransportLayer;
  let b: TransportLayer;
  const userA = new RecordingUser();
  const userB = new RecordingUser();

  before(async () => {
    pki = await testPki();
    const tls = { cert: pki.server.cert, key: pki.server.key, ca: pki.ca };
    a = await TransportLayer.listen({ hosts: ['127.0.0.1'], udpPort: 0, tls });
    // b insists on client certificates: a must present its own.
    b = await TransportLayer.listen({
      hosts: ['127.0.0.1', '::1'],
      tlsPort: 0,
      tls: { ...tls, requestClientCert: true, rejectUnauthorizedClients: true },
    });
    a.setUser(userA);
    b.setUser(userB);
  });
  after(() => Promise.all([a.close(), b.close()]));

  for (const [family, address] of [['IPv4', '127.0.0.1'], ['IPv6', '::1']] as const) {
    it(`connects over ${family}, verifies the server name, and reads the answer on the same flow`, async () => {
      const port = b.addresses().find((x) => x.protocol === 'TLS' && x.family === family)?.port as number;
      const before = { a: userA.received.length, b: userB.received.length };
      await a.send({ protocol: 'TLS', remote: { address, port }, serverName: 'localhost' }, REQUEST);
      await waitFor('the request at b', () => userB.received.length === before.b + 1);
      const { info } = userB.received[before.b];
      assert.equal(info.peerCertificate?.subject.CN, 'localhost', "a's verified client certificate");
      const response = 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n';
      await b.send({ protocol: 'TLS', remote: info.remote, flowId: info.flowId, flowOnly: true }, Buffer.from(response));
      await waitFor('the response at a', () => userA.received.length === before.a + 1);
      const got = userA.received[before.a];
      assert.equal(got.data.toString(), response);
      assert.equal(got.info.protocol, 'TLS');
      assert.deepEqual(got.info.remote, { address, port });
      assert.equal(got.info.peerCertificate?.subject.CN, 'localhost', "b's verified server certificate");
    });
  }

  it('rejects a server certificate that does not match serverName', async () => {
    const port = b.addresses().find((x) => x.protocol === 'TLS')?.port as number;
    const before = userB.received.length;
    await assert.rejects(
      a.send({ protocol: 'TLS', remote: { address: '127.0.0.1', port }, serverName: 'sip.example.com' }, REQUEST),
      TlsHandshakeError,
    );
    await sleep(50);
    assert.equal(userB.received.length, before);
  });
});
