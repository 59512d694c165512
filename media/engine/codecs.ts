/**
 * Codec policy on an offer, and the payload type correspondence between the legs after the answer
 * (RFC 3264 §5.1, §6.1: each side's numbers say what it expects to receive; an answerer SHOULD,
 * not MUST, reuse the offer's numbers). RFC 4733 telephone-event and RFC 3389 CN are carried like
 * codecs: kept on offers, mapped by name and clock rate, so a DTMF event sent as 101 on one leg
 * arrives as the other leg's number.
 */
import { payloadTypes, selectCodecs, type PayloadType, type SdpSession } from '../sdp';
import { MediaEngineError } from './errors';
import type { CodecPolicy } from './types';

const isAuxiliary = (p: PayloadType): boolean => {
  const n = p.encodingName?.toLowerCase();
  return n === 'telephone-event' || n === 'cn';
};

/**
 * Filters and orders the offered payload types of stream `index` by `policy` (in place). Throws
 * MediaEngineError 'no-common-codec', or 'transcoding-unavailable' when transcoding was allowed.
 */
export function applyCodecPolicy(sdp: SdpSession, index: number, policy: CodecPolicy | undefined): void {
  const all = payloadTypes(sdp, index);
  const allow = policy?.allow?.map((n) => n.toLowerCase());
  const rank = (p: PayloadType): number => (allow ? allow.indexOf(p.encodingName?.toLowerCase() ?? '') : 0);
  const codecs = all.filter((p) => !isAuxiliary(p) && rank(p) >= 0);
  if (codecs.length === 0) throw new MediaEngineError(policy?.transcode ? 'transcoding-unavailable' : 'no-common-codec', `stream ${index}`);
  if (!allow) return;
  const ordered = codecs
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i)
    .map((x) => x.p);
  selectCodecs(sdp, index, [...ordered, ...all.filter(isAuxiliary)].map((p) => p.payloadType));
}

/** Same codec: encoding name (case-insensitive, RFC 4855 §3), clock rate and channels. */
export function sameCodec(a: PayloadType, b: PayloadType): boolean {
  if (a.encodingName === undefined || b.encodingName === undefined) return a.payloadType === b.payloadType;
  return (
    a.encodingName.toLowerCase() === b.encodingName.toLowerCase() &&
    a.clockRate === b.clockRate &&
    (a.channels ?? 1) === (b.channels ?? 1)
  );
}

export interface PayloadCorrespondence {
  /** [offerer's number, answerer's number] of every codec in the answer that the offer had. */
  readonly pairs: readonly (readonly [number, number])[];
  /** RTP clock rate of the first (preferred) answered codec the offer had. */
  readonly clockRate: number;
  /** A codec of the offer was answered, not only telephone-event or CN. */
  readonly codecAnswered: boolean;
}

export function correspond(offered: readonly PayloadType[], answered: readonly PayloadType[]): PayloadCorrespondence {
  const pairs: [number, number][] = [];
  for (const a of answered) {
    const o = offered.find((x) => x.payloadType === a.payloadType && sameCodec(x, a)) ?? offered.find((x) => sameCodec(x, a));
    if (o && !pairs.some(([op]) => op === o.payloadType)) pairs.push([o.payloadType, a.payloadType]);
  }
  const paired = answered.filter((a) => !isAuxiliary(a) && pairs.some(([, ap]) => ap === a.payloadType));
  // An answered codec the offer did not have (an answerer's mistake) says nothing of the clock.
  const first = paired.find((a) => a.clockRate !== undefined) ?? answered.find((a) => !isAuxiliary(a) && a.clockRate !== undefined);
  return { pairs, clockRate: first?.clockRate ?? 8000, codecAnswered: paired.length > 0 };
}

/**
 * Payload maps of the relay for a correspondence: what the offerer sends (its numbers, or the
 * answer's, which it was told) → the answerer's number; and the reverse. A number that means one
 * codec on one side and another on the other is never added twice.
 */
export function payloadMaps(c: PayloadCorrespondence): { fromOfferer: [number, number][]; fromAnswerer: [number, number][] } {
  const fromOfferer: [number, number][] = [];
  const fromAnswerer: [number, number][] = [];
  const add = (list: [number, number][], from: number, to: number): void => {
    if (!list.some(([f]) => f === from)) list.push([from, to]);
  };
  for (const [o, a] of c.pairs) {
    add(fromOfferer, o, a);
    add(fromAnswerer, a, o);
  }
  // Peers that send with the other side's numbering (they were told them) are understood too.
  for (const [o, a] of c.pairs) {
    add(fromOfferer, a, a);
    add(fromAnswerer, o, o);
  }
  return { fromOfferer, fromAnswerer };
}
