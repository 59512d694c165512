/**
 * RTCP compound packets (RFC 3550 §6.1, §6.4, §A.2): the validity check a relay applies before
 * forwarding, and the SSRC translation that goes with an outgoing SSRC rewrite (RFC 3550 §7.2
 * translator duties; RFC 7667 §3.2.1.3). Walks are bounded by the packet length; nothing allocates.
 */
import { readUint32, writeUint32 } from './rtp';

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;
export const RTCP_RTPFB = 205;
export const RTCP_PSFB = 206;
export const RTCP_XR = 207;

/** RTCP header (4) + sender SSRC (4). */
const RTCP_MIN = 8;
const REPORT_BLOCK = 24;

/**
 * RFC 3550 §A.2 validity, relaxed for reduced-size RTCP (RFC 5506 §3.4.2, a compound may start with
 * any RTCP type): every packet has version 2 and a type in 192..223, only the last may be padded,
 * and the length fields add up to the datagram exactly.
 */
export function isValidRtcp(packet: Uint8Array): boolean {
  const total = packet.length;
  if (total < RTCP_MIN || total % 4 !== 0) return false;
  let offset = 0;
  while (offset < total) {
    if (offset + 4 > total) return false;
    const b0 = packet[offset]!;
    const pt = packet[offset + 1]!;
    if (b0 >>> 6 !== 2 || pt < 192 || pt > 223) return false;
    const size = 4 * (((packet[offset + 2]! << 8) | packet[offset + 3]!) + 1);
    if (offset + size > total) return false;
    if (b0 & 0x20 && offset + size !== total) return false;
    offset += size;
  }
  return offset === total;
}

/** How SSRCs change between the two legs, from the point of view of one forwarded RTCP packet. */
export interface SsrcTranslation {
  /** True when nothing is rewritten (the common case): the walk is skipped. */
  readonly identity: boolean;
  /** An SSRC the sending leg owns (sender, SDES, BYE) as the receiving leg knows it. */
  forward(ssrc: number): number;
  /** An SR RTP timestamp of `ssrc` (as sent) as the receiving leg knows it. */
  forwardTimestamp(ssrc: number, ts: number): number;
  /** An SSRC the receiving leg sent media with, as reported on by the sending leg: back to the original. */
  reverse(ssrc: number): number;
}

/** Rewrites the SSRCs of a valid (see {@link isValidRtcp}) compound packet in place. */
export function translateRtcp(packet: Uint8Array, t: SsrcTranslation): void {
  if (t.identity) return;
  const total = packet.length;
  let offset = 0;
  while (offset + RTCP_MIN <= total) {
    const b0 = packet[offset]!;
    const pt = packet[offset + 1]!;
    const count = b0 & 0x1f;
    const end = offset + 4 * (((packet[offset + 2]! << 8) | packet[offset + 3]!) + 1);
    if (end > total) return;
    const sender = readUint32(packet, offset + 4);
    switch (pt) {
      case RTCP_SR:
        writeUint32(packet, offset + 4, t.forward(sender));
        if (offset + 20 <= end) writeUint32(packet, offset + 16, t.forwardTimestamp(sender, readUint32(packet, offset + 16)));
        reverseBlocks(packet, offset + 28, count, end, t);
        break;
      case RTCP_RR:
        writeUint32(packet, offset + 4, t.forward(sender));
        reverseBlocks(packet, offset + 8, count, end, t);
        break;
      case RTCP_SDES:
        forwardSdesChunks(packet, offset + 4, count, end, t);
        break;
      case RTCP_BYE:
        for (let i = 0, at = offset + 4; i < count && at + 4 <= end; i++, at += 4) {
          writeUint32(packet, at, t.forward(readUint32(packet, at)));
        }
        break;
      case RTCP_RTPFB:
      case RTCP_PSFB:
        // RFC 4585 §6.1: packet sender SSRC, then the media source the feedback is about.
        writeUint32(packet, offset + 4, t.forward(sender));
        if (offset + 12 <= end) writeUint32(packet, offset + 8, t.reverse(readUint32(packet, offset + 8)));
        break;
      default:
        writeUint32(packet, offset + 4, t.forward(sender));
    }
    offset = end;
  }
}

/** RFC 3550 §6.4.1 report blocks: the first word is the SSRC of the source reported on. */
function reverseBlocks(packet: Uint8Array, start: number, count: number, end: number, t: SsrcTranslation): void {
  for (let i = 0, at = start; i < count && at + REPORT_BLOCK <= end; i++, at += REPORT_BLOCK) {
    writeUint32(packet, at, t.reverse(readUint32(packet, at)));
  }
}

/** RFC 3550 §6.5: chunks of SSRC + items, each list ended by a null octet and padded to 32 bits. */
function forwardSdesChunks(packet: Uint8Array, start: number, count: number, end: number, t: SsrcTranslation): void {
  let at = start;
  for (let i = 0; i < count && at + 4 <= end; i++) {
    writeUint32(packet, at, t.forward(readUint32(packet, at)));
    at += 4;
    while (at < end && packet[at] !== 0) at += 2 + (packet[at + 1] ?? 0);
    at = (at + 4) & ~3; // past the null octet, to the next 32-bit boundary
  }
}

/**
 * The sender SSRC and LSR (RFC 3550 §6.4.1: the middle 32 bits of the NTP timestamp) of the first
 * SR in a valid compound packet, for the DLSR of the reports answering it; undefined without one.
 */
export function senderReportOf(packet: Uint8Array): { readonly ssrc: number; readonly lsr: number } | undefined {
  const total = packet.length;
  let offset = 0;
  while (offset + RTCP_MIN <= total) {
    const end = offset + 4 * (((packet[offset + 2]! << 8) | packet[offset + 3]!) + 1);
    if (end > total) return undefined;
    if (packet[offset + 1] === RTCP_SR && offset + 28 <= end) {
      return { ssrc: readUint32(packet, offset + 4), lsr: readUint32(packet, offset + 10) };
    }
    offset = end;
  }
  return undefined;
}
