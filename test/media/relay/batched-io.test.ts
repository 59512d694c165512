/**
 * The relay threads' batched media sockets (media/relay/io/batched.ts over the native addon
 * io/native/src/udpio.c), against Node's own dgram sockets as the peers, on loopback.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { BatchedSockets } from '../../../media/relay/io/batched';
import { DgramSockets } from '../../../media/relay/io/dgram';
import { loadUdpIo, udpIoFault } from '../../../media/relay/io/native';
import type { RelaySocket, SocketOpener, Source } from '../../../media/relay/io/sockets';

interface Received {
  msg: Buffer;
  source: Source;
}

function peer(type: 'udp4' | 'udp6' = 'udp4', address = '127.0.0.1'): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  return new Promise((resolve) => s.bind(0, address, () => resolve(s)));
}

/** Resolves once `list` holds `n` entries (polling), or rejects after `ms`. */
async function until(list: readonly unknown[], n: number, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (list.length < n) {
    if (Date.now() > end) throw new Error(`${list.length} of ${n} arrived`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function received(s: dgram.Socket): Buffer[] {
  const out: Buffer[] = [];
  s.on('message', (m) => out.push(m));
  return out;
}

/** Opens a socket on a free even port of 20000..29998 (below the engine tests' ranges). */
async function openFree(opener: SocketOpener, onMessage: (msg: Buffer, source: Source) => void, onSendError = (): void => undefined, address = '127.0.0.1'): Promise<{ socket: RelaySocket; port: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 2 * randomInt(10000, 15000);
    try {
      return { socket: await opener.open(address, port, onMessage, onSendError), port };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    }
  }
  throw new Error('no free port');
}

const addon = loadUdpIo();

for (const kind of ['batched', 'dgram'] as const) {
  describe(`media/relay/io: ${kind} media sockets`, function () {
    const peers: dgram.Socket[] = [];
    let opener: SocketOpener;

    before(function () {
      if (kind === 'batched' && addon === null) {
        // The addon is built by `npm run build`; its absence here is a build fault worth seeing.
        assert.fail(`the batched I/O addon is not built: ${udpIoFault()}`);
      }
    });
    beforeEach(() => {
      opener = kind === 'batched' ? new BatchedSockets(addon!) : new DgramSockets();
    });
    afterEach(() => {
      opener.close();
      for (const p of peers.splice(0)) p.close();
    });

    it('MUST deliver each datagram with its content and source, in order, even in a burst of 150', async () => {
      const got: Received[] = [];
      const { port } = await openFree(opener, (msg, source) => got.push({ msg: Buffer.from(msg), source: { address: source.address, port: source.port } }));
      const p = await peer();
      peers.push(p);
      for (let i = 0; i < 150; i++) {
        const d = Buffer.alloc(4 + (i % 200));
        d.writeUInt32BE(i);
        p.send(d, port, '127.0.0.1');
      }
      await until(got, 150);
      got.forEach((g, i) => {
        assert.equal(g.msg.readUInt32BE(0), i);
        assert.equal(g.msg.length, 4 + (i % 200));
        assert.deepEqual(g.source, { address: '127.0.0.1', port: p.address().port });
      });
    });

    it('MUST tell apart the sockets a batch reads from', async () => {
      const a: number[] = [];
      const b: number[] = [];
      const sa = await openFree(opener, (msg) => a.push(msg[0]!));
      const sb = await openFree(opener, (msg) => b.push(msg[0]!));
      const p = await peer();
      peers.push(p);
      for (let i = 0; i < 50; i++) {
        p.send(Buffer.from([1]), sa.port, '127.0.0.1');
        p.send(Buffer.from([2]), sb.port, '127.0.0.1');
      }
      await until(a, 50);
      await until(b, 50);
      assert.ok(a.every((x) => x === 1) && b.every((x) => x === 2));
    });

    it('MUST send from its own port to the destination given, and follow a change of destination', async () => {
      const { socket, port } = await openFree(opener, () => undefined);
      const p1 = await peer();
      const p2 = await peer();
      peers.push(p1, p2);
      const at1: { msg: Buffer; port: number }[] = [];
      p1.on('message', (msg, r) => at1.push({ msg, port: r.port }));
      const at2 = received(p2);
      socket.send(Buffer.from('one'), p1.address().port, '127.0.0.1');
      socket.send(Buffer.from('two'), p2.address().port, '127.0.0.1');
      await until(at1, 1);
      await until(at2, 1);
      assert.equal(at1[0]!.msg.toString(), 'one');
      assert.equal(at1[0]!.port, port);
      assert.equal(at2[0]!.toString(), 'two');
    });

    it('MUST report a send to an address it cannot reach as a send error, not throw', async () => {
      let errors = 0;
      const { socket } = await openFree(opener, () => undefined, () => errors++);
      socket.send(Buffer.from('x'), 9, '255.255.255.255'); // broadcast without SO_BROADCAST: EACCES
      const end = Date.now() + 2000;
      while (errors === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      assert.equal(errors, 1);
    });

    it('MUST refuse a port already bound with EADDRINUSE and keep the first socket working', async () => {
      const got: Buffer[] = [];
      const { port } = await openFree(opener, (m) => got.push(Buffer.from(m)));
      await assert.rejects(opener.open('127.0.0.1', port, () => undefined, () => undefined), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE');
      const p = await peer();
      peers.push(p);
      p.send(Buffer.from('still'), port, '127.0.0.1');
      await until(got, 1);
      assert.equal(got[0]!.toString(), 'still');
    });

    it('MUST stop delivering to a closed socket and free its port', async () => {
      const got: Buffer[] = [];
      const { socket, port } = await openFree(opener, (m) => got.push(m));
      socket.close();
      socket.close(); // twice is harmless
      const again = await opener.open('127.0.0.1', port, (m) => got.push(Buffer.from(m)), () => undefined);
      const p = await peer();
      peers.push(p);
      p.send(Buffer.from('new'), port, '127.0.0.1');
      await until(got, 1);
      assert.equal(got.length, 1);
      again.close();
    });

    it('MUST carry IPv6 sources as text', async () => {
      const got: Received[] = [];
      const { port } = await openFree(opener, (msg, source) => got.push({ msg: Buffer.from(msg), source: { address: source.address, port: source.port } }), undefined, '::1');
      const p = await peer('udp6', '::1');
      peers.push(p);
      p.send(Buffer.from('v6'), port, '::1');
      await until(got, 1);
      assert.deepEqual(got[0]!.source, { address: '::1', port: p.address().port });
    });
  });
}

describe('media/relay/io: batched media sockets only', () => {
  let opener: BatchedSockets | undefined;
  const peers: dgram.Socket[] = [];
  afterEach(() => {
    opener?.close();
    for (const p of peers.splice(0)) p.close();
  });

  it('MUST hand a datagram longer than a slot on empty (dropped as malformed), and the next intact', async function () {
    if (addon === null) this.skip();
    opener = new BatchedSockets(addon!);
    const got: number[] = [];
    const { port } = await openFree(opener, (m) => got.push(m.length));
    const p = await peer();
    peers.push(p);
    p.send(Buffer.alloc(addon!.SLOT_OCTETS + 1), port, '127.0.0.1');
    p.send(Buffer.alloc(172), port, '127.0.0.1');
    await until(got, 2);
    assert.deepEqual(got, [0, 172]);
  });

  it('MUST read all of a socket that filled before it was read, over several batches, with no later datagram (edge-triggered epoll)', async function () {
    if (addon === null) this.skip();
    opener = new BatchedSockets(addon!);
    const got: number[] = [];
    const { port } = await openFree(opener, (m) => got.push(m.readUInt16BE(0)));
    // Another thread sends while this one, which reads the relay's sockets, is blocked: the whole
    // burst waits in the socket queue when the relay first sees it readable (one edge, 150 > 2 x 64 slots).
    const done = new Int32Array(new SharedArrayBuffer(4));
    const sender = new Worker(
      `const { workerData } = require('node:worker_threads');
       const s = require('node:dgram').createSocket('udp4');
       let left = 150;
       for (let i = 0; i < 150; i++) {
         const d = Buffer.alloc(8);
         d.writeUInt16BE(i);
         s.send(d, workerData.port, '127.0.0.1', () => {
           if (--left === 0) { s.close(); Atomics.store(workerData.done, 0, 1); Atomics.notify(workerData.done, 0); }
         });
       }`,
      { eval: true, workerData: { port, done } },
    );
    try {
      Atomics.wait(done, 0, 0, 10_000); // 'not-equal' if it finished first: either way, nothing was read yet
      assert.equal(Atomics.load(done, 0), 1, 'the sender finished');
      await until(got, 150);
      assert.deepEqual(got, Array.from({ length: 150 }, (_, i) => i));
    } finally {
      await sender.terminate();
    }
  });

  it('MUST give each datagram of a batch its own source, though one object carries them all', async function () {
    if (addon === null) this.skip();
    opener = new BatchedSockets(addon!);
    const got: string[] = [];
    const { port } = await openFree(opener, (m, source) => got.push(`${m[0]}@${source.address}:${source.port}`));
    const p1 = await peer();
    const p2 = await peer();
    peers.push(p1, p2);
    // Queued before the relay's event loop runs: read in one batch.
    for (const i of [1, 2, 3, 4]) (i % 2 ? p1 : p2).send(Buffer.from([i]), port, '127.0.0.1');
    await until(got, 4);
    const at = (s: dgram.Socket): string => `127.0.0.1:${s.address().port}`;
    assert.deepEqual(got, [`1@${at(p1)}`, `2@${at(p2)}`, `3@${at(p1)}`, `4@${at(p2)}`]);
  });

  it('MUST go on with a batch when a handler throws', async function () {
    if (addon === null) this.skip();
    opener = new BatchedSockets(addon!);
    const got: number[] = [];
    const { port } = await openFree(opener, (m) => {
      got.push(m[0]!);
      if (m[0] === 1) throw new Error('a faulty handler');
    });
    const p = await peer();
    peers.push(p);
    for (const i of [1, 2, 3]) p.send(Buffer.from([i]), port, '127.0.0.1');
    await until(got, 3);
    assert.deepEqual(got, [1, 2, 3]);
  });

  it('MUST refuse to open once closed, and close its sockets (the port is free again)', async function () {
    if (addon === null) this.skip();
    opener = new BatchedSockets(addon!);
    const { port } = await openFree(opener, () => undefined);
    opener.close();
    await assert.rejects(opener.open('127.0.0.1', port + 2, () => undefined, () => undefined), /closed/);
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, '127.0.0.1', () => resolve());
    });
    s.close();
  });

  it('MUST count how long each datagram waited in its socket before being read (queue delay)', async function () {
    if (addon === null) this.skip();
    opener = new BatchedSockets(addon!);
    const empty = opener.queueDelay()!;
    assert.deepEqual(empty.boundsSec, [...empty.boundsSec].sort((a, b) => a - b));
    assert.deepEqual(empty.boundsSec, addon!.DELAY_BOUNDS_US.map((us) => us / 1e6), 'the addon\'s µs bounds, in seconds');
    assert.equal(empty.counts.length, empty.boundsSec.length + 1);
    assert.equal(empty.counts.reduce((a, b) => a + b, 0), 0);
    const got: number[] = [];
    const { port } = await openFree(opener, (m) => got.push(m.length));
    const p = await peer();
    peers.push(p);
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => p.send(Buffer.alloc(20), port, '127.0.0.1', () => r()));
    // The relay thread is busy for 30 ms while the three wait in the socket.
    const until30 = Date.now() + 30;
    while (Date.now() < until30) {
      // busy
    }
    await until(got, 3);
    const h = opener.queueDelay()!;
    assert.equal(h.counts.reduce((a, b) => a + b, 0), 3, 'one count per datagram read');
    const slow = h.counts.slice(h.boundsSec.findIndex((b) => b >= 0.025) + 1).reduce((a, b) => a + b, 0);
    assert.equal(slow, 3, `all three waited more than 25 ms: ${JSON.stringify(h.counts)}`);
    assert.ok(h.sumSec >= 3 * 0.029 && h.sumSec < 3 * 10, `sum ${h.sumSec} s`);
    opener.close();
    assert.equal(opener.queueDelay(), undefined);
  });

  it('MUST refuse bad arguments with a TypeError naming them', function () {
    if (addon === null) this.skip();
    const io = new addon!.UdpIo(Buffer.alloc(addon!.SLOT_OCTETS), new Int32Array(addon!.META_INTS), () => undefined);
    try {
      assert.throws(() => io.open(5 as 4, '127.0.0.1', 0), /family must be 4 or 6/);
      assert.throws(() => io.open(4, 'not-an-ip', 0), /IP literal/);
      assert.throws(() => io.open(4, '127.0.0.1', 70000), /port must be/);
      assert.throws(() => io.send(12345, Buffer.alloc(1)), /not an open socket id/);
      const id = io.open(4, '127.0.0.1', 0);
      assert.throws(() => (io.send as (id: number) => number)(id), /missing arguments/);
      assert.throws(() => (io.setTarget as (id: number, port: number) => void)(id, 5000), /missing arguments/);
      assert.throws(() => io.send(id, 'text' as unknown as Uint8Array), /packet must be a Uint8Array/);
      assert.throws(() => io.send(id, new Uint16Array(4) as unknown as Uint8Array), /packet must be a Uint8Array/);
      io.close(id);
      assert.throws(() => io.queueDelay(new Float64Array(3)), /Float64Array/);
      assert.throws(() => io.queueDelay([] as unknown as Float64Array), /Float64Array/);
      assert.throws(() => new addon!.UdpIo(Buffer.alloc(10), new Int32Array(8), () => undefined), /slots/);
      assert.throws(() => new addon!.UdpIo(new Uint16Array(1024) as unknown as Uint8Array, new Int32Array(8), () => undefined), /data must be a Uint8Array/);
      assert.throws(() => new addon!.UdpIo(Buffer.alloc(2048), [] as unknown as Int32Array, () => undefined), /meta must be an Int32Array/);
    } finally {
      io.destroy();
    }
    assert.throws(() => io.open(4, '127.0.0.1', 0), /destroyed/);
  });
});
