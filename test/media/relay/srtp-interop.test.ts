/**
 * SRTP interop through the engine and the relay (issue "media plane" §2, §3), on loopback sockets:
 * - *_32 suites: a libre/baresip-like peer tags SRTCP with 32 bits, a libsrtp-like one with the
 *   80 bits of RFC 3711 §3.4 / §5.2; the relay accepts both and answers each in its own length.
 * - MKI (RFC 3711 §3.1, RFC 4568 §6.1): a peer whose a=crypto key carries an MKI, in an offer or an
 *   answer, is keyed with it; our own lines carry none.
 */
import assert from 'node:assert/strict';
import type { EmbeddedMediaEngine } from '../../../media/engine';
import { cryptoAttributeValues, parseCryptoAttribute, parseSdp } from '../../../media/sdp';
import { SrtpContext, type SrtpProfileName } from '../../../media/srtp';
import { Peer, bridge, rtcpCompound, rtpPacket, startEngine, waitFor, peerFixture } from '../engine/helpers';

const SUITE_32: SrtpProfileName = 'AES_CM_128_HMAC_SHA1_32';
const RTCP_LENGTH = rtcpCompound(1).length;

/** The one a=crypto key of `sdp`'s first m= section (test SDP only). */
function cryptoKey(sdp: string): { masterKey: Buffer; masterSalt: Buffer; mki?: Buffer } {
  return parseCryptoAttribute(cryptoAttributeValues(parseSdp(sdp), 0)[0]!).keys[0]!;
}

/** Appends `|value:length` (an MKI, RFC 4568 §6.1) to the key of the a=crypto line of a test SDP. */
function withMki(sdp: string, value: number, length: number): string {
  const at = sdp.indexOf('a=crypto:');
  const end = sdp.indexOf('\r\n', at);
  return `${sdp.slice(0, end)}|${value}:${length}${sdp.slice(end)}`;
}

/** SRTCP datagrams the peer received (by length: those that are neither RTP nor plain RTCP of the plain leg). */
function srtcpLengths(peer: Peer): number[] {
  return peer.log.filter((l) => l.data[1]! >= 192 && l.data[1]! <= 223).map((l) => l.data.length);
}

describe('SRTP interop in the relay', () => {
  let engine: EmbeddedMediaEngine;
  const open = peerFixture(() => engine);

  beforeEach(() => {
    engine = startEngine();
  });

  describe('SRTCP tag of the *_32 suites (RFC 3711 §3.4, §5.2; libre)', () => {
    it('a peer sending 32-bit SRTCP tags MUST be accepted and MUST then be answered with 32-bit tags', async () => {
      const a = await open({ kind: 'srtp', suite: SUITE_32 });
      const b = await open({ kind: 'rtp' });
      const { answer } = await bridge(engine, 'libre', a, b, 'RTP/AVP');
      // Make A libre: 4-octet SRTCP tags both ways, on the keys the SDP exchanged.
      const mine = cryptoKey(a.sdp());
      const theirs = cryptoKey(answer);
      a.tx!.close();
      a.rx!.close();
      a.tx = new SrtpContext({ profile: SUITE_32, masterKey: mine.masterKey, masterSalt: mine.masterSalt, srtcpTagLength: 4 });
      a.rx = new SrtpContext({ profile: SUITE_32, masterKey: theirs.masterKey, masterSalt: theirs.masterSalt, srtcpTagLength: 4 });

      a.sendRtp(rtpPacket({ seq: 1 }));
      await b.waitRtp(1);
      b.sendRtp(rtpPacket({ seq: 9, ssrc: 0x0b0b0b0b }));
      await a.waitRtp(1);
      // Before A's first SRTCP the relay uses the RFC's 80-bit tag (A cannot read it).
      b.sendRtcp(rtcpCompound(0x0b0b0b0b, 1));
      await waitFor(() => srtcpLengths(a).length === 1, 2000, 'the first SRTCP to A');
      assert.deepEqual(srtcpLengths(a), [RTCP_LENGTH + 4 + 10]);
      assert.equal(a.refused, 1);

      a.sendRtcp(rtcpCompound(0x0a0b0c0d, 1234));
      const atB = await b.waitRtcp(1);
      assert.deepEqual(atB[0], rtcpCompound(0x0a0b0c0d, 1234), 'A\'s 32-bit-tagged SRTCP authenticated and relayed');
      a.sendRtcp(rtcpCompound(0x0a0b0c0d, 1235));
      await b.waitRtcp(2);

      b.sendRtcp(rtcpCompound(0x0b0b0b0b, 2));
      const atA = await a.waitRtcp(1);
      assert.deepEqual(srtcpLengths(a), [RTCP_LENGTH + 14, RTCP_LENGTH + 4 + 4], 'then the relay answers with 32-bit tags');
      assert.deepEqual(atA[0], rtcpCompound(0x0b0b0b0b, 2));
      assert.equal(a.refused, 1);

      const legA = (await engine.query('libre')).legs[0]!.streams[0]!;
      assert.equal(legA.suite, SUITE_32);
      assert.equal(legA.srtpAuthFailures, 0, 'no SRTCP counted as srtp-auth');
      assert.equal(legA.dropped['srtp-auth'], 0);
      assert.equal(legA.rx.rtcpPackets, 2);
    });

    it('a libsrtp peer (80-bit SRTCP tags on a *_32 suite) MUST keep 80-bit tags both ways', async () => {
      const a = await open({ kind: 'srtp', suite: SUITE_32 });
      const b = await open({ kind: 'rtp' });
      await bridge(engine, 'libsrtp', a, b, 'RTP/AVP');
      a.sendRtp(rtpPacket({ seq: 1 }));
      await b.waitRtp(1);
      a.sendRtcp(rtcpCompound(0x0a0b0c0d, 7));
      await b.waitRtcp(1);
      b.sendRtp(rtpPacket({ seq: 3, ssrc: 0x0b0b0b0b }));
      b.sendRtcp(rtcpCompound(0x0b0b0b0b, 8));
      await a.waitRtcp(1);
      assert.deepEqual(srtcpLengths(a), [RTCP_LENGTH + 4 + 10]);
      assert.equal(a.refused, 0);
      const legA = (await engine.query('libsrtp')).legs[0]!.streams[0]!;
      assert.equal(legA.srtpAuthFailures, 0);
    });
  });

  describe('MKI with one master key (RFC 3711 §3.1, RFC 4568 §6.1)', () => {
    it('an offer whose key carries an MKI MUST be keyed with it, and our answer MUST carry none', async () => {
      const a = await open({ kind: 'srtp' });
      const b = await open({ kind: 'rtp' });
      const mine = cryptoKey(a.sdp());
      const offer = await engine.offer('mki-offer', 'tag-a', withMki(a.sdp(), 258, 2), { transport: 'RTP/AVP' });
      b.learn(offer);
      const answer = await engine.answer('mki-offer', 'tag-a', 'tag-b', b.sdp());
      a.learn(answer);
      assert.equal(cryptoKey(answer).mki, undefined, 'our line carries no MKI');
      const plainTx = a.tx!;
      a.tx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: mine.masterKey, masterSalt: mine.masterSalt, mki: Buffer.from([1, 2]) });

      plainTx.protectRtp(rtpPacket({ seq: 1 })); // keep sequence numbers apart between the two senders
      a.rtpSocket.send(plainTx.protectRtp(rtpPacket({ seq: 2 })), a.engineRtp, '127.0.0.1');
      a.sendRtp(rtpPacket({ seq: 10, payload: Buffer.alloc(160, 0x10) }));
      a.sendRtcp(rtcpCompound(0x0a0b0c0d, 5));
      const got = await b.waitRtp(1);
      assert.deepEqual(got[0], rtpPacket({ seq: 10, payload: Buffer.alloc(160, 0x10) }), 'only the packet with the MKI got through');
      await b.waitRtcp(1);
      b.sendRtp(rtpPacket({ seq: 4, ssrc: 0x0b0b0b0b }));
      await a.waitRtp(1);
      assert.equal(a.refused, 0, 'what we send carries no MKI, as our a=crypto said');
      const legA = (await engine.query('mki-offer')).legs[0]!.streams[0]!;
      assert.equal(legA.srtpAuthFailures, 1, 'the packet without the MKI was refused');
      plainTx.close();
    });

    it('an answer whose key carries an MKI MUST be accepted and keyed with it', async () => {
      const a = await open({ kind: 'rtp' });
      const b = await open({ kind: 'srtp' });
      const offer = await engine.offer('mki-answer', 'tag-a', a.sdp(), { transport: 'RTP/SAVP' });
      b.learn(offer);
      const mine = cryptoKey(b.sdp());
      const answer = await engine.answer('mki-answer', 'tag-a', 'tag-b', withMki(b.sdp(), 7, 4));
      a.learn(answer);
      b.tx!.close();
      b.tx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: mine.masterKey, masterSalt: mine.masterSalt, mki: Buffer.from([0, 0, 0, 7]) });
      b.sendRtp(rtpPacket({ seq: 20, ssrc: 0x0b0b0b0b }));
      const got = await a.waitRtp(1);
      assert.deepEqual(got[0], rtpPacket({ seq: 20, ssrc: 0x0b0b0b0b }));
      a.sendRtp(rtpPacket({ seq: 1 }));
      await b.waitRtp(1);
      assert.equal(b.refused, 0);
      const legB = (await engine.query('mki-answer')).legs[1]!.streams[0]!;
      assert.equal(legB.mode, 'srtp');
      assert.equal(legB.srtpAuthFailures, 0);
    });
  });
});
