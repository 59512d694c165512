/**
 * Transcoding when the legs share no codec (issue "media plane" §6), on the SDP side: the offer to
 * the other leg lists the allowed codecs media/codecs can produce, the answer to the offering leg
 * names the one codec of its own offer the engine will speak to it, and the relay gets a
 * transcoder per direction (media/relay/leg.ts). Only when the policy allows it (codecs.transcode)
 * and no allowed codec was offered: a common codec is always preferred.
 *
 * Carried through the transcoder, in its output stream (media/relay/transcode.ts):
 * - RFC 4733 telephone-event, when the offerer offered it: the other leg is offered one per clock
 *   rate of the codecs it is offered (RFC 4733 §2.1: events run on the audio's clock), and the
 *   relay rescales timestamps and durations between the two legs' event clocks;
 * - RFC 3389 CN, only when both legs would run 8000 Hz audio with CN/8000: its payload does not
 *   depend on the codec, but a CN/8000 next to Opus would put two clocks on one SSRC. Otherwise it
 *   is not negotiated (the endpoints send audio, or nothing, in silences) and a CN packet sent
 *   anyway is dropped and counted ('payload-type').
 * Kept out: RTCP feedback lines (RTCP is terminated per leg on a transcoded stream, rtcp-report.ts).
 */
import type { SdpMedia, SdpSession } from '../sdp';
import { payloadTypes, type PayloadType } from '../sdp';
import type { TranscodeWire } from '../relay/protocol';
import type { CodecPolicy } from './types';

/** One codec a transcoder speaks on one leg. */
export interface TranscodeCodec {
  /** media/codecs CodecName: 'PCMU' | 'PCMA' | 'opus'; or 'telephone-event', 'CN'. */
  readonly name: string;
  readonly clockRate: number;
  readonly channels: number;
  readonly payloadType: number;
}

/** A payload type of the offer, with its lines as offered, for the answer to the offerer. */
export interface OffererPayload {
  readonly codec: TranscodeCodec;
  readonly rtp: SdpMedia['rtp'][number];
  readonly fmtp: SdpMedia['fmtp'][number] | undefined;
}

export interface TranscodePlan {
  /** What the engine speaks to the offering leg: a codec of its offer. */
  readonly offerer: TranscodeCodec;
  /** Its rtpmap and fmtp lines, as offered, for the answer. */
  readonly offererRtp: SdpMedia['rtp'][number];
  readonly offererFmtp: SdpMedia['fmtp'][number] | undefined;
  /** What the other leg is offered, in order. */
  readonly offered: readonly TranscodeCodec[];
  /** The offerer's telephone-event (on its codec's clock when it offered that one). */
  readonly offererEvent: OffererPayload | undefined;
  /** telephone-event offered to the other leg, one per clock rate of `offered`. */
  readonly events: readonly TranscodeCodec[];
  /** The offerer's CN/8000 and the CN offered to the other leg, when CN can pass. */
  readonly offererCn: OffererPayload | undefined;
  readonly cn: TranscodeCodec | undefined;
}

/** The codecs media/codecs can create (its SUPPORTED_CODECS), with the payload type we offer each with. */
const TRANSCODABLE: readonly (Omit<TranscodeCodec, 'payloadType'> & { readonly staticPt?: number })[] = [
  { name: 'PCMU', clockRate: 8000, channels: 1, staticPt: 0 },
  { name: 'PCMA', clockRate: 8000, channels: 1, staticPt: 8 },
  { name: 'opus', clockRate: 48000, channels: 2 },
];
const CN_PT = 13; // RFC 3551 §6, RFC 3389 §4
const EVENT_PT_8000 = 101; // the number most endpoints use; any free dynamic one would do

function transcodable(p: PayloadType): (typeof TRANSCODABLE)[number] | undefined {
  const name = p.encodingName?.toLowerCase();
  return TRANSCODABLE.find((t) => t.name.toLowerCase() === name && t.clockRate === p.clockRate && t.channels === (p.channels ?? 1));
}

const isEvent = (p: PayloadType): boolean => p.encodingName?.toLowerCase() === 'telephone-event' && p.clockRate !== undefined;
const isCn8000 = (p: PayloadType): boolean => p.encodingName?.toLowerCase() === 'cn' && p.clockRate === 8000;

/**
 * When `policy` allows transcoding: rewrites stream `index` of `out` (the copy going to the other
 * leg) to offer the allowed transcodable codecs, with telephone-event and CN as above, and returns
 * the plan; undefined when either side has no codec media/codecs supports.
 */
export function planTranscoding(offer: SdpSession, out: SdpSession, index: number, policy: CodecPolicy): TranscodePlan | undefined {
  const m = offer.media[index]!;
  const all = payloadTypes(offer, index);
  const own = all.find((p) => transcodable(p) !== undefined);
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
  const lines = (p: PayloadType, codec: TranscodeCodec): OffererPayload => ({
    codec,
    rtp: m.rtp.find((r) => Number(r.payload) === p.payloadType) ?? { payload: p.payloadType, codec: codec.name, rate: codec.clockRate },
    fmtp: m.fmtp.find((f) => Number(f.payload) === p.payloadType),
  });
  const aux = (p: PayloadType | undefined): OffererPayload | undefined =>
    p && lines(p, { name: p.encodingName!, clockRate: p.clockRate!, channels: 1, payloadType: p.payloadType });
  const offererEvent = aux(all.find((p) => isEvent(p) && p.clockRate === ownCodec.clockRate) ?? all.find(isEvent));
  const used = new Set(offered.map((c) => c.payloadType));
  const events: TranscodeCodec[] = [];
  if (offererEvent) {
    for (const rate of new Set(offered.map((c) => c.clockRate))) {
      const pt = rate === 8000 && !used.has(EVENT_PT_8000) ? EVENT_PT_8000 : freeDynamic(used);
      used.add(pt);
      events.push({ name: 'telephone-event', clockRate: rate, channels: 1, payloadType: pt });
    }
  }
  const offererCn = ownCodec.clockRate === 8000 && offered.some((c) => c.clockRate === 8000) ? aux(all.find(isCn8000)) : undefined;
  const cn: TranscodeCodec | undefined = offererCn && { name: 'CN', clockRate: 8000, channels: 1, payloadType: CN_PT };

  const o = out.media[index]!;
  const sent = [...offered, ...events, ...(cn ? [cn] : [])];
  o.payloads = sent.map((c) => c.payloadType).join(' ');
  o.rtp = sent.map((c) => ({ payload: c.payloadType, codec: c.name, rate: c.clockRate, ...(c.channels > 1 ? { encoding: c.channels } : {}) }));
  // The events the offerer can receive are the ones the other leg may send (RFC 4733 §2.4.1).
  const eventsFmtp = offererEvent?.fmtp?.config;
  o.fmtp = eventsFmtp === undefined ? [] : events.map((e) => ({ payload: e.payloadType, config: eventsFmtp }));
  delete o.rtcpFb;
  dropOpaqueCodecLines(o);
  return {
    offerer: { name: ownCodec.name, clockRate: ownCodec.clockRate, channels: ownCodec.channels, payloadType: own.payloadType },
    offererRtp: lines(own, { ...ownCodec, payloadType: own.payloadType }).rtp,
    offererFmtp: m.fmtp.find((f) => Number(f.payload) === own.payloadType),
    offered,
    offererEvent,
    events,
    offererCn,
    cn,
  };
}

function freeDynamic(used: ReadonlySet<number>): number {
  for (let pt = 96; pt < 128; pt++) if (!used.has(pt)) return pt;
  return 127; // unreachable: at most a handful are used
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

/** The relay's side of an answered transcoding offer (see answer.ts). */
export interface TranscodeSettlement {
  readonly fromOfferer: [number, number][];
  readonly fromAnswerer: [number, number][];
  /** RTP clock of what is sent to each leg. */
  readonly offererClock: number;
  readonly answererClock: number;
  readonly offererTranscode: TranscodeWire;
  readonly answererTranscode: TranscodeWire;
  /** Rewrites the answer's m= section for the offerer: its own codec, and the events and CN carried. */
  edit(m: SdpMedia): void;
}

/**
 * Settles a transcoding offer with its answer, or undefined when no offered codec was answered.
 * Payload types (RFC 3264 §6.1): the answerer sends with the numbers of our offer, though some send
 * with their answer's, so both are understood; we send it the answer's, and the offerer its own.
 */
export function settleTranscoding(answer: SdpSession, index: number, plan: TranscodePlan, ptimeMs: number): TranscodeSettlement | undefined {
  const x = answeredCodec(answer, index, plan);
  if (!x) return undefined;
  const y = plan.offerer;
  const answered = payloadTypes(answer, index);
  const offeredX = plan.offered.find((o) => o.name === x.name)!;
  // The answer's telephone-event: one we offered, preferably on the answered codec's clock.
  const eventOf = (p: PayloadType): TranscodeCodec | undefined => (isEvent(p) ? plan.events.find((e) => e.clockRate === p.clockRate) : undefined);
  const ae = answered.find((p) => eventOf(p) !== undefined && p.clockRate === x.clockRate) ?? answered.find((p) => eventOf(p) !== undefined);
  const oe = plan.offererEvent?.codec;
  const events = ae !== undefined && oe !== undefined;
  const acn = plan.cn && x.clockRate === 8000 ? answered.find(isCn8000) : undefined;
  const ocn = plan.offererCn?.codec;
  const cn = acn !== undefined && ocn !== undefined;

  const fromOfferer: [number, number][] = [];
  const fromAnswerer: [number, number][] = [];
  const add = (list: [number, number][], from: number, to: number): void => {
    if (!list.some(([f]) => f === from)) list.push([from, to]);
  };
  add(fromOfferer, y.payloadType, x.payloadType);
  add(fromAnswerer, offeredX.payloadType, y.payloadType);
  if (events) {
    add(fromOfferer, oe.payloadType, ae.payloadType);
    add(fromAnswerer, eventOf(ae)!.payloadType, oe.payloadType);
  }
  if (cn) {
    add(fromOfferer, ocn.payloadType, acn.payloadType);
    add(fromAnswerer, CN_PT, ocn.payloadType);
  }
  // Then the answer's own numbers, where they mean nothing else.
  add(fromAnswerer, x.payloadType, y.payloadType);
  if (events) add(fromAnswerer, ae.payloadType, oe.payloadType);
  if (cn) add(fromAnswerer, acn.payloadType, ocn.payloadType);

  const base = { ptimeMs };
  return {
    fromOfferer,
    fromAnswerer,
    offererClock: y.clockRate,
    answererClock: x.clockRate,
    offererTranscode: {
      ...base,
      fromPt: y.payloadType,
      toPt: x.payloadType,
      from: y.name,
      to: x.name,
      ...(events ? { events: { toPt: ae.payloadType, fromClock: oe.clockRate, toClock: ae.clockRate! } } : {}),
      ...(cn ? { cnPt: acn.payloadType } : {}),
    },
    answererTranscode: {
      ...base,
      fromPt: offeredX.payloadType,
      toPt: y.payloadType,
      from: x.name,
      to: y.name,
      ...(events ? { events: { toPt: oe.payloadType, fromClock: ae.clockRate!, toClock: oe.clockRate } } : {}),
      ...(cn ? { cnPt: ocn.payloadType } : {}),
    },
    edit: (m) => {
      const rtp = [plan.offererRtp];
      const fmtp = plan.offererFmtp ? [plan.offererFmtp] : [];
      if (events) {
        rtp.push(plan.offererEvent!.rtp);
        // The events the answerer takes (absent: 0-15, RFC 4733 §2.4.1), under the offerer's number.
        if (ae.fmtp !== undefined) fmtp.push({ payload: oe.payloadType, config: ae.fmtp });
      }
      if (cn) rtp.push(plan.offererCn!.rtp);
      m.payloads = rtp.map((r) => r.payload).join(' ');
      m.rtp = rtp;
      m.fmtp = fmtp;
      delete m.rtcpFb;
      dropOpaqueCodecLines(m);
    },
  };
}

function dropOpaqueCodecLines(m: SdpMedia): void {
  if (!m.invalid) return;
  m.invalid = m.invalid.filter((i) => !/^(rtpmap|fmtp|rtcp-fb):/.test(String(i.value)));
  if (m.invalid.length === 0) delete m.invalid;
}
