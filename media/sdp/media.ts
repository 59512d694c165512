/**
 * Typed read access to one m= section (RFC 4566 §5.14) and what an SBC needs to know about it:
 * transport, direction and hold (RFC 3264 §5.1, §8.4), RTCP (RFC 3605, RFC 5761) and the
 * end-to-end security markers a pass-through mode must not break (RFC 8122, RFC 5763, RFC 6189).
 * Every accessor takes the whole session, because several attributes inherit from session level.
 */
import { mediaAt, type SdpSession } from './session';

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** The RTP profiles this gateway speaks (RFC 3551, RFC 3711, RFC 4585, RFC 5124, RFC 5764 §8). */
export const RTP_PROTOCOLS = [
  'RTP/AVP',
  'RTP/SAVP',
  'RTP/AVPF',
  'RTP/SAVPF',
  'UDP/TLS/RTP/SAVP',
  'UDP/TLS/RTP/SAVPF',
] as const;
export type RtpProtocol = (typeof RTP_PROTOCOLS)[number];

export interface ProtocolInfo {
  /** One of {@link RTP_PROTOCOLS}. */
  readonly rtp: boolean;
  /** SRTP profile (SAVP/SAVPF), keyed by SDES or DTLS. */
  readonly secure: boolean;
  /** RTCP feedback profile (AVPF/SAVPF, RFC 4585). */
  readonly feedback: boolean;
  /** DTLS-SRTP (UDP/TLS/..., RFC 5764 §8). */
  readonly dtls: boolean;
}

/** Classify an m= proto token. Matching is exact: the IANA registry spells them in upper case. */
export function protocolInfo(proto: string): ProtocolInfo {
  const rtp = (RTP_PROTOCOLS as readonly string[]).includes(proto);
  return {
    rtp,
    secure: rtp && proto.includes('SAVP'),
    feedback: rtp && proto.endsWith('F'),
    dtls: rtp && proto.startsWith('UDP/TLS/'),
  };
}

export function isRtpProtocol(proto: string): proto is RtpProtocol {
  return (RTP_PROTOCOLS as readonly string[]).includes(proto);
}

/** m=<media>: "audio", "video", "image", ... */
export function mediaType(sdp: SdpSession, index: number): string {
  return mediaAt(sdp, index).type;
}

/** m= port. 0 means the stream is disabled or rejected (RFC 3264 §5.1, §6). */
export function mediaPort(sdp: SdpSession, index: number): number {
  return Number(mediaAt(sdp, index).port);
}

export function mediaProtocol(sdp: SdpSession, index: number): string {
  return mediaAt(sdp, index).protocol;
}

/** RFC 3264 §6: a stream with port 0 is rejected (answer) or disabled (offer). */
export function isStreamDisabled(sdp: SdpSession, index: number): boolean {
  return mediaPort(sdp, index) === 0;
}

export interface ConnectionAddress {
  readonly family: 4 | 6;
  readonly address: string;
  /** Where the c= line was found: media level wins over session level (RFC 4566 §5.7). */
  readonly level: 'media' | 'session';
}

/** The effective c= of a stream, or undefined (possible only for a port-0 stream). */
export function connectionAddress(sdp: SdpSession, index: number): ConnectionAddress | undefined {
  const m = mediaAt(sdp, index);
  const c = m.connection ?? sdp.connection;
  if (!c) return undefined;
  return { family: Number(c.version) === 6 ? 6 : 4, address: c.ip, level: m.connection ? 'media' : 'session' };
}

/** RFC 3264 §5.1 / RFC 4566 §6: media-level direction attribute, else session-level, else sendrecv. */
export function direction(sdp: SdpSession, index: number): MediaDirection {
  return mediaAt(sdp, index).direction ?? sdp.direction ?? 'sendrecv';
}

/**
 * How the sender of this description holds the stream:
 * - 'sendonly' / 'inactive': RFC 3264 §8.4 hold (it stops receiving);
 * - 'zero-address': RFC 2543 legacy hold, c=IN IP4 0.0.0.0 (also "::" for IPv6) with a direction
 *   that would otherwise receive media;
 * - 'none': not held (a disabled port-0 stream is 'none' too: it is removed, not held).
 */
export type HoldState = 'none' | 'sendonly' | 'inactive' | 'zero-address';

export function holdState(sdp: SdpSession, index: number): HoldState {
  if (isStreamDisabled(sdp, index)) return 'none';
  const dir = direction(sdp, index);
  if (dir === 'sendonly' || dir === 'inactive') return dir;
  const c = connectionAddress(sdp, index);
  if (c && isUnspecifiedAddress(c.address)) return 'zero-address';
  return 'none';
}

export function isOnHold(sdp: SdpSession, index: number): boolean {
  return holdState(sdp, index) !== 'none';
}

/** 0.0.0.0 or the IPv6 unspecified address, however it is spelled. */
export function isUnspecifiedAddress(address: string): boolean {
  if (address === '0.0.0.0') return true;
  if (!address.includes(':')) return false;
  return address.split(':').every((g) => g === '' || /^0{1,4}$/.test(g));
}

/** RFC 5761 §5.1.1: a=rtcp-mux. */
export function rtcpMux(sdp: SdpSession, index: number): boolean {
  return mediaAt(sdp, index).rtcpMux === 'rtcp-mux';
}

export interface RtcpAddress {
  readonly port: number;
  readonly family?: 4 | 6;
  readonly address?: string;
}

/** RFC 3605 a=rtcp:<port> [IN IP4|IP6 <address>], when present and valid. */
export function rtcpAddress(sdp: SdpSession, index: number): RtcpAddress | undefined {
  const r = mediaAt(sdp, index).rtcp;
  if (!r) return undefined;
  const port = Number(r.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  if (r.address === undefined || r.address === '') return { port };
  return { port, family: Number(r.ipVer) === 6 ? 6 : 4, address: r.address };
}

/** RFC 4566 §6 a=ptime in milliseconds (media level, else session level), when sane. */
export function ptime(sdp: SdpSession, index: number): number | undefined {
  return millis(mediaAt(sdp, index).ptime ?? (sdp as { ptime?: unknown }).ptime);
}

/** RFC 4566 §6 a=maxptime in milliseconds (media level, else session level), when sane. */
export function maxptime(sdp: SdpSession, index: number): number | undefined {
  return millis(mediaAt(sdp, index).maxptime ?? (sdp as { maxptime?: unknown }).maxptime);
}

function millis(v: unknown): number | undefined {
  const n = Number(v);
  return v !== undefined && Number.isFinite(n) && n > 0 && n <= 10000 ? n : undefined;
}

export type DtlsSetup = 'active' | 'passive' | 'actpass' | 'holdconn';

export interface EndToEndSecurity {
  /** a=fingerprint (RFC 8122 §5), at media or session level: a DTLS-SRTP or TLS peer identity. */
  readonly fingerprint: boolean;
  /** a=setup (RFC 4145 §4), media level over session level, when one of the four values. */
  readonly setup: DtlsSetup | undefined;
  /** a=zrtp-hash (RFC 6189 §8.1): the endpoints run ZRTP end to end. */
  readonly zrtpHash: boolean;
  /** a=crypto (RFC 4568): SDES keys for this hop. */
  readonly crypto: boolean;
}

/**
 * What end-to-end media security the stream announces. A relay that rewrites the media path in
 * pass-through mode must keep these attributes (and the packets) intact for it to keep working.
 */
export function endToEndSecurity(sdp: SdpSession, index: number): EndToEndSecurity {
  const m = mediaAt(sdp, index);
  const has = (level: { invalid?: { value: string }[] }, name: string): boolean =>
    (level.invalid ?? []).some((i) => i.value.startsWith(`${name}:`));
  const setup = m.setup ?? sdp.setup;
  return {
    fingerprint: m.fingerprint !== undefined || sdp.fingerprint !== undefined || has(m, 'fingerprint') || has(sdp, 'fingerprint'),
    setup: setup === 'active' || setup === 'passive' || setup === 'actpass' || setup === 'holdconn' ? setup : undefined,
    zrtpHash: has(m, 'zrtp-hash') || has(sdp, 'zrtp-hash'),
    crypto: (m.crypto?.length ?? 0) > 0 || has(m, 'crypto'),
  };
}
