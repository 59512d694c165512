/** Per-stream accessors (media.ts), payload types (codecs.ts) and rewrites (rewrite.ts). */
import assert from 'node:assert/strict';
import {
  parseSdp,
  writeSdp,
  mediaType,
  mediaPort,
  mediaProtocol,
  protocolInfo,
  connectionAddress,
  direction,
  holdState,
  isOnHold,
  isStreamDisabled,
  rtcpMux,
  rtcpAddress,
  ptime,
  maxptime,
  endToEndSecurity,
  payloadTypes,
  payloadTypeNumbers,
  telephoneEventPayloadTypes,
  comfortNoisePayloadTypes,
  selectCodecs,
  filterCodecs,
  setMediaAddress,
  setSessionConnection,
  setProtocol,
  setDirection,
  replaceCrypto,
  cryptoAttributeValues,
  SdpError,
} from '../../../media/sdp';
import * as F from './fixtures';

describe('SDP media accessors (media.ts)', () => {
  describe('RFC 4566 §5.14 m= line', () => {
    it('it MUST read media type, port and protocol of the captured offers', () => {
      const b = parseSdp(F.BARESIP_SRTP_MAND);
      assert.deepEqual([mediaType(b, 0), mediaPort(b, 0), mediaProtocol(b, 0)], ['audio', 27118, 'RTP/SAVP']);
      assert.equal(mediaProtocol(parseSdp(F.BARESIP_SRTP_OPTIONAL), 0), 'RTP/AVP');
      assert.equal(mediaProtocol(parseSdp(F.BARESIP_DTLS_SRTP), 0), 'UDP/TLS/RTP/SAVPF');
      assert.throws(() => mediaType(b, 1), RangeError);
    });

    it('it MUST classify the six RTP profiles', () => {
      assert.deepEqual(protocolInfo('RTP/AVP'), { rtp: true, secure: false, feedback: false, dtls: false });
      assert.deepEqual(protocolInfo('RTP/SAVP'), { rtp: true, secure: true, feedback: false, dtls: false });
      assert.deepEqual(protocolInfo('RTP/AVPF'), { rtp: true, secure: false, feedback: true, dtls: false });
      assert.deepEqual(protocolInfo('RTP/SAVPF'), { rtp: true, secure: true, feedback: true, dtls: false });
      assert.deepEqual(protocolInfo('UDP/TLS/RTP/SAVP'), { rtp: true, secure: true, feedback: false, dtls: true });
      assert.deepEqual(protocolInfo('UDP/TLS/RTP/SAVPF'), { rtp: true, secure: true, feedback: true, dtls: true });
      assert.equal(protocolInfo('udptl').rtp, false);
      assert.equal(protocolInfo('rtp/savp').rtp, false, 'proto tokens are matched exactly');
    });

    it('RFC 3264 §6: port 0 MUST read as a disabled stream, not a held one', () => {
      const p = parseSdp(F.BARESIP_SRTP_MAND.replace('m=audio 27118', 'm=audio 0'));
      assert.equal(isStreamDisabled(p, 0), true);
      assert.equal(holdState(p, 0), 'none');
    });
  });

  describe('RFC 4566 §5.7 connection address', () => {
    it('it MUST prefer the media-level c= and report the family', () => {
      assert.deepEqual(connectionAddress(parseSdp(F.LINPHONE_SRTP), 0), { family: 6, address: 'fd00::2', level: 'session' });
      assert.deepEqual(connectionAddress(parseSdp(F.TORTURE), 1), { family: 6, address: '2001:db8::1', level: 'media' });
      const p = parseSdp(F.BARESIP_SRTP_MAND.replace('a=sendrecv', 'c=IN IP4 198.51.100.3\r\na=sendrecv'));
      assert.deepEqual(connectionAddress(p, 0), { family: 4, address: '198.51.100.3', level: 'media' });
    });
  });

  describe('RFC 3264 §5.1 direction and §8.4 hold', () => {
    it('media-level direction MUST win over session-level, default sendrecv', () => {
      const base = F.BARESIP_SRTP_MAND.replace('a=sendrecv\r\n', '');
      assert.equal(direction(parseSdp(base), 0), 'sendrecv');
      const sessionOnly = base.replace('a=tool:baresip 1.0.0', 'a=tool:baresip 1.0.0\r\na=sendonly');
      assert.equal(direction(parseSdp(sessionOnly), 0), 'sendonly');
      const both = sessionOnly.replace('a=ptime:20', 'a=ptime:20\r\na=recvonly');
      assert.equal(direction(parseSdp(both), 0), 'recvonly');
    });

    it('it MUST detect hold by sendonly, inactive and legacy c=0.0.0.0', () => {
      assert.equal(holdState(parseSdp(F.ASTERISK_SDES), 0), 'none');
      assert.equal(holdState(parseSdp(F.ASTERISK_HOLD), 0), 'sendonly');
      assert.equal(holdState(parseSdp(F.ASTERISK_SDES.replace('a=sendrecv', 'a=inactive')), 0), 'inactive');
      assert.equal(holdState(parseSdp(F.LEGACY_HOLD), 0), 'zero-address');
      assert.equal(isOnHold(parseSdp(F.LEGACY_HOLD), 0), true);
      const v6 = F.LINPHONE_SRTP.replace('c=IN IP6 fd00::2', 'c=IN IP6 0:0:0:0:0:0:0:0');
      assert.equal(holdState(parseSdp(v6), 0), 'zero-address');
      assert.equal(holdState(parseSdp(F.ASTERISK_SDES.replace('a=sendrecv', 'a=recvonly')), 0), 'none', 'recvonly is not hold');
    });
  });

  describe('RTCP (RFC 3605, RFC 5761), ptime (RFC 4566 §6)', () => {
    it('it MUST read a=rtcp, a=rtcp-mux, a=ptime and a=maxptime', () => {
      const t = parseSdp(F.TORTURE);
      assert.deepEqual(rtcpAddress(t, 0), { port: 49171, family: 6, address: '2001:db8::1' });
      assert.equal(rtcpMux(t, 0), true);
      assert.equal(rtcpMux(t, 1), false);
      assert.equal(rtcpAddress(t, 1), undefined);
      const a = parseSdp(F.ASTERISK_SDES);
      assert.equal(ptime(a, 0), 20);
      assert.equal(maxptime(a, 0), 150);
      assert.equal(ptime(parseSdp(F.LINPHONE_SRTP), 0), undefined);
    });
  });

  describe('end-to-end security markers (pass-through mode)', () => {
    it('it MUST see session-level fingerprint/setup, zrtp-hash and a=crypto', () => {
      assert.deepEqual(endToEndSecurity(parseSdp(F.BARESIP_DTLS_SRTP), 0), {
        fingerprint: true,
        setup: 'actpass',
        zrtpHash: false,
        crypto: false,
      });
      assert.deepEqual(endToEndSecurity(parseSdp(F.LINPHONE_ZRTP), 0), {
        fingerprint: false,
        setup: undefined,
        zrtpHash: true,
        crypto: false,
      });
      assert.equal(endToEndSecurity(parseSdp(F.BARESIP_SRTP_MAND), 0).crypto, true);
      assert.equal(endToEndSecurity(parseSdp(F.TORTURE), 0).fingerprint, true);
    });
  });
});

describe('RTP payload types (codecs.ts)', () => {
  it('RFC 3551 §6: static PTs 0, 8, 18 without rtpmap MUST be described from the table', () => {
    const pts = payloadTypes(parseSdp(F.LINPHONE_SRTP), 0);
    assert.deepEqual(
      pts.map((p) => [p.payloadType, p.encodingName, p.clockRate, p.static]),
      [
        [96, 'opus', 48000, false],
        [97, 'speex', 16000, false],
        [98, 'speex', 8000, false],
        [0, 'PCMU', 8000, true],
        [8, 'PCMA', 8000, true],
        [18, 'G729', 8000, true],
        [99, 'telephone-event', 48000, false],
        [100, 'telephone-event', 16000, false],
        [101, 'telephone-event', 8000, false],
      ],
    );
    assert.equal(pts[5]!.fmtp, 'annexb=yes');
    assert.equal(pts[0]!.channels, 2);
  });

  it('G722 (PT 9) MUST have an RTP clock of 8000 with or without rtpmap (RFC 3551 §4.5.2)', () => {
    const b = payloadTypes(parseSdp(F.BARESIP_SRTP_MAND), 0).find((p) => p.payloadType === 9)!;
    assert.deepEqual([b.encodingName, b.clockRate, b.static], ['G722', 8000, false]);
    const noMap = parseSdp(F.BARESIP_SRTP_MAND.replace('a=rtpmap:9 G722/8000\r\n', ''));
    const s = payloadTypes(noMap, 0).find((p) => p.payloadType === 9)!;
    assert.deepEqual([s.encodingName, s.clockRate, s.static], ['G722', 8000, true]);
  });

  it('it MUST find telephone-event (RFC 4733) and CN (RFC 3389, static 13)', () => {
    assert.deepEqual(
      telephoneEventPayloadTypes(parseSdp(F.BARESIP_SRTP_MAND), 0).map((p) => [p.payloadType, p.fmtp]),
      [[101, '0-15']],
    );
    assert.deepEqual(
      comfortNoisePayloadTypes(parseSdp(F.TORTURE), 0).map((p) => p.payloadType),
      [13],
    );
    assert.equal(payloadTypes(parseSdp(F.TORTURE), 0).find((p) => p.payloadType === 126)?.encodingName, 'telephone-event');
  });

  it('a dynamic PT without rtpmap MUST read as unknown, not guessed', () => {
    const p = parseSdp(F.BARESIP_SRTP_MAND.replace('a=rtpmap:96 opus/48000/2\r\n', ''));
    const pt = payloadTypes(p, 0).find((x) => x.payloadType === 96)!;
    assert.deepEqual([pt.encodingName, pt.clockRate, pt.static], [undefined, undefined, false]);
  });

  it('selectCodecs MUST reorder, drop rtpmap/fmtp/rtcp-fb of removed PTs, and refuse an empty set', () => {
    const p = parseSdp(F.BARESIP_SRTP_MAND);
    selectCodecs(p, 0, [8, 101, 0]);
    assert.deepEqual(payloadTypeNumbers(p, 0), [8, 101, 0]);
    const out = writeSdp(p);
    assert.ok(out.includes('m=audio 27118 RTP/SAVP 8 101 0\r\n'));
    assert.ok(!out.includes('opus') && !out.includes('a=fmtp:96') && !out.includes('G722'));
    assert.ok(out.includes('a=fmtp:101 0-15'));
    assert.throws(() => selectCodecs(p, 0, []), (e: unknown) => e instanceof SdpError && e.status === 488);
    assert.throws(() => selectCodecs(p, 0, [9]), RangeError, 'PT 9 is gone');
    assert.throws(() => selectCodecs(p, 0, [8, 8]), RangeError);
    const v = parseSdp(F.TORTURE);
    selectCodecs(v, 1, [96]);
    assert.equal(v.media[1]!.rtcpFb?.length, 2, 'rtcp-fb of a kept PT stays');
  });

  it('filterCodecs MUST keep what the predicate accepts, in the given order', () => {
    const p = parseSdp(F.LINPHONE_SRTP);
    const pref = ['PCMA', 'PCMU', 'telephone-event'];
    filterCodecs(
      p,
      0,
      (pt) => pref.includes(pt.encodingName ?? '') && (pt.clockRate === 8000 || pt.encodingName !== 'telephone-event'),
      (a, b) => pref.indexOf(a.encodingName!) - pref.indexOf(b.encodingName!),
    );
    assert.deepEqual(payloadTypeNumbers(p, 0), [8, 0, 101]);
    assert.ok(!writeSdp(p).includes('speex'));
  });
});

describe('SDP rewrites (rewrite.ts)', () => {
  it('setMediaAddress MUST set media-level c= and port, and replace or drop a=rtcp', () => {
    const p = parseSdp(F.TORTURE);
    setMediaAddress(p, 0, { address: '203.0.113.9', port: 30000 });
    assert.deepEqual(connectionAddress(p, 0), { family: 4, address: '203.0.113.9', level: 'media' });
    assert.equal(mediaPort(p, 0), 30000);
    assert.equal(rtcpAddress(p, 0), undefined, "the previous hop's a=rtcp is gone");
    setMediaAddress(p, 1, { address: '2001:db8::99', port: 30002, rtcpPort: 30003 });
    assert.deepEqual(rtcpAddress(p, 1), { port: 30003, family: 6, address: '2001:db8::99' });
    const out = writeSdp(p);
    assert.ok(out.includes('m=audio 30000 RTP/SAVPF') && out.includes('c=IN IP4 203.0.113.9\r\n'));
    assert.ok(out.includes('a=rtcp:30003 IN IP6 2001:db8::99\r\n'));
  });

  it('rewrites MUST refuse anything that could inject or corrupt a line', () => {
    const p = parseSdp(F.BARESIP_SRTP_MAND);
    for (const address of ['203.0.113.9\r\na=crypto:1 X inline:Y', 'host.example', '224.0.0.1', '']) {
      assert.throws(() => setMediaAddress(p, 0, { address, port: 4000 }), RangeError);
      assert.throws(() => setSessionConnection(p, address), RangeError);
    }
    assert.throws(() => setMediaAddress(p, 0, { address: '203.0.113.9', port: 70000 }), RangeError);
    assert.throws(() => setMediaAddress(p, 0, { address: '203.0.113.9', port: 4000, rtcpPort: -1 }), RangeError);
    assert.throws(() => setProtocol(p, 0, 'RTP/SAVP\r\na=x'), RangeError);
    assert.throws(() => setDirection(p, 0, 'sendrecv\r\n' as 'sendrecv'), RangeError);
    assert.throws(() => replaceCrypto(p, 0, ['1 AES_CM_128_HMAC_SHA1_80 inline:x\r\na=y']), RangeError);
    assert.throws(() => replaceCrypto(p, 0, ['0 AES_CM_128_HMAC_SHA1_80 inline:x']), RangeError);
  });

  it('setSessionConnection, setProtocol and setDirection MUST show in the output', () => {
    const p = parseSdp(F.BARESIP_SRTP_OPTIONAL);
    setSessionConnection(p, '198.51.100.77');
    setProtocol(p, 0, 'RTP/SAVP');
    setDirection(p, 0, 'sendonly');
    const q = parseSdp(writeSdp(p));
    assert.equal(connectionAddress(q, 0)?.address, '198.51.100.77');
    assert.equal(mediaProtocol(q, 0), 'RTP/SAVP');
    assert.equal(holdState(q, 0), 'sendonly');
  });

  it('replaceCrypto MUST replace every a=crypto line, malformed ones included, or remove them all', () => {
    const p = parseSdp(F.LINPHONE_SRTP.replace('a=rtcp-fb:* trr-int 5000', 'a=crypto:bogus\r\na=rtcp-fb:* trr-int 5000'));
    assert.equal(cryptoAttributeValues(p, 0).length, 5);
    replaceCrypto(p, 0, ['9 AEAD_AES_128_GCM inline:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==']);
    assert.deepEqual(cryptoAttributeValues(parseSdp(writeSdp(p)), 0), ['9 AEAD_AES_128_GCM inline:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==']);
    replaceCrypto(p, 0, []);
    assert.ok(!writeSdp(p).includes('a=crypto'));
  });
});
