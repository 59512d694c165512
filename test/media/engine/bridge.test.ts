/**
 * Bridge modes through the engine on loopback sockets with the real SRTP contexts (issue "media
 * plane" §5): SRTP ↔ RTP termination, SRTP ↔ SRTP re-keying, RTCP mux translation (RFC 5761),
 * and end-to-end pass-through byte identity. Each with the relay's sockets read in batches by the
 * native I/O addon (media.batchedIo: auto, the default) and on Node's dgram (off).
 */
import assert from 'node:assert/strict';
import { parseSdp, cryptoAttributeValues, parseCryptoAttribute } from '../../../media/sdp';
import type { EmbeddedMediaEngine } from '../../../media/engine';
import { bridge, rtcpCompound, rtpPacket, sleep, startEngine, waitFor, peerFixture } from './helpers';

for (const batchedIo of ['auto', 'off'] as const) describe(`media engine bridge modes, batched socket I/O ${batchedIo}`, () => {
  let engine: EmbeddedMediaEngine;
  const open = peerFixture(() => engine);

  beforeEach(() => {
    engine = startEngine({ batchedIo });
  });

  describe('Terminate SRTP ↔ RTP (RFC 3711 §3.3, §3.4)', () => {
    it('MUST decrypt what the SRTP leg sends and deliver the plain RTP unchanged', async () => {
      const a = await open({ kind: 'srtp' });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 'c1', a, b, 'RTP/AVP');
      const sent: Buffer[] = [];
      for (let seq = 100; seq < 110; seq++) {
        const p = rtpPacket({ seq, payload: Buffer.alloc(160, seq) });
        sent.push(p);
        a.sendRtp(p);
      }
      const got = await b.waitRtp(10);
      assert.deepEqual(got.map((p) => p.toString('hex')), sent.map((p) => p.toString('hex')));
      assert.equal(b.refused, 0);
    });

    it('MUST encrypt what the plain leg sends with the key it gave the SRTP leg', async () => {
      const a = await open({ kind: 'srtp' });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 'c2', a, b, 'RTP/AVP');
      // The SRTP leg speaks first: symmetric RTP sends back to where it latched.
      a.sendRtp(rtpPacket({ seq: 1 }));
      await b.waitRtp(1);
      const p = rtpPacket({ seq: 500, ssrc: 0x51515151, payload: Buffer.alloc(160, 0x42) });
      b.sendRtp(p);
      const got = await a.waitRtp(1);
      assert.equal(a.refused, 0, 'every packet authenticated with the engine key');
      assert.deepEqual(got[0], p);
    });

    it('MUST translate SRTCP on the muxed SRTP leg ↔ RTCP on the plain leg\'s separate port (RFC 5761 §4)', async () => {
      const a = await open({ kind: 'srtp', mux: true });
      const b = await open({ kind: 'rtp', mux: false });
      const { answer } = await bridge(engine, 'c3', a, b, 'RTP/AVP');
      assert.match(answer, /a=rtcp-mux/, 'the muxed offer is accepted');
      a.sendRtp(rtpPacket({ seq: 1 }));
      await b.waitRtp(1);
      b.sendRtp(rtpPacket({ seq: 7, ssrc: 0x0b0b0b0b }));
      await a.waitRtp(1);
      // A → B: SRTCP on A's RTP port arrives as RTCP on B's RTCP port.
      a.sendRtcp(rtcpCompound(0x0a0b0c0d, 1234));
      const atB = await b.waitRtcp(1);
      assert.equal(b.log.find((l) => l.data[1] === 200)?.on, 'rtcp', 'delivered to the RTCP socket');
      assert.deepEqual(atB[0], rtcpCompound(0x0a0b0c0d, 1234));
      // B → A: RTCP from B's RTCP port arrives as SRTCP on A's RTP port (muxed).
      b.sendRtcp(rtcpCompound(0x0b0b0b0b, 99));
      const atA = await a.waitRtcp(1);
      assert.equal(a.log.find((l) => l.data[1] === 200)?.on, 'rtp', 'delivered to the RTP socket (mux)');
      assert.deepEqual(atA[0], rtcpCompound(0x0b0b0b0b, 99));
      const stats = await engine.query('c3');
      assert.equal(stats.legs[0]!.streams[0]!.rtcpMux, true);
      assert.equal(stats.legs[1]!.streams[0]!.rtcpMux, false);
      assert.equal(stats.legs[0]!.streams[0]!.rx.rtcpPackets, 1);
    });
  });

  describe('Terminate SRTP ↔ SRTP (RFC 4568 §8: a key per leg)', () => {
    it('MUST re-key: each leg gets a fresh key of its own, and media passes both ways', async () => {
      const a = await open({ kind: 'srtp' });
      const b = await open({ kind: 'srtp', suite: 'AEAD_AES_128_GCM' });
      const { offer, answer } = await bridge(engine, 'c4', a, b, 'RTP/SAVP');
      const keyOf = (sdp: string): string => cryptoAttributeValues(parseSdp(sdp), 0).map((v) => parseCryptoAttribute(v).keys[0]!.masterKey.toString('hex')).join();
      assert.ok(!a.sdp().includes(keyOf(answer)), 'the engine never echoes a leg key');
      assert.notEqual(keyOf(offer), keyOf(answer));
      assert.equal(cryptoAttributeValues(parseSdp(answer), 0).length, 1, 'an answer has exactly one a=crypto');
      a.sendRtp(rtpPacket({ seq: 10, payload: Buffer.alloc(160, 1) }));
      const atB = await b.waitRtp(1);
      assert.equal(atB[0]![12], 1);
      b.sendRtp(rtpPacket({ seq: 20, ssrc: 0x22222222, payload: Buffer.alloc(160, 2) }));
      const atA = await a.waitRtp(1);
      assert.equal(atA[0]![12], 2);
      const stats = await engine.query('c4');
      assert.equal(stats.legs[0]!.streams[0]!.suite, 'AES_CM_128_HMAC_SHA1_80');
      assert.equal(stats.legs[1]!.streams[0]!.suite, 'AEAD_AES_128_GCM');
    });
  });

  describe('End-to-end pass-through (DTLS-SRTP / ZRTP)', () => {
    it('MUST relay opaque packets byte for byte, RTP, RTCP and DTLS alike', async () => {
      const a = await open({ kind: 'dtls', mux: true });
      const b = await open({ kind: 'dtls', mux: true });
      const { offer, answer } = await bridge(engine, 'c5', a, b, 'pass-through');
      for (const sdp of [offer, answer]) {
        assert.match(sdp, /UDP\/TLS\/RTP\/SAVPF/);
        assert.match(sdp, /a=fingerprint:SHA-256 5A:AA/);
        assert.match(sdp, /a=setup:actpass/);
        assert.match(sdp, /c=IN IP4 127\.0\.0\.1/);
      }
      const dtlsHello = Buffer.concat([Buffer.from([22, 0xfe, 0xfd]), Buffer.alloc(60, 7)]);
      const fakeSrtp = Buffer.concat([rtpPacket({ seq: 3, pt: 96 }), Buffer.alloc(10, 0xee)]);
      const fakeSrtcp = Buffer.concat([rtcpCompound(1), Buffer.from([0x80, 0, 0, 1]), Buffer.alloc(10, 0xcc)]);
      const sent = [dtlsHello, fakeSrtp, fakeSrtcp];
      for (const p of sent) a.sendRaw(p);
      await waitFor(() => b.log.length >= 3, 2000, 'three packets at B');
      assert.deepEqual(b.log.map((l) => l.data.toString('hex')), sent.map((p) => p.toString('hex')), 'bytes out == bytes in');
      b.sendRaw(dtlsHello);
      await waitFor(() => a.log.length >= 1, 2000, 'one packet at A');
      assert.deepEqual(a.log[0]!.data, dtlsHello);
    });

    it('MUST drop what no multiplexed protocol can be (RFC 7983 §7), and count it', async () => {
      const a = await open({ kind: 'dtls', mux: true });
      const b = await open({ kind: 'dtls', mux: true });
      await bridge(engine, 'c6', a, b, 'pass-through');
      a.sendRaw(Buffer.from([100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
      a.sendRaw(Buffer.concat([Buffer.from([20]), Buffer.alloc(20)]));
      await waitFor(() => b.log.length >= 1, 2000, 'the DTLS packet');
      await sleep(50);
      assert.equal(b.log.length, 1);
      const s = await engine.query('c6');
      assert.equal(s.legs[0]!.streams[0]!.dropped.malformed, 1);
    });
  });
});
