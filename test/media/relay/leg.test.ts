/**
 * The receive path of one relayed leg (media/relay/leg.ts), driven through a RelayHost on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import { RelayHost } from '../../../media/relay/host';
import type { LegWire, SrtpKeyWire } from '../../../media/relay/protocol';
import { SrtpContext } from '../../../media/srtp';

const PROFILE = 'AES_CM_128_HMAC_SHA1_80';
const TAG = 10;

interface Key {
  masterKey: Buffer;
  masterSalt: Buffer;
}

const newKey = (): Key => ({ masterKey: randomBytes(16), masterSalt: randomBytes(14) });
/** A copy: the relay overwrites the key bytes it is given. */
const wire = (k: Key): SrtpKeyWire => ({ generation: 1, profile: PROFILE, masterKey: Uint8Array.from(k.masterKey), masterSalt: Uint8Array.from(k.masterSalt) });
const context = (k: Key): SrtpContext => new SrtpContext({ profile: PROFILE, ...k });

function bound(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
}

/** A padded RTP packet (RFC 3550 §5.1 P bit): `pad` octets, the last of which counts them. */
function paddedRtp(seq: number, pad: number): Buffer {
  const p = Buffer.alloc(12 + 160 + pad, 0xd5);
  p[0] = 0xa0; // V=2, P=1
  p[1] = 0;
  p.writeUInt16BE(seq, 2);
  p.writeUInt32BE(seq * 160, 4);
  p.writeUInt32BE(0x1234, 8);
  p.fill(0, 172);
  p[p.length - 1] = pad;
  return p;
}

describe('media/relay leg', () => {
  const sockets: dgram.Socket[] = [];
  let host: RelayHost | undefined;

  after(() => {
    host?.close();
    for (const s of sockets) s.close();
  });

  describe('RFC 3711 §3.1: the padding of an SRTP packet is in its encrypted payload', () => {
    it('MUST relay a padded SRTP packet whose last (tag) octet is no valid padding count', async () => {
      const a = await bound();
      const b = await bound();
      sockets.push(a, b);
      const fromA = newKey();
      const toA = newKey();
      const fromB = newKey();
      const toB = newKey();
      host = new RelayHost({ inactivityMs: 60_000, maxPacketsPerSec: 1000, sweepIntervalMs: 0, emit: () => undefined });
      let base = 0;
      for (let attempt = 0; attempt < 20 && base === 0; attempt++) {
        const port = 2 * randomInt(10000, 15000); // 20000..29998: below the engine tests' ranges (helpers.ts)
        const reply = await host.handle({ op: 'open', streamId: 1, callId: 'c', index: 0, address: '127.0.0.1', ports: [port, port + 2] });
        if (reply !== null && 'ok' in reply && reply.ok) base = port;
      }
      assert.notEqual(base, 0, 'no free port pair');
      const leg = (tag: string, peer: dgram.Socket, keyIn: Key, keyOut: Key): LegWire => ({
        tag,
        mode: 'srtp',
        rtcpMux: false,
        remote: { address: '127.0.0.1', rtpPort: peer.address().port, rtcpPort: peer.address().port + 1 },
        latch: 'sdp-host',
        relatch: false,
        srtpIn: wire(keyIn),
        srtpOut: wire(keyOut),
        payloadMap: [[0, 0]],
        transcode: undefined,
        clockRate: 8000,
        sends: true,
      });
      await host.handle({ op: 'configure', stream: { streamId: 1, callId: 'c', index: 0, legs: [leg('a', a, fromA, toA), leg('b', b, fromB, toB)] } });

      // A packet whose last octet (an octet of the tag) read as an RTP padding count is invalid.
      const sender = context(fromA);
      let srtp: Buffer | undefined;
      for (let seq = 1; seq < 2000 && srtp === undefined; seq++) {
        const p = sender.protectRtp(paddedRtp(seq, 4));
        const last = p[p.length - 1]!;
        if (last === 0 || 12 + last > p.length) srtp = p;
      }
      assert.ok(srtp, 'no packet with such a tag octet');
      const received = new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('nothing relayed within 2 s')), 2000);
        b.once('message', (m) => {
          clearTimeout(timer);
          resolve(m);
        });
      });
      a.send(srtp, base, '127.0.0.1');
      const plain = context(toB).unprotectRtp(await received);
      assert.equal(plain.length, srtp.length - TAG, 'payload and padding relayed whole');
      assert.equal(plain[0]! & 0x20, 0x20, 'P bit kept');
      assert.equal(plain[plain.length - 1], 4, 'padding count kept');
    });
  });
});
