import assert from 'node:assert/strict';
import { TransportLayer } from '../../../gateway/sip/transport/transport-layer';
import { TransportConfigError } from '../../../gateway/sip/transport/options';
import { WriteBufferOverflowError } from '../../../gateway/sip/transport/flows';
import { RecordingUser, sipRequest, sleep, tcpPeer, waitFor, type StreamPeer } from './helpers';

function tcpPortOf(layer: TransportLayer): number {
  const a = layer.addresses().find((x) => x.protocol === 'TCP');
  assert.ok(a);
  return a.port;
}

describe('RFC 5626 §3 flow table limits', () => {
  const peers: StreamPeer[] = [];
  afterEach(() => {
    for (const p of peers.splice(0)) p.socket.destroy();
  });

  describe('connection cap', () => {
    let layer: TransportLayer;
    before(async () => {
      layer = await TransportLayer.listen({ hosts: ['127.0.0.1'], tcpPort: 0, maxConnections: 2 });
      layer.setUser(new RecordingUser());
    });
    after(() => layer.close());

    it('refuses connections over the cap and accepts again once one has closed', async () => {
      const port = tcpPortOf(layer);
      const a = await tcpPeer('127.0.0.1', port);
      const b = await tcpPeer('127.0.0.1', port);
      peers.push(a, b);
      await waitFor('two flows', () => layer.flowCount === 2);
      const c = await tcpPeer('127.0.0.1', port);
      peers.push(c);
      await waitFor('the refusal', () => c.closed());
      assert.equal(layer.counters.connectionsRefused, 1);
      assert.equal(layer.flowCount, 2);

      a.socket.destroy();
      await waitFor('the slot to free up', () => layer.flowCount === 1);
      const d = await tcpPeer('127.0.0.1', port);
      peers.push(d);
      await waitFor('the new flow', () => layer.flowCount === 2);
      d.socket.write('\r\n\r\n');
      await waitFor('a pong on the new flow', () => d.received() === '\r\n');
      assert.equal(d.closed(), false);
    });
  });

  describe('idle timeout', () => {
    const IDLE_MS = 300;
    let layer: TransportLayer;
    const closed: string[] = [];
    const user = new RecordingUser();
    before(async () => {
      layer = await TransportLayer.listen({ hosts: ['127.0.0.1'], tcpPort: 0, idleTimeoutMs: IDLE_MS });
      layer.setUser(user);
      layer.on('flowClosed', (id) => closed.push(id));
    });
    after(() => layer.close());

    it('closes a flow without traffic after the idle timeout and reports flowClosed', async () => {
      const p = await tcpPeer('127.0.0.1', tcpPortOf(layer));
      peers.push(p);
      p.socket.write(sipRequest('OPTIONS'));
      await waitFor('the request', () => user.received.length === 1);
      const flowId = user.received[0].info.flowId as string;
      const start = Date.now();
      await waitFor('the idle close', () => p.closed(), 5 * IDLE_MS);
      assert.ok(Date.now() - start >= IDLE_MS - 50, 'not before the timeout');
      await waitFor('flowClosed', () => closed.includes(flowId));
      assert.ok(layer.counters.idleTimeouts >= 1);
    });

    it('keeps a flow open while CRLF keep-alives refresh it', async () => {
      const p = await tcpPeer('127.0.0.1', tcpPortOf(layer));
      peers.push(p);
      for (let i = 0; i < 8; i++) {
        p.socket.write('\r\n\r\n');
        await sleep(IDLE_MS / 3);
      }
      assert.equal(p.closed(), false, `open after ${(8 * IDLE_MS) / 3} ms of keep-alives`);
      await waitFor('the idle close once pings stop', () => p.closed(), 5 * IDLE_MS);
    });
  });

  describe('peers that do not behave', () => {
    let layer: TransportLayer;
    const user = new RecordingUser();
    const closed: string[] = [];
    before(async () => {
      layer = await TransportLayer.listen({ hosts: ['127.0.0.1'], tcpPort: 0, limits: { maxWriteBufferBytes: 64 * 1024 } });
      layer.setUser(user);
      layer.on('flowClosed', (id) => closed.push(id));
    });
    after(() => layer.close());

    it('closes a flow whose peer stops reading once the write queue is full, instead of buffering on', async () => {
      const p = await tcpPeer('127.0.0.1', tcpPortOf(layer));
      peers.push(p);
      const before = user.received.length;
      p.socket.write(sipRequest('REGISTER'));
      await waitFor('the REGISTER', () => user.received.length === before + 1);
      p.socket.pause(); // the peer reads nothing more; kernel buffers fill, then our queue
      const { info } = user.received[before];
      const chunk = Buffer.alloc(16 * 1024, 0x41);
      const failures: unknown[] = [];
      // Bounded: 4096 x 16 KiB = 64 MiB, far beyond what loopback buffers absorb.
      for (let i = 0; i < 4096 && failures.length === 0; i++) {
        layer
          .send({ protocol: 'TCP', remote: info.remote, flowId: info.flowId, flowOnly: true }, chunk)
          .catch((e: unknown) => failures.push(e));
        if (i % 16 === 0) await sleep(1);
      }
      await waitFor('the overflow', () => failures.length > 0);
      await sleep(20);
      // The send that overflowed says so; the ones racing it find the flow gone or aborted.
      assert.ok(failures.some((e) => e instanceof WriteBufferOverflowError), String(failures[0]));
      await waitFor('flowClosed', () => closed.includes(info.flowId as string));
      assert.ok(layer.counters.writeBufferOverflows >= 1);
    });

    it('survives a TransportUser that throws: the flow stays up and the error is reported', async () => {
      const errors: unknown[] = [];
      layer.on('userError', (e) => errors.push(e));
      let calls = 0;
      layer.setUser({
        onMessage: () => {
          calls++;
          if (calls === 1) throw new Error('bug above the transport');
        },
      });
      try {
        const p = await tcpPeer('127.0.0.1', tcpPortOf(layer));
        peers.push(p);
        p.socket.write(sipRequest('OPTIONS') + sipRequest('OPTIONS'));
        await waitFor('both messages', () => calls === 2);
        assert.equal(errors.length, 1);
        assert.equal(layer.counters.userErrors, 1);
        assert.equal(p.closed(), false);
      } finally {
        layer.setUser(user);
      }
    });
  });

  describe('listen options', () => {
    it('refuses a host name, a TLS port without a TLS configuration and a zero limit', async () => {
      await assert.rejects(TransportLayer.listen({ hosts: ['localhost'], udpPort: 0 }), TransportConfigError);
      await assert.rejects(TransportLayer.listen({ hosts: ['127.0.0.1'], tlsPort: 0 }), TransportConfigError);
      await assert.rejects(
        TransportLayer.listen({ hosts: ['127.0.0.1'], tcpPort: 0, limits: { maxHeaderBytes: 0 } }),
        TransportConfigError,
      );
    });

    it('releases what it bound when a later bind fails', async () => {
      const first = await TransportLayer.listen({ hosts: ['127.0.0.1'], tcpPort: 0 });
      try {
        const taken = tcpPortOf(first);
        await assert.rejects(TransportLayer.listen({ hosts: ['127.0.0.1'], udpPort: taken, tcpPort: taken }));
        // The UDP port the failed layer bound first is free again.
        const again = await TransportLayer.listen({ hosts: ['127.0.0.1'], udpPort: taken });
        await again.close();
      } finally {
        await first.close();
      }
    });
  });
});
