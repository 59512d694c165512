import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { TransportLayer } from '../../../gateway/sip/transport/transport-layer';
import { FlowFailedError } from '../../../gateway/sip/transport/types';
import { RecordingUser, sipRequest, sleep, tcpPeer, waitFor, type StreamPeer } from './helpers';

describe('RFC 3261 §18.3 TCP transport', () => {
  let layer: TransportLayer;
  const user = new RecordingUser();
  const closedFlows: string[] = [];
  const peers: StreamPeer[] = [];

  before(async () => {
    layer = await TransportLayer.listen({
      hosts: ['127.0.0.1', '::1'],
      tcpPort: 0,
      limits: { maxHeaderBytes: 2048, maxMessageBytes: 8192 },
    });
    layer.setUser(user);
    layer.on('flowClosed', (id) => closedFlows.push(id));
  });
  after(async () => {
    for (const p of peers) p.socket.destroy();
    await layer.close();
  });

  function tcpPort(family: 'IPv4' | 'IPv6' = 'IPv4'): number {
    const a = layer.addresses().find((x) => x.protocol === 'TCP' && x.family === family);
    assert.ok(a);
    return a.port;
  }
  async function peer(host = '127.0.0.1', family: 'IPv4' | 'IPv6' = 'IPv4'): Promise<StreamPeer> {
    const p = await tcpPeer(host, tcpPort(family));
    peers.push(p);
    return p;
  }

  it('frames several messages in one segment and one message split over several', async () => {
    const p = await peer();
    p.socket.setNoDelay(true);
    const before = user.received.length;
    const [m1, m2, m3] = [sipRequest('OPTIONS'), sipRequest('MESSAGE', 'hello'), sipRequest('BYE')];
    p.socket.write(m1 + m2 + m3);
    const m4 = sipRequest('MESSAGE', 'body split\r\n\r\nover segments');
    for (const part of [m4.slice(0, 7), m4.slice(7, 60), m4.slice(60, -5), m4.slice(-5)]) {
      p.socket.write(part);
      await sleep(10);
    }
    await waitFor('four messages', () => user.received.length === before + 4);
    assert.deepEqual(user.texts().slice(before), [m1, m2, m3, m4]);
    const infos = user.received.slice(before).map((r) => r.info);
    const flowId = infos[0].flowId;
    assert.ok(flowId && /^[0-9a-f]{32}$/.test(flowId), 'a 128-bit random flow id');
    for (const info of infos) {
      assert.equal(info.protocol, 'TCP');
      assert.equal(info.flowId, flowId);
      assert.deepEqual(info.remote, { address: '127.0.0.1', port: p.socket.localPort });
      assert.deepEqual(info.local, { address: '127.0.0.1', port: tcpPort() });
    }
  });

  it('sends the response back over the flow the request came on (RFC 3261 §18.2.2)', async () => {
    const p = await peer('::1', 'IPv6');
    const before = user.received.length;
    p.socket.write(sipRequest('OPTIONS'));
    await waitFor('the request', () => user.received.length === before + 1);
    const { info } = user.received[before];
    assert.deepEqual(info.remote, { address: '::1', port: p.socket.localPort });
    const opened = layer.counters.connectionsOpened;
    const response = 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n';
    await layer.send({ protocol: 'TCP', remote: info.remote, flowId: info.flowId }, Buffer.from(response));
    await waitFor('the response', () => p.received() === response);
    assert.equal(layer.counters.connectionsOpened, opened, 'no new connection');
  });

  it('MUST close the connection when Content-Length is missing', async () => {
    const p = await peer();
    const before = { received: user.received.length, errors: layer.counters.framingErrors };
    p.socket.write('OPTIONS sip:gw.test SIP/2.0\r\nCall-ID: x\r\n\r\n');
    await waitFor('the disconnect', () => p.closed());
    assert.equal(user.received.length, before.received);
    assert.equal(layer.counters.framingErrors, before.errors + 1);
  });

  it('closes a peer whose header block never ends, without waiting for more bytes', async () => {
    const p = await peer();
    const errors = layer.counters.framingErrors;
    const junk = Buffer.from('X-Junk: ' + 'j'.repeat(1014) + '\r\n'); // 1 KiB per header line
    let written = 0;
    // Bounded: at most 16 MiB, stopping as soon as the server has hung up.
    while (!p.closed() && written < 16 * 1024 * 1024) {
      if (!p.socket.write(junk)) await new Promise((r) => setTimeout(r, 2));
      written += junk.length;
      if (written % (64 * 1024) === 0) await sleep(1);
    }
    await waitFor('the disconnect', () => p.closed());
    assert.equal(layer.counters.framingErrors, errors + 1);
  });

  it('answers a CRLF ping with one CRLF pong and skips lone CRLFs (RFC 5626 §4.4.1)', async () => {
    const p = await peer();
    const before = user.received.length;
    const pings = layer.counters.keepAlivePings;
    p.socket.write('\r\n\r\n');
    await waitFor('the pong', () => p.received() === '\r\n');
    p.socket.write('\r\n' + sipRequest('OPTIONS'));
    await waitFor('the request', () => user.received.length === before + 1);
    assert.equal(p.received(), '\r\n', 'a lone CRLF is not answered');
    assert.equal(layer.counters.keepAlivePings, pings + 1);
    assert.equal(p.closed(), false);
  });

  it('tells its listeners when a flow closes, and flowOnly sends then fail with FlowFailedError (RFC 5626 §5.3)', async () => {
    const p = await peer();
    const before = user.received.length;
    p.socket.write(sipRequest('REGISTER'));
    await waitFor('the REGISTER', () => user.received.length === before + 1);
    const { info } = user.received[before];
    assert.ok(info.flowId);
    assert.equal(layer.isFlowAlive(info.flowId), true);
    p.socket.end();
    await waitFor('flowClosed', () => closedFlows.includes(info.flowId as string));
    assert.equal(layer.isFlowAlive(info.flowId), false);
    await assert.rejects(
      layer.send({ protocol: 'TCP', remote: info.remote, flowId: info.flowId, flowOnly: true }, Buffer.from('x')),
      FlowFailedError,
    );
  });

  describe('outbound connections (RFC 3261 §18.1.1)', () => {
    let server: Server;
    const accepted: Socket[] = [];
    const bytes: Buffer[] = [];
    before((done) => {
      server = createServer((s) => {
        accepted.push(s);
        s.on('data', (c) => bytes.push(c));
      });
      server.listen(0, '127.0.0.1', done);
    });
    after((done) => {
      for (const s of accepted) s.destroy();
      server.close(() => done());
    });

    it('opens one connection, reuses it for the next message, and reads what comes back on it', async () => {
      const port = (server.address() as { port: number }).port;
      const target = { protocol: 'TCP' as const, remote: { address: '127.0.0.1', port } };
      const m1 = sipRequest('OPTIONS');
      const m2 = sipRequest('MESSAGE', 'again');
      await Promise.all([layer.send(target, Buffer.from(m1)), layer.send(target, Buffer.from(m2))]);
      await waitFor('both messages', () => Buffer.concat(bytes).length === m1.length + m2.length);
      assert.equal(accepted.length, 1, 'concurrent sends share one connection');
      assert.equal(Buffer.concat(bytes).toString(), m1 + m2);

      const before = user.received.length;
      const response = 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n';
      accepted[0].write(response);
      await waitFor('the response', () => user.received.length === before + 1);
      const { info } = user.received[before];
      assert.equal(info.protocol, 'TCP');
      assert.deepEqual(info.remote, { address: '127.0.0.1', port });
      assert.ok(info.flowId && layer.isFlowAlive(info.flowId));
    });
  });
});
