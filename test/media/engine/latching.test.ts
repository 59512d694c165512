/**
 * Symmetric RTP latching (RFC 4961; RFC 3550 §8.2) and bad input (issue "media plane" §8):
 * an SRTP leg latches only on a packet that authenticated (RFC 3711 §3.3), a plain leg only on
 * well-formed RTP from its SDP host; everything refused is dropped, counted, never forwarded.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { EmbeddedMediaEngine, SrtpAuthFailureEvent } from '../../../media/engine';
import { RELATCH_QUIET_MS } from '../../../media/relay';
import type { Logger } from '../../../gateway/log/logger';
import { bridge, rtpPacket, sleep, startEngine, waitFor, peerFixture } from './helpers';

describe('media engine latching and bad input', () => {
  let engine: EmbeddedMediaEngine;
  const open = peerFixture(() => engine);
  let clock = 1_000_000;
  const sockets: dgram.Socket[] = [];
  const warnings: string[] = [];
  const logger: Logger = {
    error: () => undefined,
    warn: (m) => void warnings.push(m),
    info: () => undefined,
    debug: () => undefined,
    child: () => logger,
    isLevelEnabled: () => true,
  };
  /** A socket of an attacker on the same host, another port. */
  const intruder = async (): Promise<dgram.Socket> => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    sockets.push(s);
    return s;
  };
  const leg = async (callId: string, i: number) => (await engine.query(callId)).legs[i]!.streams[0]!;

  beforeEach(() => {
    warnings.length = 0;
    engine = startEngine({ maxPacketsPerSec: 50 }, { now: () => clock, logger });
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
  });

  describe('SRTP legs (RFC 3711 §3.3: never before authentication)', () => {
    it('MUST NOT latch on, forward or learn from a forged packet, and MUST report the failure', async () => {
      const a = await open({ kind: 'srtp' });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 'l1', a, b, 'RTP/AVP');
      const events: SrtpAuthFailureEvent[] = [];
      engine.on('srtpAuthFailure', (e) => events.push(e));
      const evil = await intruder();
      const forged = Buffer.concat([rtpPacket({ seq: 1 }), Buffer.alloc(10, 0xab)]);
      evil.send(forged, a.engineRtp, '127.0.0.1');
      await waitFor(() => events.length === 1, 2000, 'the srtpAuthFailure event');
      assert.deepEqual(events[0], { callId: 'l1', tag: 'tag-a', streamIndex: 0, kind: 'rtp', total: 1 });
      let s = await leg('l1', 0);
      assert.equal(s.latched.rtp, undefined, 'not latched');
      assert.equal(s.srtpAuthFailures, 1);
      assert.equal(s.dropped['srtp-auth'], 1);
      assert.equal(b.rtp.length, 0);
      a.sendRtp(rtpPacket({ seq: 2 }));
      await b.waitRtp(1);
      s = await leg('l1', 0);
      assert.deepEqual(s.latched.rtp, { address: '127.0.0.1', port: a.rtpPort }, 'latched on the authenticated packet');
    });

    it('MUST drop a replayed packet and an authentic packet from another source once latched', async () => {
      const a = await open({ kind: 'srtp' });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 'l2', a, b, 'RTP/AVP');
      const genuine = a.tx!.protectRtp(rtpPacket({ seq: 5 }));
      a.sendRaw(genuine);
      await b.waitRtp(1);
      a.sendRaw(genuine); // replay from the latched source
      const evil = await intruder();
      const second = a.tx!.protectRtp(rtpPacket({ seq: 6 }));
      evil.send(second, a.engineRtp, '127.0.0.1'); // captured and re-sent from elsewhere
      await waitFor(() => engine.callCount === 1, 10, 'call');
      await sleep(50);
      const s = await leg('l2', 0);
      assert.equal(s.dropped['srtp-replay'], 1);
      assert.equal(s.dropped['unexpected-source'], 1);
      assert.equal(b.rtp.length, 1, 'neither reached the plain leg');
      assert.equal(s.latched.rtp?.port, a.rtpPort);
    });

    it(`MAY move the latch to a new authenticated source after ${RELATCH_QUIET_MS} ms of silence`, async () => {
      const a = await open({ kind: 'srtp' });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 'l3', a, b, 'RTP/AVP');
      a.sendRtp(rtpPacket({ seq: 1 }));
      await b.waitRtp(1);
      const moved = await intruder(); // the same client after a NAT rebinding
      clock += RELATCH_QUIET_MS;
      moved.send(a.tx!.protectRtp(rtpPacket({ seq: 2 })), a.engineRtp, '127.0.0.1');
      await b.waitRtp(2);
      const s = await leg('l3', 0);
      assert.equal(s.latched.rtp?.port, moved.address().port);
    });
  });

  describe('plain legs (documented policy: SDP host only)', () => {
    it('MUST NOT latch on a packet from a host other than the SDP c= address', async () => {
      const a = await open({ kind: 'rtp' });
      const b = await open({ kind: 'rtp' });
      const offer = await engine.offer('p1', 'tag-a', a.sdp().replace(/127\.0\.0\.1/g, '127.0.0.2'), { transport: 'RTP/AVP' });
      b.learn(offer);
      a.learn(await engine.answer('p1', 'tag-a', 'tag-b', b.sdp()));
      a.sendRtp(rtpPacket({ seq: 1 })); // from 127.0.0.1, SDP says 127.0.0.2
      await waitFor(() => engine.callCount === 1, 10, 'call');
      await sleep(50);
      const s = await leg('p1', 0);
      assert.equal(s.dropped['unexpected-source'], 1);
      assert.equal(s.latched.rtp, undefined);
      assert.equal(b.rtp.length, 0);
    });

    it('MUST drop packets from another port of the host once latched', async () => {
      const a = await open({ kind: 'rtp' });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 'p2', a, b, 'RTP/AVP');
      a.sendRtp(rtpPacket({ seq: 1 }));
      await b.waitRtp(1);
      const evil = await intruder();
      evil.send(rtpPacket({ seq: 2 }), a.engineRtp, '127.0.0.1');
      await sleep(50);
      assert.equal((await leg('p2', 0)).dropped['unexpected-source'], 1);
      assert.equal(b.rtp.length, 1);
    });
  });

  describe('bad input (dropped, counted per session, rate-limited in logs)', () => {
    it('MUST drop malformed RTP and RTCP and never forward them', async () => {
      const a = await open({ kind: 'rtp' });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 'b1', a, b, 'RTP/AVP');
      const v1 = rtpPacket({ seq: 1 });
      v1[0] = 0x40; // version 1
      const csrcPastEnd = rtpPacket({ seq: 2, payload: Buffer.alloc(0) });
      csrcPastEnd[0] = 0x8f; // 15 CSRCs announced, none present
      const badPadding = rtpPacket({ seq: 3 });
      badPadding[0] = 0xa0; // P bit with a padding count of 0xd5 > payload
      const badRtcp = Buffer.from([0x80, 200, 0x00, 0x09, 0, 0, 0, 1]); // length past the end
      for (const p of [v1, csrcPastEnd, badPadding, Buffer.from([0x80])]) a.sendRaw(p);
      a.rtcpSocket.send(badRtcp, a.engineRtcp, '127.0.0.1');
      await sleep(80);
      const s = await leg('b1', 0);
      assert.equal(s.dropped.malformed, 5);
      assert.equal(b.log.length, 0);
      assert.equal(warnings.length, 1, 'one log line for the burst, not one per packet');
    });

    it('MUST drop a payload type that was not negotiated on the leg', async () => {
      const a = await open({ kind: 'rtp' });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 'b2', a, b, 'RTP/AVP');
      a.sendRtp(rtpPacket({ seq: 1, pt: 8 })); // PCMA, not offered
      a.sendRtp(rtpPacket({ seq: 2, pt: 0 }));
      await b.waitRtp(1);
      await sleep(30);
      assert.equal(b.rtp.length, 1);
      assert.equal((await leg('b2', 0)).dropped['payload-type'], 1);
    });

    it('MUST drop what exceeds media.maxPacketsPerSec per leg, before any SRTP work', async () => {
      const a = await open({ kind: 'srtp' });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 'b3', a, b, 'RTP/AVP');
      for (let seq = 0; seq < 120; seq++) a.sendRtp(rtpPacket({ seq })); // the clock stands still
      await waitFor(() => b.rtp.length >= 50, 2000, '50 packets');
      await sleep(80);
      const s = await leg('b3', 0);
      assert.equal(b.rtp.length, 50);
      assert.equal(s.dropped.flood, 70);
      clock += 1000; // a second later the bucket is full again
      a.sendRtp(rtpPacket({ seq: 200 }));
      await b.waitRtp(51);
    });

    it('MUST survive random datagrams on every port and keep relaying', async () => {
      const a = await open({ kind: 'srtp', mux: false });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 'b4', a, b, 'RTP/AVP');
      const evil = await intruder();
      const ports = [a.engineRtp, a.engineRtcp, b.engineRtp, b.engineRtcp];
      for (let i = 0; i < 400; i++) {
        const junk = Buffer.alloc(1 + (i % 200));
        for (let k = 0; k < junk.length; k++) junk[k] = (i * 131 + k * 17) & 0xff;
        if (i % 3 === 0) junk[0] = 0x80; // RTP-looking
        evil.send(junk, ports[i % 4]!, '127.0.0.1');
        if (i % 50 === 0) await sleep(1);
      }
      clock += 1000;
      await sleep(100);
      a.sendRtp(rtpPacket({ seq: 1 }));
      await b.waitRtp(1);
      assert.equal(b.rtp.length, 1, 'only the genuine packet came through');
      assert.equal(a.refused + a.rtp.length, 0, 'nothing reached the SRTP leg');
    });
  });
});
