/**
 * The B2BUA tests' endpoints: the shared test UA (test/helpers/sip-ua.ts; `SipUa.tls` for a
 * device that registers and receives its calls over one connection, like baresip, `SipUa.udp` for
 * a PBX stand-in), the dialogs a test UA keeps, and the SDP the tests offer and answer.
 */
import { randomBytes } from 'node:crypto';

export { rand, SipUa, uacDialog, uasDialog } from '../helpers/sip-ua';

/** A SDES-SRTP offer/answer (RFC 4568) with PCMU and telephone-event, a fresh key. */
export function srtpSdp(port: number, version = 1, direction = 'sendrecv'): string {
  const key = randomBytes(30).toString('base64');
  return [
    'v=0', `o=- 1000 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/SAVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16',
    `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}`, `a=${direction}`, '',
  ].join('\r\n');
}

/** An SDES answer to `offer` (RFC 4568 §7.1.2): its AES_CM_128_HMAC_SHA1_80 line's tag, a key of ours. */
export function srtpAnswer(offer: string, port: number, version = 1, direction = 'sendrecv'): string {
  const m = /a=crypto:(\d{1,3}) AES_CM_128_HMAC_SHA1_80 /.exec(offer);
  if (m === null) throw new Error('offer has no AES_CM_128_HMAC_SHA1_80');
  return srtpSdp(port, version, direction).replace('a=crypto:1 ', `a=crypto:${m[1]} `);
}

/** A plain RTP/AVP description (a PBX): PCMA, PCMU and telephone-event. */
export function rtpSdp(port: number, version = 1, direction = 'sendrecv'): string {
  return [
    'v=0', `o=pbx 2000 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 8 0 101`, 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000',
    `a=${direction}`, '',
  ].join('\r\n');
}

/** A DTLS-SRTP description (RFC 5763): what pass-through relays untouched. */
export function dtlsSdp(port: number, setup: 'actpass' | 'active' = 'actpass'): string {
  const fp = Array.from(randomBytes(32)).map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
  return [
    'v=0', 'o=- 3000 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} UDP/TLS/RTP/SAVP 0`, 'a=rtpmap:0 PCMU/8000', `a=fingerprint:sha-256 ${fp}`, `a=setup:${setup}`, 'a=sendrecv', '',
  ].join('\r\n');
}
