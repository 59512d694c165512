/**
 * In-kernel forwarding to endpoints on another host (media/relay/kernel/program.ts: rewritten
 * packets leave through bpf_redirect_neigh): the endpoints live in a network namespace this test
 * creates, behind a veth pair, and the engine on the host side. Needs root (netns, and the
 * forwarder itself): skipped otherwise. Everything it creates is removed in `after`.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { EmbeddedMediaEngine } from '../../../media/engine';
import { mediaPort, parseSdp } from '../../../media/sdp';
import { rtpPacket, startEngine, waitFor } from './helpers';

const NS = `cgkfwd${process.pid % 100000}`;
const HOST_IF = `cgkh${process.pid % 100000}`;
const NS_IF = `cgkn${process.pid % 100000}`;
const HOST_IP = '10.213.7.1';
const NS_IP = '10.213.7.2';

/** In the namespace: endpoints A and B on NS_IP; "send A port hex" lines in, "B <from port> <hex>" lines out. */
const ENDPOINTS = `
const dgram = require('node:dgram');
const rl = require('node:readline').createInterface({ input: process.stdin });
const a = dgram.createSocket('udp4'), b = dgram.createSocket('udp4');
let bound = 0;
const ready = () => { if (++bound === 2) console.log(JSON.stringify({ a: a.address().port, b: b.address().port })); };
a.bind(0, '${NS_IP}', ready); b.bind(0, '${NS_IP}', ready);
b.on('message', (m, r) => console.log('B ' + r.port + ' ' + m.toString('hex')));
rl.on('line', (l) => { const [, port, hex] = l.split(' '); a.send(Buffer.from(hex, 'hex'), Number(port), '${HOST_IP}'); });
rl.on('close', () => process.exit(0));
`;

function ip(...args: string[]): boolean {
  return spawnSync('ip', args, { stdio: 'ignore' }).status === 0;
}

function sdp(port: number): string {
  return ['v=0', `o=- ${port} 1 IN IP4 ${NS_IP}`, 's=-', `c=IN IP4 ${NS_IP}`, 't=0 0', `m=audio ${port} UDP/TLS/RTP/SAVPF 96`,
    'a=rtpmap:96 opus/48000/2', 'a=rtcp-mux', 'a=setup:actpass', 'a=fingerprint:SHA-256 5A:AA:D1:EF:89:4F:EE:46:8D:6A:DD:E7:2E:52:B7:CB:E2:69:4C:CE:8E:B5:3B:53:D8:A6:50:CD:E3:6E:AF:60', ''].join('\r\n');
}

describe('media engine: in-kernel forwarding to endpoints on another host (netns, veth)', function () {
  this.timeout(20_000);
  let engine: EmbeddedMediaEngine | undefined;
  let child: ChildProcessWithoutNullStreams | undefined;
  let made = false;

  before(function () {
    if (process.getuid?.() !== 0) this.skip();
    made = ip('netns', 'add', NS);
    if (!made) this.skip();
    const ok = ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF) &&
      ip('link', 'set', NS_IF, 'netns', NS) &&
      ip('addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF) && ip('link', 'set', HOST_IF, 'up') &&
      ip('-n', NS, 'addr', 'add', `${NS_IP}/24`, 'dev', NS_IF) && ip('-n', NS, 'link', 'set', NS_IF, 'up') &&
      ip('-n', NS, 'link', 'set', 'lo', 'up');
    assert.ok(ok, 'the namespace and its veth pair were set up');
  });

  after(async () => {
    child?.stdin.end();
    child?.kill();
    await engine?.close();
    if (made) {
      ip('link', 'del', HOST_IF);
      ip('netns', 'del', NS);
    }
  });

  it('relays a latched pass-through source out of the interface, byte for byte, from the engine port B was given', async function () {
    engine = startEngine({ kernelForwarding: 'auto', address: HOST_IP });
    if (engine.kernelForwarder === undefined) this.skip();
    assert.equal(engine.kernelForwarder.interfaceName, HOST_IF);
    child = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', ENDPOINTS]);
    const lines = createInterface({ input: child.stdout });
    const received: { from: number; hex: string }[] = [];
    let ports: { a: number; b: number } | undefined;
    lines.on('line', (l) => {
      if (l.startsWith('{')) ports = JSON.parse(l) as { a: number; b: number };
      else if (l.startsWith('B ')) received.push({ from: Number(l.split(' ')[1]), hex: l.split(' ')[2]! });
    });
    await waitFor(() => ports !== undefined, 5000, 'the endpoints in the namespace');
    const offer = await engine.offer('n1', 'tag-a', sdp(ports!.a), { transport: 'pass-through' });
    const answer = await engine.answer('n1', 'tag-a', 'tag-b', sdp(ports!.b));
    const toEngineA = mediaPort(parseSdp(answer), 0);
    const engineB = mediaPort(parseSdp(offer), 0);
    const packets = [1, 2, 3, 4, 5, 6].map((seq) => Buffer.concat([rtpPacket({ seq, ssrc: 0xfeed, pt: 96, payload: Buffer.alloc(30, seq) }), Buffer.alloc(10, 0xa5)]));
    child.stdin.write(`send ${toEngineA} ${packets[0]!.toString('hex')}\n`); // latches A in user space
    await waitFor(() => received.length === 1, 5000, 'the first packet');
    for (const p of packets.slice(1)) child.stdin.write(`send ${toEngineA} ${p.toString('hex')}\n`);
    await waitFor(() => received.length === packets.length, 5000, 'the packets relayed by the kernel');
    assert.deepEqual(received.map((r) => r.hex), packets.map((p) => p.toString('hex')), 'bytes out == bytes in');
    assert.ok(received.every((r) => r.from === engineB), 'each from the engine port B was given');
    const legA = (await engine.query('n1')).legs[0]!.streams[0]!;
    assert.equal(legA.rx.packets, packets.length);
    assert.equal(legA.rx.kernelPackets, packets.length - 1, 'all but the latching packet went through the kernel');
  });
});
