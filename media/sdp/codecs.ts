/**
 * Payload types of an RTP m= section: rtpmap/fmtp (RFC 4566 §6), the static assignments of
 * RFC 3551 §6 (PCMU 0, PCMA 8, G722 9, ... usable without a=rtpmap), telephone-event (RFC 4733)
 * and comfort noise (RFC 3389), and the codec filter/reorder an SBC applies to an offer.
 */
import { SdpError } from './errors';
import { isRtpProtocol } from './media';
import { mediaAt, type SdpSession } from './session';

export interface PayloadType {
  readonly payloadType: number;
  /** From a=rtpmap, else from the static table; undefined for a dynamic type without rtpmap. */
  readonly encodingName: string | undefined;
  readonly clockRate: number | undefined;
  /** Audio channels, when the rtpmap (or the static table) says. */
  readonly channels: number | undefined;
  /** The a=fmtp parameters, verbatim. */
  readonly fmtp: string | undefined;
  /** True when the description came from the RFC 3551 static table (no a=rtpmap given). */
  readonly static: boolean;
}

interface StaticEntry {
  readonly encodingName: string;
  readonly clockRate: number;
  readonly channels?: number;
}

/** RFC 3551 §6 Tables 4 and 5 (static payload types still in use, plus the reserved-free ones). */
export const STATIC_PAYLOAD_TYPES: Readonly<Record<number, StaticEntry>> = Object.freeze({
  0: { encodingName: 'PCMU', clockRate: 8000, channels: 1 },
  3: { encodingName: 'GSM', clockRate: 8000, channels: 1 },
  4: { encodingName: 'G723', clockRate: 8000, channels: 1 },
  5: { encodingName: 'DVI4', clockRate: 8000, channels: 1 },
  6: { encodingName: 'DVI4', clockRate: 16000, channels: 1 },
  7: { encodingName: 'LPC', clockRate: 8000, channels: 1 },
  8: { encodingName: 'PCMA', clockRate: 8000, channels: 1 },
  // RFC 3551 §4.5.2: G722's RTP clock rate is 8000 although it samples at 16 kHz.
  9: { encodingName: 'G722', clockRate: 8000, channels: 1 },
  10: { encodingName: 'L16', clockRate: 44100, channels: 2 },
  11: { encodingName: 'L16', clockRate: 44100, channels: 1 },
  12: { encodingName: 'QCELP', clockRate: 8000, channels: 1 },
  13: { encodingName: 'CN', clockRate: 8000, channels: 1 },
  14: { encodingName: 'MPA', clockRate: 90000 },
  15: { encodingName: 'G728', clockRate: 8000, channels: 1 },
  16: { encodingName: 'DVI4', clockRate: 11025, channels: 1 },
  17: { encodingName: 'DVI4', clockRate: 22050, channels: 1 },
  18: { encodingName: 'G729', clockRate: 8000, channels: 1 },
  25: { encodingName: 'CelB', clockRate: 90000 },
  26: { encodingName: 'JPEG', clockRate: 90000 },
  28: { encodingName: 'nv', clockRate: 90000 },
  31: { encodingName: 'H261', clockRate: 90000 },
  32: { encodingName: 'MPV', clockRate: 90000 },
  33: { encodingName: 'MP2T', clockRate: 90000 },
  34: { encodingName: 'H263', clockRate: 90000 },
});

/** The m= payload type numbers, in the sender's preference order (RFC 3264 §5.1). */
export function payloadTypeNumbers(sdp: SdpSession, index: number): number[] {
  const m = mediaAt(sdp, index);
  if (!isRtpProtocol(m.protocol)) return [];
  const text = String(m.payloads ?? '').trim();
  return text === '' ? [] : text.split(' ').map(Number);
}

/** Every payload type of an RTP stream, in m= order. Empty for a non-RTP stream. */
export function payloadTypes(sdp: SdpSession, index: number): PayloadType[] {
  const m = mediaAt(sdp, index);
  return payloadTypeNumbers(sdp, index).map((pt) => {
    const map = m.rtp.find((r) => Number(r.payload) === pt);
    const fmtp = m.fmtp.find((f) => Number(f.payload) === pt)?.config;
    if (map) {
      const rate = Number(map.rate);
      const channels = Number(map.encoding);
      return {
        payloadType: pt,
        encodingName: String(map.codec),
        clockRate: Number.isInteger(rate) && rate > 0 ? rate : undefined,
        channels: Number.isInteger(channels) && channels > 0 ? channels : undefined,
        fmtp: fmtp === undefined ? undefined : String(fmtp),
        static: false,
      };
    }
    const s = STATIC_PAYLOAD_TYPES[pt];
    return {
      payloadType: pt,
      encodingName: s?.encodingName,
      clockRate: s?.clockRate,
      channels: s?.channels,
      fmtp: fmtp === undefined ? undefined : String(fmtp),
      static: s !== undefined,
    };
  });
}

/** Payload types of one encoding; names compare case-insensitively (RFC 4855 §3). */
export function findPayloadTypes(sdp: SdpSession, index: number, encodingName: string): PayloadType[] {
  const wanted = encodingName.toLowerCase();
  return payloadTypes(sdp, index).filter((p) => p.encodingName?.toLowerCase() === wanted);
}

/** RFC 4733 §7.1.1 telephone-event payload types (one per clock rate offered). */
export function telephoneEventPayloadTypes(sdp: SdpSession, index: number): PayloadType[] {
  return findPayloadTypes(sdp, index, 'telephone-event');
}

/** RFC 3389 §5 comfort noise (CN) payload types, static 13 included. */
export function comfortNoisePayloadTypes(sdp: SdpSession, index: number): PayloadType[] {
  return findPayloadTypes(sdp, index, 'CN');
}

/**
 * Keep exactly `keep`, in that order, on an RTP stream, and drop the rtpmap, fmtp and rtcp-fb
 * lines of every other payload type (RFC 3264 §6.1: an answer lists a subset of the offer).
 * Throws SdpError 'no-common-codec' (488) when `keep` is empty; RangeError when it names a payload
 * type the stream does not have or names one twice (a caller bug).
 */
export function selectCodecs(sdp: SdpSession, index: number, keep: readonly number[]): void {
  const m = mediaAt(sdp, index);
  const present = new Set(payloadTypeNumbers(sdp, index));
  if (keep.length === 0) throw new SdpError('no-common-codec');
  const kept = new Set<number>();
  for (const pt of keep) {
    if (!present.has(pt) || kept.has(pt)) throw new RangeError(`payload type ${pt} is not selectable`);
    kept.add(pt);
  }
  m.payloads = keep.join(' ');
  m.rtp = m.rtp.filter((r) => kept.has(Number(r.payload)));
  m.fmtp = m.fmtp.filter((f) => kept.has(Number(f.payload)));
  if (m.rtcpFb) m.rtcpFb = m.rtcpFb.filter((f) => f.payload === '*' || kept.has(Number(f.payload)));
  if (m.rtcpFbTrrInt) m.rtcpFbTrrInt = m.rtcpFbTrrInt.filter((f) => f.payload === '*' || kept.has(Number(f.payload)));
  if (m.invalid) {
    // Opaque rtpmap/fmtp/rtcp-fb lines (kept verbatim by parseSdp) follow the same rule.
    m.invalid = m.invalid.filter((i) => {
      const colon = i.value.indexOf(':');
      const name = colon < 0 ? '' : i.value.slice(0, colon);
      if (name !== 'rtpmap' && name !== 'fmtp' && name !== 'rtcp-fb') return true;
      const pt = i.value.slice(colon + 1).split(' ', 1)[0]!;
      return pt === '*' || kept.has(Number(pt));
    });
  }
}

/** Keep the payload types `accept` returns true for, in the order `compare` gives (default: as offered). */
export function filterCodecs(
  sdp: SdpSession,
  index: number,
  accept: (pt: PayloadType) => boolean,
  compare?: (a: PayloadType, b: PayloadType) => number,
): void {
  const chosen = payloadTypes(sdp, index).filter(accept);
  if (compare) chosen.sort(compare);
  selectCodecs(
    sdp,
    index,
    chosen.map((p) => p.payloadType),
  );
}
