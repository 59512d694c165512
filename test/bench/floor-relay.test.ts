/**
 * The media benchmarks' floor (bench/floor/relay.c through bench/floor-relay.ts): the measuring
 * stick must really relay, latch each side to where it last heard from, and refuse what it cannot do;
 * a floor that dropped packets would make every engine look slower than the machine allows.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { FloorRelay } from '../../bench/floor-relay';

function peer(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
}

function next(s: dgram.Socket, ms = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('nothing arrived')), ms);
    s.once('message', (m) => {
      clearTimeout(t);
      resolve(m);
    });
  });
}

const SDP = 'v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n';

describe('bench floor relay', function () {
  this.timeout(30_000);
  const hasCc = spawnSync('sh', ['-c', 'command -v cc'], { stdio: 'ignore' }).status === 0;

  it('relays both ways between the two sockets of a pair, each latched to its sender', async function () {
    if (!hasCc) this.skip();
    const relay = FloorRelay.start(2);
    const a = await peer();
    const b = await peer();
    const a2 = await peer();
    try {
      const toB = await relay.offer('c1', SDP);
      const toA = await relay.answer('c1', SDP);
      const portA = Number(/^m=audio (\d+)/m.exec(toA)![1]);
      const portB = Number(/^m=audio (\d+)/m.exec(toB)![1]);
      assert.notEqual(portA, portB);
      assert.notEqual(portA, 4000);
      // Nothing is forwarded to a side that has not spoken yet: B latches first, then A's packet reaches it.
      b.send(Buffer.from('hello-from-b-0'), portB, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 50));
      const atB = next(b);
      a.send(Buffer.from('hello-from-a'), portA, '127.0.0.1');
      assert.equal((await atB).toString(), 'hello-from-a');
      const atA = next(a);
      b.send(Buffer.from('hello-from-b'), portB, '127.0.0.1');
      assert.equal((await atA).toString(), 'hello-from-b');
      // A moves (a new source port): the relay re-latches and B's next packet goes to the new one.
      const atB2 = next(b);
      a2.send(Buffer.from('moved'), portA, '127.0.0.1');
      assert.equal((await atB2).toString(), 'moved');
      const atA2 = next(a2);
      b.send(Buffer.from('to-new-a'), portB, '127.0.0.1');
      assert.equal((await atA2).toString(), 'to-new-a');
    } finally {
      a.close();
      b.close();
      a2.close();
      await relay.close();
    }
  });

  it('refuses an answer without an offer', async function () {
    if (!hasCc) this.skip();
    const relay = FloorRelay.start(1);
    try {
      await assert.rejects(relay.answer('nobody', SDP), /no offer for nobody/);
    } finally {
      await relay.close();
    }
  });
});
