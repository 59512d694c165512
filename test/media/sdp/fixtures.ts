/**
 * SDP samples for the tests.
 *
 * CAPTURED: the BARESIP_* and LINPHONE_* offers are real INVITE bodies, captured on 2026-11-22
 * from baresip 1.0.0 (Debian baresip-core 1.0.0-4, accounts mediaenc=srtp-mand / srtp /
 * dtls_srtp) and linphonec 5.1.65 (media_encryption=srtp / zrtp, mandatory) dialling a UDP
 * listener on 127.0.0.1. Their keys are throwaway keys of those runs. Note that baresip 1.0
 * offers a single a=crypto line (tag 1, AES_CM_128_HMAC_SHA1_80), Linphone four.
 *
 * COMPOSED: ASTERISK_* and LEGACY_HOLD are written from knowledge of what those peers send
 * (Asterisk chan_pjsip with media_encryption=sdes; an RFC 2543-era phone holding with
 * c=0.0.0.0), not captured. They are marked as such where defined.
 */

function crlf(lines: readonly string[]): string {
  return lines.join('\r\n') + '\r\n';
}

/** CAPTURED: baresip 1.0.0, mediaenc=srtp-mand (RTP/SAVP + a=crypto). */
export const BARESIP_SRTP_MAND = crlf([
  'v=0',
  'o=- 3264255174 1032834062 IN IP4 192.0.2.2',
  's=-',
  'c=IN IP4 192.0.2.2',
  't=0 0',
  'a=tool:baresip 1.0.0',
  'm=audio 27118 RTP/SAVP 0 8 9 96 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 stereo=1;sprop-stereo=1',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=label:1',
  'a=rtcp-rsize',
  'a=ssrc:3293374020 cname:sip:alice@127.0.0.1',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:Q2cKeidb7wRI4QbTZdTq+63rvs/XOPQapApJ/qRy',
  'a=minptime:20',
  'a=ptime:20',
]);

/** CAPTURED: baresip 1.0.0, mediaenc=srtp (best effort: RTP/AVP + a=crypto). */
export const BARESIP_SRTP_OPTIONAL = crlf([
  'v=0',
  'o=- 4224162430 178237621 IN IP4 192.0.2.2',
  's=-',
  'c=IN IP4 192.0.2.2',
  't=0 0',
  'a=tool:baresip 1.0.0',
  'm=audio 13500 RTP/AVP 0 8 9 96 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 stereo=1;sprop-stereo=1',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=label:1',
  'a=rtcp-rsize',
  'a=ssrc:4006622666 cname:sip:alice@127.0.0.1',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:m2h2lXqZIsXVYZn3qU8WUYFEZsLQsHuv9BbXVr+S',
  'a=minptime:20',
  'a=ptime:20',
]);

/** CAPTURED: baresip 1.0.0, mediaenc=dtls_srtp (UDP/TLS/RTP/SAVPF, session-level fingerprint and setup). */
export const BARESIP_DTLS_SRTP = crlf([
  'v=0',
  'o=- 466535407 909937819 IN IP4 192.0.2.2',
  's=-',
  'c=IN IP4 192.0.2.2',
  't=0 0',
  'a=tool:baresip 1.0.0',
  'a=setup:actpass',
  'a=fingerprint:SHA-256 5A:AA:D1:EF:89:4F:EE:46:8D:6A:DD:E7:2E:52:B7:CB:E2:69:4C:CE:8E:B5:3B:53:D8:A6:50:CD:E3:6E:AF:60',
  'm=audio 34144 UDP/TLS/RTP/SAVPF 0 8 9 96 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 stereo=1;sprop-stereo=1',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=label:1',
  'a=rtcp-rsize',
  'a=ssrc:3918762206 cname:sip:alice@127.0.0.1',
  'a=minptime:20',
  'a=ptime:20',
]);

/** CAPTURED: linphonec 5.1.65, media_encryption=srtp (IPv6, four a=crypto lines, static PTs without rtpmap). */
export const LINPHONE_SRTP = crlf([
  'v=0',
  'o=linphone 877 439 IN IP6 fd00::2',
  's=Talk',
  'c=IN IP6 fd00::2',
  't=0 0',
  'a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics',
  'm=audio 40096 RTP/SAVP 96 97 98 0 8 18 99 100 101',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 useinbandfec=1',
  'a=rtpmap:97 speex/16000',
  'a=fmtp:97 vbr=on',
  'a=rtpmap:98 speex/8000',
  'a=fmtp:98 vbr=on',
  'a=fmtp:18 annexb=yes',
  'a=rtpmap:99 telephone-event/48000',
  'a=rtpmap:100 telephone-event/16000',
  'a=rtpmap:101 telephone-event/8000',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:uq2GAsCFstLcsLtv8RLCgSFjsdD/eEGfwQ0Ruo2L',
  'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:39WqG7RnhV3YcvfKPUGTw8JsdQxy0Mf/UpFX0Iw8',
  'a=crypto:3 AES_256_CM_HMAC_SHA1_80 inline:vfp2nuMqKLHLCuhsCULwZ3UqAWLCBojyzceNlmsGRN+agj0Cjq5UOnZjD4qB/w==',
  'a=crypto:4 AES_256_CM_HMAC_SHA1_32 inline:gT2HzGGXA3hbeTngY76mzg7b8O75jGwrugDLUZs4hDWFyBEm7w39Tp18EMKlHA==',
  'a=rtcp-fb:* trr-int 5000',
  'a=rtcp-fb:* ccm tmmbr',
]);

/** CAPTURED: linphonec 5.1.65, media_encryption=zrtp (RTP/AVP + a=zrtp-hash). */
export const LINPHONE_ZRTP = crlf([
  'v=0',
  'o=linphone 3159 3890 IN IP6 fd00::2',
  's=Talk',
  'c=IN IP6 fd00::2',
  't=0 0',
  'a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics',
  'm=audio 40056 RTP/AVP 96 97 98 0 8 18 99 100 101',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 useinbandfec=1',
  'a=rtpmap:97 speex/16000',
  'a=fmtp:97 vbr=on',
  'a=rtpmap:98 speex/8000',
  'a=fmtp:98 vbr=on',
  'a=fmtp:18 annexb=yes',
  'a=rtpmap:99 telephone-event/48000',
  'a=rtpmap:100 telephone-event/16000',
  'a=rtpmap:101 telephone-event/8000',
  'a=zrtp-hash:1.10 40bb7396a741f6fca309157c2b119b89819592727cd432c117c5f0600b56e3a4',
  'a=rtcp-fb:* trr-int 5000',
  'a=rtcp-fb:* ccm tmmbr',
]);

/**
 * COMPOSED (not captured): an Asterisk 18 chan_pjsip offer with media_encryption=sdes, as
 * res_srtp built on libsrtp2 offers it: several suites, AES_192 among them (not supported here).
 */
export const ASTERISK_SDES = crlf([
  'v=0',
  'o=- 1933712442 1933712442 IN IP4 198.51.100.10',
  's=Asterisk',
  'c=IN IP4 198.51.100.10',
  't=0 0',
  'm=audio 17982 RTP/SAVP 0 8 9 101',
  'a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:kYYnTxdazkABc2G+eKqOUxXoo5ZrbUE57W1IcgtQCsAQPlynkXK4DgTVgPe4Tg==',
  'a=crypto:2 AES_192_CM_HMAC_SHA1_80 inline:jOvdPLOgDtVhHpe/5Mt2dIjseMIyciESrjKCK2C2rwkjd3KZJ6E=',
  'a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:n+AURFHLxWyluumXbgUeeCAI/BF2RNcjEgHa7CzA',
  'a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:nybE18xxgKNRqERSKxxvnNz78TbRKP0/jtb/QzHO',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=maxptime:150',
  'a=sendrecv',
]);

/** COMPOSED: the same Asterisk putting the call on hold (RFC 3264 §8.4 re-offer, a=sendonly). */
export const ASTERISK_HOLD = ASTERISK_SDES.replace('o=- 1933712442 1933712442', 'o=- 1933712442 1933712443').replace(
  'a=sendrecv',
  'a=sendonly',
);

/** COMPOSED: an RFC 2543-era gateway holding with c=IN IP4 0.0.0.0 (RFC 3264 §8.4 legacy hold). */
export const LEGACY_HOLD = crlf([
  'v=0',
  'o=CiscoSystemsSIP-GW-UserAgent 4417 2289 IN IP4 192.0.2.50',
  's=SIP Call',
  'c=IN IP4 0.0.0.0',
  't=0 0',
  'm=audio 16434 RTP/AVP 0 101',
  'c=IN IP4 0.0.0.0',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
]);

/**
 * COMPOSED: attributes sdp-transform would mangle on its own (see session.ts): RFC 8858
 * rtcp-mux-only, a non-integer ptime, two fingerprints, a=crypto with several session
 * parameters, vendor attributes at both levels, a=rtcp with an address, two streams.
 */
export const TORTURE = crlf([
  'v=0',
  'o=torture 18446744073709551615 18446744073709551614 IN IP6 2001:db8::1',
  's=-',
  'i=two streams',
  't=3034423619 0',
  'a=x-vendor-session:opaque value',
  'a=group:BUNDLE a0 v0',
  'm=audio 49170 RTP/SAVPF 111 0 13 126',
  'c=IN IP6 2001:db8::1',
  'b=AS:64',
  'a=mid:a0',
  'a=rtcp:49171 IN IP6 2001:db8::1',
  'a=rtcp-mux',
  'a=rtcp-mux-only',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:126 telephone-event/48000',
  'a=ptime:20.0',
  'a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
  'a=fingerprint:sha-1 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01',
  'a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:ULdGyz6VZEux7V6doCRMM+mMR0wbfDHX82Anh0LN|2^31 KDR=0 WSH=128 -X-OPTIONAL',
  'a=x-unknown-flag',
  'a=recvonly',
  'm=video 49172 RTP/AVPF 96',
  'c=IN IP6 2001:db8::1',
  'a=mid:v0',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 nack pli',
  'a=rtcp-fb:96 goog-remb',
  'a=inactive',
]);
