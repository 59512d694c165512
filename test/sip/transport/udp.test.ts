import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { TransportLayer } from '../../../gateway/sip/transport/transport-layer';
import { TransportError } from '../../../gateway/sip/transport/types';
import { RecordingUser, sipRequest, waitFor } from './helpers';

interface UdpPeer {
  socket: Socket;
  received: Buffer[];
  /** Source port of each received datagram. */
  fromPorts: number[];
  port: number;
}

function udpPeer(type: 'udp4' | 'udp6', host: string): Promise<UdpPeer> {
  return new Promise((resolve) => {
    const socket = createSocket(type);
    const received: Buffer[] = [];
    const fromPorts: number[] = [];
    socket.on('message', (m, rinfo) => {
      received.push(m);
      fromPorts.push(rinfo.port);
    });
    socket.bind(0, host, () => resolve({ socket, received, fromPorts, port: socket.address().port }));
  });
}

describe('RFC 3261 §18.1.1/§18.2.1 UDP transport', () => {
  let layer: TransportLayer;
  const user = new RecordingUser();
  const peers: Socket[] = [];

  before(async () => {
    layer = await TransportLayer.listen({
      hosts: ['127.0.0.1', '::1'],
      udpPort: 0,
      limits: { maxMessageBytes: 2000 },
    });
    layer.setUser(user);
  });
  after(async () => {
    for (const p of peers) p.close();
    await layer.close();
  });

  function portOf(family: 'IPv4' | 'IPv6'): number {
    const a = layer.addresses().find((x) => x.protocol === 'UDP' && x.family === family);
    assert.ok(a, `no ${family} UDP listener`);
    return a.port;
  }

  it('binds IPv4 and IPv6 on the same port number, addresses without brackets', () => {
    const udp = layer.addresses().filter((a) => a.protocol === 'UDP');
    assert.deepEqual(udp.map((a) => a.address).sort(), ['127.0.0.1', '::1']);
    assert.equal(udp[0].port, udp[1].port);
    assert.ok(udp[0].port > 0);
  });

  for (const [type, host, family] of [['udp4', '127.0.0.1', 'IPv4'], ['udp6', '::1', 'IPv6']] as const) {
    it(`hands each ${family} datagram up as one message and sends the answer back from the listening port`, async () => {
      const peer = await udpPeer(type, host);
      peers.push(peer.socket);
      const before = user.received.length;
      const req = sipRequest('OPTIONS', '', 'UDP');
      peer.socket.send(req, portOf(family), host);
      await waitFor('the request', () => user.received.length > before);
      const { data, info } = user.received[before];
      assert.equal(data.toString('latin1'), req);
      assert.deepEqual(info.remote, { address: host, port: peer.port });
      assert.deepEqual(info.local, { address: host, port: portOf(family) });
      assert.equal(info.protocol, 'UDP');
      assert.equal(info.flowId, undefined);

      await layer.send({ protocol: 'UDP', remote: info.remote, local: info.local }, Buffer.from('SIP/2.0 200 OK\r\n\r\n'));
      await waitFor('the response', () => peer.received.length === 1);
      assert.equal(peer.received[0].toString(), 'SIP/2.0 200 OK\r\n\r\n');
      assert.equal(peer.fromPorts[0], portOf(family), 'RFC 3581 §4: from the port the request reached');
    });
  }

  it('accepts a bracketed IPv6 target address ([::1])', async () => {
    const peer = await udpPeer('udp6', '::1');
    peers.push(peer.socket);
    await layer.send({ protocol: 'UDP', remote: { address: '[::1]', port: peer.port } }, Buffer.from('x'));
    await waitFor('the datagram', () => peer.received.length === 1);
  });

  it('ignores empty datagrams and CRLF keep-alives, and drops (and counts) oversized datagrams', async () => {
    const peer = await udpPeer('udp4', '127.0.0.1');
    peers.push(peer.socket);
    const start = layer.counters;
    const before = user.received.length;
    const port = portOf('IPv4');
    peer.socket.send(Buffer.alloc(0), port, '127.0.0.1');
    peer.socket.send('\r\n\r\n', port, '127.0.0.1');
    peer.socket.send('\r\n', port, '127.0.0.1');
    peer.socket.send(sipRequest('MESSAGE', 'x'.repeat(2100), 'UDP'), port, '127.0.0.1');
    peer.socket.send(sipRequest('OPTIONS', '', 'UDP'), port, '127.0.0.1'); // a marker: arrives last
    await waitFor('the marker', () => user.received.length > before);
    const end = layer.counters;
    assert.equal(user.received.length, before + 1);
    assert.match(user.received[before].data.toString(), /^OPTIONS /);
    assert.equal(end.udpKeepAlives - start.udpKeepAlives, 3);
    assert.equal(end.udpOversizeDrops - start.udpOversizeDrops, 1);
    assert.equal(end.messagesIn - start.messagesIn, 1);
  });

  it('rejects a message too large for UDP with a TransportError (RFC 3261 §18.1.1: use TCP)', async () => {
    await assert.rejects(
      layer.send({ protocol: 'UDP', remote: { address: '127.0.0.1', port: 9 } }, Buffer.alloc(2001, 0x41)),
      TransportError,
    );
  });

  it('rejects a host name as target: resolution belongs to RFC 3263, not the transport', async () => {
    await assert.rejects(
      layer.send({ protocol: 'UDP', remote: { address: 'localhost', port: 5060 } }, Buffer.from('x')),
      TransportError,
    );
  });

  it('rejects with a TransportError a TCP send to a port where nothing listens', async () => {
    await assert.rejects(
      layer.send({ protocol: 'TCP', remote: { address: '127.0.0.1', port: 1 } }, Buffer.from('x')),
      TransportError,
    );
  });
});
