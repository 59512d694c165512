/**
 * Transcoding when the legs share no codec (issue "media plane" §6), on the SDP side: the offer to
 * the other leg lists the allowed codecs media/codecs can produce, the answer to the offering leg
 * names the one codec of its own offer the engine will speak to it, and the relay gets a
 * transcoder per direction (media/relay/leg.ts). Only when the policy allows it (codecs.transcode)
 * and no allowed codec was offered: a common codec is always preferred.
 *
 * Kept out on transcoded streams: telephone-event and CN (their timestamps would have to follow
 * the transcoder's clock), RTCP feedback lines. RTCP itself is still forwarded.
 */
import type { SdpMedia, SdpSession } from '../sdp';
import { payloadTypes, type PayloadType } from '../sdp';
import type { CodecPolicy } from './types';

/** One codec a transcoder speaks on one leg. */
export interface TranscodeCodec {
  /** media/codecs CodecName: 'PCMU' | 'PCMA' | 'opus'. */
  readonly name: string;
  readonly clockRate: number;
  readonly channels: number;
  readonly payloadType: number;
}

export interface TranscodePlan {
  /** What the engine speaks to the offering leg: a codec of its offer. */
  readonly offerer: TranscodeCodec;
  /** Its rtpmap and fmtp lines, as offered, for the answer. */
  readonly offererRtp: SdpMedia['rtp'][number];
  readonly offererFmtp: SdpMedia['fmtp'][number] | undefined;
  /** What the other leg is offered, in order. */
  readonly offered: readonly TranscodeCodec[];
}

/** The codecs media/codecs can create (its SUPPORTED_CODECS), with the payload type we offer each with. */
const TRANSCODABLE: readonly (Omit<TranscodeCodec, 'payloadType'> & { readonly staticPt?: number })[] = [
  { name: 'PCMU', clockRate: 8000, channels: 1, staticPt: 0 },
  { name: 'PCMA', clockRate: 8000, channels: 1, staticPt: 8 },
  { name: 'opus', clockRate: 48000, channels: 2 },
];

function transcodable(p: PayloadType): (typeof TRANSCODABLE)[number] | undefined {
  const name = p.encodingName?.toLowerCase();
  return TRANSCODABLE.find((t) => t.name.toLowerCase() === name && t.clockRate === p.clockRate && t.channels === (p.channels ?? 1));
}

/**
 * When `policy` allows transcoding: rewrites stream `index` of `out` (the copy going to the other
 * leg) to offer the allowed transcodable codecs, and returns the plan; undefined when either side
 * has no codec media/codecs supports.
 */
export function planTranscoding(offer: SdpSession, out: SdpSession, index: number, policy: CodecPolicy): TranscodePlan | undefined {
  const m = offer.media[index]!;
  const own = payloadTypes(offer, index).find((p) => transcodable(p) !== undefined);
  if (!own) return undefined;
  const ownCodec = transcodable(own)!;
  const offered: TranscodeCodec[] = [];
  let dynamic = 96;
  for (const name of policy.allow ?? []) {
    const t = TRANSCODABLE.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (!t || offered.some((o) => o.name === t.name)) continue;
    offered.push({ name: t.name, clockRate: t.clockRate, channels: t.channels, payloadType: t.staticPt ?? dynamic++ });
  }
  if (offered.length === 0) return undefined;
  const o = out.media[index]!;
  o.payloads = offered.map((c) => c.payloadType).join(' ');
  o.rtp = offered.map((c) => ({ payload: c.payloadType, codec: c.name, rate: c.clockRate, ...(c.channels > 1 ? { encoding: c.channels } : {}) }));
  o.fmtp = [];
  delete o.rtcpFb;
  dropOpaqueCodecLines(o);
  return {
    offerer: { name: ownCodec.name, clockRate: ownCodec.clockRate, channels: ownCodec.channels, payloadType: own.payloadType },
    offererRtp: m.rtp.find((r) => Number(r.payload) === own.payloadType) ?? { payload: own.payloadType, codec: ownCodec.name, rate: ownCodec.clockRate },
    offererFmtp: m.fmtp.find((f) => Number(f.payload) === own.payloadType),
    offered,
  };
}

/** The codec of the answer that answers our transcoding offer, or undefined. */
export function answeredCodec(answer: SdpSession, index: number, plan: TranscodePlan): TranscodeCodec | undefined {
  for (const p of payloadTypes(answer, index)) {
    const t = transcodable(p);
    const ours = t && plan.offered.find((o) => o.name === t.name);
    if (ours) return { ...ours, payloadType: p.payloadType };
  }
  return undefined;
}

/** Rewrites the answer to the offering leg to name its own codec of the plan, alone. */
export function answerWithOffererCodec(m: SdpMedia, plan: TranscodePlan): void {
  m.payloads = String(plan.offerer.payloadType);
  m.rtp = [plan.offererRtp];
  m.fmtp = plan.offererFmtp ? [plan.offererFmtp] : [];
  delete m.rtcpFb;
  dropOpaqueCodecLines(m);
}

function dropOpaqueCodecLines(m: SdpMedia): void {
  if (!m.invalid) return;
  m.invalid = m.invalid.filter((i) => !/^(rtpmap|fmtp|rtcp-fb):/.test(String(i.value)));
  if (m.invalid.length === 0) delete m.invalid;
}
