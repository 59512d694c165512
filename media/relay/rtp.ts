/**
 * The RTP header fields the relay reads and rewrites, by hand on the packet Buffer (RFC 3550 §5.1),
 * and the first-octet demultiplexing of RFC 5761 §4 (RTP/RTCP on one port) and RFC 7983 §7
 * (STUN, ZRTP, DTLS, TURN and RTP/RTCP on one port). Nothing here allocates.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *  |                           timestamp                           |
 *  |           synchronization source (SSRC) identifier            |
 */

/** Fixed RTP header length (RFC 3550 §5.1). */
export const RTP_HEADER_LENGTH = 12;

/**
 * RFC 5761 §4: with RTP and RTCP on one port, an octet 1 (M bit + PT) of 192..223 is RTCP (SR 200,
 * RR 201, SDES 202, BYE 203, APP 204, RTPFB 205, PSFB 206, XR 207, ...), and RTP payload types
 * 64..95 must not be used, so that the two cannot be confused.
 */
export function isRtcpOnMuxedPort(packet: Uint8Array): boolean {
  const b1 = packet[1]!;
  return b1 >= 192 && b1 <= 223;
}

/**
 * The length of the header SRTP leaves in clear (fixed part, CSRC list and extension,
 * RFC 3550 §5.3.1), or -1 when the packet cannot be RTP version 2 that long.
 */
export function rtpHeaderLength(packet: Uint8Array): number {
  const length = packet.length;
  if (length < RTP_HEADER_LENGTH) return -1;
  const b0 = packet[0]!;
  if (b0 >>> 6 !== 2) return -1;
  let header = RTP_HEADER_LENGTH + 4 * (b0 & 0x0f);
  if (b0 & 0x10) {
    if (header + 4 > length) return -1;
    header += 4 + 4 * ((packet[header + 2]! << 8) | packet[header + 3]!);
  }
  if (header > length) return -1;
  if (b0 & 0x20) {
    // RFC 3550 §5.1: the last octet counts the padding, itself included.
    const pad = packet[length - 1]!;
    if (pad === 0 || header + pad > length) return -1;
  }
  return header;
}

/**
 * Payload octets of an RTP packet whose header is `headerLength` long: without the padding
 * (RFC 3550 §5.1), as the SR sender's octet count wants them (§6.4.1).
 */
export function payloadOctets(packet: Uint8Array, headerLength: number): number {
  const padding = packet[0]! & 0x20 ? packet[packet.length - 1]! : 0;
  return Math.max(0, packet.length - headerLength - padding);
}

export function payloadType(packet: Uint8Array): number {
  return packet[1]! & 0x7f;
}

/** Sets the payload type, keeping the marker bit. */
export function setPayloadType(packet: Uint8Array, pt: number): void {
  packet[1] = (packet[1]! & 0x80) | pt;
}

export function setMarker(packet: Uint8Array): void {
  packet[1] = packet[1]! | 0x80;
}

export function sequenceNumber(packet: Uint8Array): number {
  return (packet[2]! << 8) | packet[3]!;
}

export function setSequenceNumber(packet: Uint8Array, seq: number): void {
  packet[2] = seq >>> 8;
  packet[3] = seq;
}

export function timestamp(packet: Uint8Array): number {
  return readUint32(packet, 4);
}

export function setTimestamp(packet: Uint8Array, ts: number): void {
  writeUint32(packet, 4, ts);
}

export function ssrc(packet: Uint8Array): number {
  return readUint32(packet, 8);
}

export function setSsrc(packet: Uint8Array, value: number): void {
  writeUint32(packet, 8, value);
}

export function readUint32(b: Uint8Array, offset: number): number {
  return ((b[offset]! << 24) | (b[offset + 1]! << 16) | (b[offset + 2]! << 8) | b[offset + 3]!) >>> 0;
}

export function writeUint32(b: Uint8Array, offset: number, value: number): void {
  b[offset] = value >>> 24;
  b[offset + 1] = value >>> 16;
  b[offset + 2] = value >>> 8;
  b[offset + 3] = value;
}

/** Signed distance a − b between two 16-bit sequence numbers (RFC 3550 §A.1 arithmetic). */
export function seqDelta(a: number, b: number): number {
  return ((a - b + 0x8000) & 0xffff) - 0x8000;
}

/**
 * What a datagram on a pass-through port may be, from its first octet (RFC 7983 §7): an end-to-end
 * relay forwards these opaque and drops the rest (it cannot be any protocol the endpoints speak).
 */
export function isMultiplexedMediaOctet(b0: number): boolean {
  return (
    b0 <= 3 || // STUN (RFC 5389)
    (b0 >= 16 && b0 <= 19) || // ZRTP (RFC 6189)
    (b0 >= 20 && b0 <= 63) || // DTLS (RFC 6347)
    (b0 >= 64 && b0 <= 79) || // TURN channel (RFC 5766)
    (b0 >= 128 && b0 <= 191) // RTP / RTCP (RFC 3550)
  );
}
