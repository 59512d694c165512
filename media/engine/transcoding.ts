/**
 * Transcoding (issue "media plane" §6), on the SDP side: the offer to the other leg lists codecs
 * media/codecs can produce, the answer to the offering leg names the one codec of its own offer the
 * engine will speak to it, and the relay gets a transcoder per direction (media/relay/leg.ts).
 * Two ways in, by the offer's CodecPolicy (types.ts):
 * - 'required' (codecs.transcode): no allowed codec was offered, so the other leg is offered only
 *   the allowed codecs the engine can produce;
 * - 'appended' (codecs.append): the other leg gets the offer's own codecs first, then the
 *   transcodable ones it lacks. An answer that picks one of the offerer's codecs is relayed as
 *   today (answer.ts); only an answer that picks an appended one is transcoded.
 * The engine speaks to the offerer its first transcodable codec with the answered codec's audio
 * rate and clock rate when it offered one (PCMA ↔ PCMU is a table lookup, no resampling, and CN
 * can pass), else its first on the answered clock rate, else its first transcodable codec.
 * G722 (static payload type 9) has an 8000 Hz RTP clock but 16 kHz audio (RFC 3551 §4.5.2).
 *
 * Carried through the transcoder, in its output stream (media/relay/transcode.ts):
 * - RFC 4733 telephone-event, when the offerer offered it: the other leg is offered one per clock
 *   rate of the codecs it is offered (RFC 4733 §2.1: events run on the audio's clock), and the
 *   relay rescales timestamps and durations between the two legs' event clocks;
 * - RFC 3389 CN, only when both legs would run 8 kHz audio (G.711) with CN/8000: its payload does
 *   not depend on the codec, but a CN/8000 next to Opus would put two clocks on one SSRC, and next
 *   to G722 the noise spectrum of 8 kHz audio would stand for 16 kHz audio. Otherwise it
 *   is not negotiated (the endpoints send audio, or nothing, in silences) and a CN packet sent
 *   anyway is dropped and counted ('payload-type').
 * Kept out: RTCP feedback lines (RTCP is terminated per leg on a transcoded stream, rtcp-report.ts).
 */
import type { SdpMedia, SdpSession } from '../sdp';
import { payloadTypes, type PayloadType } from '../sdp';
import { SUPPORTED_CODECS } from '../codecs/table';
import type { TranscodeWire } from '../relay/protocol';
import type { CodecPolicy } from './types';

/** One codec a transcoder speaks on one leg. */
export interface TranscodeCodec {
  /** media/codecs CodecName: 'PCMU' | 'PCMA' | 'G722' | 'opus'; or 'telephone-event', 'CN'. */
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
  /** See the top of this file: 'required' transcodes whatever is answered, 'appended' only an appended codec. */
  readonly mode: 'required' | 'appended';
  /** The offerer's codecs media/codecs supports, in its order: the engine speaks one of them to it. */
  readonly offererCodecs: readonly OffererPayload[];
  /** What the other leg is offered for transcoding, in order. */
  readonly offered: readonly TranscodeCodec[];
  /** The offerer's telephone-events, the first of each clock rate, in its order. */
  readonly offererEvents: readonly OffererPayload[];
  /** telephone-event offered to the other leg, one per clock rate of `offered`. */
  readonly events: readonly TranscodeCodec[];
  /** The offerer's CN/8000 and the CN offered to the other leg, when CN can pass. */
  readonly offererCn: OffererPayload | undefined;
  readonly cn: TranscodeCodec | undefined;
  /**
   * Payload types of the other leg's offer that the offerer did not offer: only a transcoder speaks
   * them, so they never take part in relaying as is ('appended').
   */
  readonly added: readonly number[];
}

/** The codecs media/codecs can create, with their static payload types and audio rates. */
const TRANSCODABLE = SUPPORTED_CODECS;
const CN_PT = 13; // RFC 3551 §6, RFC 3389 §4
const EVENT_PT_8000 = 101; // the number most endpoints use; any free dynamic one would do

function transcodable(p: PayloadType): (typeof TRANSCODABLE)[number] | undefined {
  const name = p.encodingName?.toLowerCase();
  return TRANSCODABLE.find((t) => t.name.toLowerCase() === name && t.clockRate === p.clockRate && t.channels === (p.channels ?? 1));
}

const byName = (name: string): (typeof TRANSCODABLE)[number] | undefined => TRANSCODABLE.find((c) => c.name.toLowerCase() === name.toLowerCase());
const isEvent = (p: PayloadType): boolean => p.encodingName?.toLowerCase() === 'telephone-event' && p.clockRate !== undefined;
const isCn8000 = (p: PayloadType): boolean => p.encodingName?.toLowerCase() === 'cn' && p.clockRate === 8000;

/** What the offerer can be spoken to with: its transcodable codecs, telephone-events and CN/8000. */
interface OffererSide {
  readonly codecs: OffererPayload[];
  readonly events: OffererPayload[];
  readonly cn: OffererPayload | undefined;
}

function offererSide(offer: SdpSession, index: number): OffererSide {
  const m = offer.media[index]!;
  const lines = (p: PayloadType, codec: Omit<TranscodeCodec, 'payloadType'>): OffererPayload => ({
    codec: { name: codec.name, clockRate: codec.clockRate, channels: codec.channels, payloadType: p.payloadType },
    rtp: m.rtp.find((r) => Number(r.payload) === p.payloadType) ?? { payload: p.payloadType, codec: codec.name, rate: codec.clockRate },
    fmtp: m.fmtp.find((f) => Number(f.payload) === p.payloadType),
  });
  const aux = (p: PayloadType): OffererPayload => lines(p, { name: p.encodingName!, clockRate: p.clockRate!, channels: 1 });
  const all = payloadTypes(offer, index);
  const events: OffererPayload[] = [];
  for (const p of all.filter(isEvent)) if (!events.some((e) => e.codec.clockRate === p.clockRate)) events.push(aux(p));
  const cn = all.find(isCn8000);
  return {
    codecs: all.filter((p) => transcodable(p) !== undefined).map((p) => lines(p, transcodable(p)!)),
    events,
    cn: cn && aux(cn),
  };
}

/** PCM rate of a transcodable codec: its clock rate, except G722's 16 kHz under an 8000 Hz clock (RFC 3551 §4.5.2). */
const audioRate = (c: Pick<TranscodeCodec, 'name' | 'clockRate'>): number => byName(c.name)?.audioRate ?? c.clockRate;
/** A codec CN/8000 can stand in for: 8 kHz audio on an 8000 Hz clock (G.711; not G722, not Opus). */
const cnAudio = (c: Pick<TranscodeCodec, 'name' | 'clockRate'>): boolean => c.clockRate === 8000 && audioRate(c) === 8000;

/** CN can pass only between 8 kHz codecs on 8000 Hz clocks (see the top of this file). */
const cnCanPass = (o: OffererSide, offered: readonly TranscodeCodec[]): boolean =>
  o.cn !== undefined && o.codecs.some((c) => cnAudio(c.codec)) && offered.some(cnAudio);

/** The events the offerer can receive are the ones the other leg may send (RFC 4733 §2.4.1). */
function eventsFmtp(o: OffererSide): string | undefined {
  const first = o.events.find((e) => e.codec.clockRate === o.codecs[0]?.codec.clockRate) ?? o.events[0];
  return first?.fmtp?.config === undefined ? undefined : String(first.fmtp.config);
}

function freeDynamic(used: ReadonlySet<number>): number | undefined {
  for (let pt = 96; pt < 128; pt++) if (!used.has(pt)) return pt;
  return undefined;
}

const rtpLine = (c: TranscodeCodec): SdpMedia['rtp'][number] => ({ payload: c.payloadType, codec: c.name, rate: c.clockRate, ...(c.channels > 1 ? { encoding: c.channels } : {}) });

/**
 * The codecs of `names` the engine can produce, numbered around `used` (static numbers when free);
 * `skip` says which ones not to offer.
 */
function transcodedCodecs(names: readonly string[], used: Set<number>, skip: (t: (typeof TRANSCODABLE)[number]) => boolean): TranscodeCodec[] {
  const offered: TranscodeCodec[] = [];
  for (const name of names) {
    const t = byName(name);
    if (!t || offered.some((o) => o.name === t.name) || skip(t)) continue;
    const pt = t.staticPt !== undefined && !used.has(t.staticPt) ? t.staticPt : freeDynamic(used);
    if (pt === undefined) continue;
    used.add(pt);
    offered.push({ name: t.name, clockRate: t.clockRate, channels: t.channels, payloadType: pt });
  }
  return offered;
}

/** A telephone-event per clock rate of `offered`: `existing` when it has that rate, else a new number. */
function eventsFor(offered: readonly TranscodeCodec[], used: Set<number>, existing: (rate: number) => number | undefined): TranscodeCodec[] {
  const events: TranscodeCodec[] = [];
  for (const rate of new Set(offered.map((c) => c.clockRate))) {
    const pt = existing(rate) ?? (rate === 8000 && !used.has(EVENT_PT_8000) ? EVENT_PT_8000 : freeDynamic(used));
    if (pt === undefined) continue;
    used.add(pt);
    events.push({ name: 'telephone-event', clockRate: rate, channels: 1, payloadType: pt });
  }
  return events;
}

/**
 * 'required': rewrites stream `index` of `out` (the copy going to the other leg) to offer the
 * allowed transcodable codecs, with telephone-event and CN as above, and returns the plan;
 * undefined when either side has no codec media/codecs supports.
 */
export function planTranscoding(offer: SdpSession, out: SdpSession, index: number, policy: CodecPolicy): TranscodePlan | undefined {
  const o = offererSide(offer, index);
  if (o.codecs.length === 0) return undefined;
  const used = new Set<number>();
  const offered = transcodedCodecs(policy.allow ?? [], used, () => false);
  if (offered.length === 0) return undefined;
  const events = o.events.length > 0 ? eventsFor(offered, used, () => undefined) : [];
  const cn: TranscodeCodec | undefined = cnCanPass(o, offered) ? { name: 'CN', clockRate: 8000, channels: 1, payloadType: CN_PT } : undefined;

  const m = out.media[index]!;
  const sent = [...offered, ...events, ...(cn ? [cn] : [])];
  m.payloads = sent.map((c) => c.payloadType).join(' ');
  m.rtp = sent.map(rtpLine);
  const fmtp = eventsFmtp(o);
  m.fmtp = fmtp === undefined ? [] : events.map((e) => ({ payload: e.payloadType, config: fmtp }));
  delete m.rtcpFb;
  dropOpaqueCodecLines(m);
  return { mode: 'required', offererCodecs: o.codecs, offered, offererEvents: o.events, events, offererCn: cn && o.cn, cn, added: sent.map((c) => c.payloadType) };
}

/**
 * 'appended': adds to stream `index` of `out` (the offer after the codec policy's filter) the codecs
 * of `policy.append` it lacks, allowed and transcodable, after its own codecs, and telephone-event
 * for their clock rates when the offerer has none on it; returns the plan, or undefined (nothing
 * appended) when the offerer has no transcodable codec or lacks none of them.
 */
export function appendTranscodable(offer: SdpSession, out: SdpSession, index: number, policy: CodecPolicy): TranscodePlan | undefined {
  const o = offererSide(offer, index);
  if (o.codecs.length === 0 || !policy.append) return undefined;
  const kept = payloadTypes(out, index);
  const allow = policy.allow?.map((n) => n.toLowerCase());
  const used = new Set(kept.map((p) => p.payloadType));
  const offered = transcodedCodecs(policy.append, used, (t) =>
    kept.some((p) => transcodable(p) === t) || (allow !== undefined && !allow.includes(t.name.toLowerCase())));
  if (offered.length === 0) return undefined;
  const keptEvent = (rate: number): number | undefined => kept.find((p) => isEvent(p) && p.clockRate === rate)?.payloadType;
  const events = o.events.length > 0 ? eventsFor(offered, used, keptEvent) : [];
  const keptCn = kept.find(isCn8000);
  const cn: TranscodeCodec | undefined = cnCanPass(o, offered) && keptCn ? { name: 'CN', clockRate: 8000, channels: 1, payloadType: keptCn.payloadType } : undefined;

  const m = out.media[index]!;
  const newEvents = events.filter((e) => keptEvent(e.clockRate) === undefined);
  const keptCodecs = kept.filter((p) => !isEvent(p) && p.encodingName?.toLowerCase() !== 'cn').map((p) => p.payloadType);
  const keptAux = kept.map((p) => p.payloadType).filter((pt) => !keptCodecs.includes(pt));
  // After the offerer's own codecs: an answerer that follows the offer's preference (RFC 3264 §6.1) picks a common one.
  const order = [...keptCodecs, ...offered.map((c) => c.payloadType), ...keptAux, ...newEvents.map((e) => e.payloadType)];
  const rank = (payload: number | string): number => order.indexOf(Number(payload));
  m.payloads = order.join(' ');
  m.rtp = [...m.rtp, ...offered.map(rtpLine), ...newEvents.map(rtpLine)].sort((x, y) => rank(x.payload) - rank(y.payload));
  const fmtp = eventsFmtp(o);
  if (fmtp !== undefined) m.fmtp = [...m.fmtp, ...newEvents.map((e) => ({ payload: e.payloadType, config: fmtp }))].sort((x, y) => rank(x.payload) - rank(y.payload));
  const added = [...offered, ...newEvents].map((c) => c.payloadType);
  return { mode: 'appended', offererCodecs: o.codecs, offered, offererEvents: o.events, events, offererCn: cn && o.cn, cn, added };
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
  const own =
    plan.offererCodecs.find((c) => c.codec.clockRate === x.clockRate && audioRate(c.codec) === audioRate(x)) ??
    plan.offererCodecs.find((c) => c.codec.clockRate === x.clockRate) ??
    plan.offererCodecs[0]!;
  const y = own.codec;
  const answered = payloadTypes(answer, index);
  const offeredX = plan.offered.find((o) => o.name === x.name)!;
  // The answer's telephone-event: one we offered, preferably on the answered codec's clock.
  const eventOf = (p: PayloadType): TranscodeCodec | undefined => (isEvent(p) ? plan.events.find((e) => e.clockRate === p.clockRate) : undefined);
  const ae = answered.find((p) => eventOf(p) !== undefined && p.clockRate === x.clockRate) ?? answered.find((p) => eventOf(p) !== undefined);
  // The offerer's, preferably on the clock of the codec we speak to it.
  const offererEvent = plan.offererEvents.find((e) => e.codec.clockRate === y.clockRate) ?? plan.offererEvents[0];
  const oe = offererEvent?.codec;
  const events = ae !== undefined && oe !== undefined;
  const acn = plan.cn && cnAudio(x) && cnAudio(y) ? answered.find(isCn8000) : undefined;
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
    add(fromAnswerer, plan.cn!.payloadType, ocn.payloadType);
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
      const rtp = [own.rtp];
      const fmtp = own.fmtp ? [own.fmtp] : [];
      if (events) {
        rtp.push(offererEvent!.rtp);
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
