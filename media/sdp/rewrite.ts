/**
 * In-place rewrites a media-anchoring B2BUA applies to a description before forwarding it:
 * the transport address (RFC 4566 §5.7, §5.14), the RTCP address (RFC 3605), the profile, the
 * direction (RFC 3264 §8.4) and the SDES lines (RFC 4568). Arguments are checked strictly
 * (RangeError on a caller bug), so nothing a caller passes can inject a line into the output.
 */
import { isIP } from 'node:net';
import type { MediaDirection } from './media';
import { isToken, isUnicastLiteral } from './scan';
import { mediaAt, type SdpMedia, type SdpSession } from './session';

export interface MediaAddress {
  /** Unicast IPv4/IPv6 literal of the media engine. */
  readonly address: string;
  /** RTP port, 0..65535 (0 disables the stream, RFC 3264 §6). */
  readonly port: number;
  /**
   * RTCP port to announce with a=rtcp (RFC 3605). When absent the a=rtcp line is removed: it
   * described the previous hop's transport, which the anchoring replaces (RTCP is then port+1,
   * or muxed under a=rtcp-mux).
   */
  readonly rtcpPort?: number;
}

/** Point a stream at `address`:`port` with a media-level c= line. */
export function setMediaAddress(sdp: SdpSession, index: number, target: MediaAddress): void {
  const m = mediaAt(sdp, index);
  const family = checkedFamily(target.address);
  checkPort(target.port);
  m.connection = { version: family, ip: target.address };
  m.port = target.port;
  removeInvalid(m, 'rtcp');
  if (target.rtcpPort === undefined) {
    delete m.rtcp;
  } else {
    checkPort(target.rtcpPort);
    m.rtcp = { port: target.rtcpPort, netType: 'IN', ipVer: family, address: target.address };
  }
}

/**
 * Set the session-level c= line (the default for streams without their own). Also use it to
 * hide the previous hop's address when every stream got a media-level c= line.
 */
export function setSessionConnection(sdp: SdpSession, address: string): void {
  sdp.connection = { version: checkedFamily(address), ip: address };
}

/** Set the m= proto token, e.g. 'RTP/SAVP' when SDES protects the outgoing leg. */
export function setProtocol(sdp: SdpSession, index: number, proto: string): void {
  if (!proto.split('/').every((t) => isToken(t) && /^[A-Za-z0-9_]+$/.test(t))) {
    throw new RangeError('invalid m= proto token');
  }
  mediaAt(sdp, index).protocol = proto;
}

/** Set the media-level direction attribute (it overrides any session-level one). */
export function setDirection(sdp: SdpSession, index: number, dir: MediaDirection): void {
  if (dir !== 'sendrecv' && dir !== 'sendonly' && dir !== 'recvonly' && dir !== 'inactive') {
    throw new RangeError('invalid direction');
  }
  mediaAt(sdp, index).direction = dir;
}

/**
 * Replace every a=crypto line of a stream (RFC 4568) with `values`, each
 * "<tag> <suite> <key-params> [<session-params>]" as produced by the SDES module. An empty list
 * removes SDES from the stream (e.g. before forwarding to a DTLS-SRTP or plain RTP leg).
 */
export function replaceCrypto(sdp: SdpSession, index: number, values: readonly string[]): void {
  const m = mediaAt(sdp, index);
  const entries: NonNullable<SdpMedia['crypto']> = values.map((v) => {
    const f = v.split(' ');
    const [tag, suite, config] = f;
    if (
      f.length < 3 ||
      tag === undefined ||
      !/^[1-9][0-9]{0,8}$/.test(tag) ||
      suite === undefined ||
      !/^[A-Za-z0-9_]+$/.test(suite) ||
      config === undefined ||
      !f.every(isVisibleAscii)
    ) {
      throw new RangeError('invalid a=crypto value');
    }
    const entry: NonNullable<SdpMedia['crypto']>[number] = { id: Number(tag), suite, config };
    if (f.length > 3) entry.sessionConfig = f.slice(3).join(' ');
    return entry;
  });
  removeInvalid(m, 'crypto');
  if (entries.length > 0) m.crypto = entries;
  else delete m.crypto;
}

/** RFC 4568 §9.1 key-params and session-params are VCHAR runs: visible ASCII only, nothing else. */
function isVisibleAscii(t: string): boolean {
  if (t.length === 0) return false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

function removeInvalid(m: SdpMedia, name: string): void {
  if (!m.invalid) return;
  m.invalid = m.invalid.filter((i) => !i.value.startsWith(`${name}:`) && i.value !== name);
  if (m.invalid.length === 0) delete m.invalid;
}

function checkedFamily(address: string): 4 | 6 {
  const family = isIP(address);
  if ((family !== 4 && family !== 6) || !isUnicastLiteral(family, address)) {
    throw new RangeError('media address must be a unicast IPv4 or IPv6 literal');
  }
  return family;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError('port out of range');
}
