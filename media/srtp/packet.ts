/**
 * The few RTP/RTCP header fields SRTP needs, read with bounds checks before any crypto runs
 * (RFC 3550 §5.1, §5.3.1, §6.4.1). Anything that does not parse is an SrtpFormatError.
 */
import { SrtpFormatError } from './errors';

/** No UDP datagram is larger; a bigger "packet" is a caller bug or an attack. */
export const MAX_PACKET_LENGTH = 0xffff;
const RTP_FIXED_HEADER = 12;
/** RTCP common header up to and including the sender SSRC (RFC 3550 §6.4.1). */
export const RTCP_HEADER_LENGTH = 8;

export interface RtpHeaderFields {
  /** Fixed header + CSRC list + header extension: the part SRTP leaves in clear (RFC 3711 §3.1). */
  readonly headerLength: number;
  readonly ssrc: number;
  readonly sequenceNumber: number;
}

/**
 * Parses an RTP header; `trailerLength` octets (the tag, on receive) must follow it.
 * The payload may be empty; RTP padding is payload to SRTP and is left alone.
 */
export function parseRtpHeader(packet: Uint8Array, trailerLength: number): RtpHeaderFields {
  const length = packet.length;
  if (length > MAX_PACKET_LENGTH) throw new SrtpFormatError('too-long', 'rtp');
  if (length < RTP_FIXED_HEADER + trailerLength) throw new SrtpFormatError('too-short', 'rtp');
  const b0 = packet[0];
  if (b0 >>> 6 !== 2) throw new SrtpFormatError('bad-version', 'rtp');
  let headerLength = RTP_FIXED_HEADER + 4 * (b0 & 0x0f);
  if (headerLength + trailerLength > length) throw new SrtpFormatError('csrc-past-end', 'rtp');
  if (b0 & 0x10) {
    // RFC 3550 §5.3.1: 16-bit profile-defined field, 16-bit length in 32-bit words, then data.
    if (headerLength + 4 + trailerLength > length) throw new SrtpFormatError('extension-past-end', 'rtp');
    const words = (packet[headerLength + 2] << 8) | packet[headerLength + 3];
    headerLength += 4 + 4 * words;
    if (headerLength + trailerLength > length) throw new SrtpFormatError('extension-past-end', 'rtp');
  }
  return {
    headerLength,
    ssrc: readUint32(packet, 8),
    sequenceNumber: (packet[2] << 8) | packet[3],
  };
}

/**
 * Checks the first RTCP header of a (compound) packet and returns its sender SSRC;
 * `trailerLength` octets (index and tag, on receive) must follow the 8-octet header.
 */
export function parseRtcpHeader(packet: Uint8Array, trailerLength: number): number {
  const length = packet.length;
  if (length > MAX_PACKET_LENGTH) throw new SrtpFormatError('too-long', 'rtcp');
  if (length < RTCP_HEADER_LENGTH + trailerLength) throw new SrtpFormatError('too-short', 'rtcp');
  if (packet[0] >>> 6 !== 2) throw new SrtpFormatError('bad-version', 'rtcp');
  return readUint32(packet, 4);
}

export function readUint32(b: Uint8Array, offset: number): number {
  return ((b[offset] << 24) | (b[offset + 1] << 16) | (b[offset + 2] << 8) | b[offset + 3]) >>> 0;
}

export function writeUint32(b: Uint8Array, offset: number, value: number): void {
  b[offset] = value >>> 24;
  b[offset + 1] = value >>> 16;
  b[offset + 2] = value >>> 8;
  b[offset + 3] = value;
}
