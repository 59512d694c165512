/**
 * The answer to a pending offer (RFC 3264 §6, §7): check it against what we offered, settle each
 * leg's side of every stream (keys, RTCP mux, payload types, addresses), write the answer the
 * offering leg receives, and hand the result to the relay. Checks come first: an answer we refuse
 * changes nothing.
 *
 * SDES (RFC 4568 §7.1.2, §7.1.3): the answerer's a=crypto must answer our offer; the offerer's
 * a=crypto is answered now with a fresh key of ours (or the same key for the same offer answered
 * again, 183 then 200). Keys are never shared between legs: each leg's is issued for it alone.
 */
import {
  acceptAnswer,
  answer as answerSdes,
  cryptoAttributeValues,
  endToEndSecurity,
  payloadTypes,
  protocolInfo,
  replaceCrypto,
  rtcpMux,
  selectCodecs,
  setMediaAddress,
  setProtocol,
  setSessionConnection,
  DEFAULT_SDES_PREFERENCE,
  type SdesNegotiation,
  type SdpMedia,
  type SdpSession,
} from '../sdp';
import type { TranscodeWire } from '../relay/protocol';
import { correspond, payloadMaps } from './codecs';
import type { Call, LegIndex, PendingOffer, RemoteMedia, StreamOffer, StreamSide } from './call';
import { MediaEngineError } from './errors';
import { parse, remoteMedia, sends, type EngineContext } from './offer';
import { renumberPayloads, setRtcpMux, stripBundle, stripDtls, stripIce, stripSourceAttributes, stripZrtpHash } from './sdp-edit';
import { settleTranscoding, type TranscodePlan } from './transcoding';
import type { AnswerFlags } from './types';

/** How payloads cross the stream: payload type maps, clocks, transcoders, and the SDP edit for the offerer. */
interface MediaPlan {
  readonly fromOfferer: [number, number][];
  readonly fromAnswerer: [number, number][];
  /** RTP clock of what is sent to each leg. */
  readonly offererClock: number;
  readonly answererClock: number;
  readonly offererTranscode: TranscodeWire | undefined;
  readonly answererTranscode: TranscodeWire | undefined;
  /** Brings the answer's codec lines to what the offerer asked for. */
  edit(out: SdpSession, m: SdpMedia): void;
}

interface Settled {
  readonly so: StreamOffer;
  readonly rejected: boolean;
  readonly answererRemote: RemoteMedia | undefined;
  readonly answererSends: boolean;
  readonly answererSdes: SdesNegotiation | undefined;
  readonly offererSdes: (SdesNegotiation & { value: string }) | undefined;
  readonly offererMux: boolean;
  readonly answererMux: boolean;
  readonly media: MediaPlan | undefined;
}

function transcoded(so: StreamOffer, plan: TranscodePlan, sdp: SdpSession, i: number): MediaPlan {
  // Codec, telephone-event and CN of each side, and the relay's transcoders (transcoding.ts).
  const t = settleTranscoding(sdp, i, plan, so.ptimeMs);
  if (!t) throw new MediaEngineError('answer-mismatch', `stream ${i}: no offered codec answered`);
  return { ...t, edit: (_out, m) => t.edit(m) };
}

function mediaPlan(so: StreamOffer, sdp: SdpSession, i: number): MediaPlan {
  const plan = so.transcode;
  if (plan?.mode === 'required') return transcoded(so, plan, sdp, i);
  // With codecs appended, only the offerer's own are relayed as is; an answer that picked none of
  // them but an appended one is transcoded.
  const own = plan ? so.offeredPayloads.filter((p) => !plan.added.includes(p.payloadType)) : so.offeredPayloads;
  const c = correspond(own, payloadTypes(sdp, i));
  if (plan && !c.codecAnswered) return transcoded(so, plan, sdp, i);
  if (c.pairs.length === 0) throw new MediaEngineError('answer-mismatch', `stream ${i}: no offered codec answered`);
  const maps = payloadMaps(c);
  return {
    ...maps,
    offererClock: c.clockRate,
    answererClock: c.clockRate,
    offererTranscode: undefined,
    answererTranscode: undefined,
    edit: (out, m) => {
      // Only what was offered (RFC 3264 §6.1), in the offerer's numbering: what it asked to receive.
      selectCodecs(out, i, c.pairs.map(([, a]) => a));
      renumberPayloads(m, new Map(c.pairs.map(([o, a]) => [a, o])));
    },
  };
}

function settle(ctx: EngineContext, call: Call, p: PendingOffer, sdp: SdpSession, i: number, flags: AnswerFlags): Settled {
  const so = p.streams[i]!;
  const answerer: LegIndex = p.offerer === 0 ? 1 : 0;
  const m = sdp.media[i]!;
  const none = { answererRemote: undefined, answererSends: false, answererSdes: undefined, offererSdes: undefined, offererMux: false, answererMux: false };
  if (so.disabled || m.port === 0) return { so, rejected: true, ...none, media: undefined };
  const media = mediaPlan(so, sdp, i);
  if (so.direct) return { so, rejected: false, ...none, media };
  const answererRemote = remoteMedia(sdp, i, ctx.family);
  const answererSends = sends(sdp, i);
  if (so.passThrough) {
    const e2e = endToEndSecurity(sdp, i);
    if (flags.requireSecure && !(protocolInfo(m.protocol).dtls || e2e.fingerprint || e2e.zrtpHash)) throw new MediaEngineError('insecure-leg', `stream ${i}`);
    // The endpoints negotiate mux end to end; the engine mirrors it on both sides.
    const mux = rtcpMux(sdp, i);
    return { so, rejected: false, ...none, answererRemote, answererSends, offererMux: mux, answererMux: mux, media };
  }
  const stream = call.streams[i]!;
  let answererSdes: SdesNegotiation | undefined;
  if (so.sdesOffer) {
    answererSdes = acceptAnswer(so.sdesOffer, cryptoAttributeValues(sdp, i), { keyRing: ctx.keyRing, current: stream.sides[answerer].sdes });
  } else if (protocolInfo(m.protocol).secure) {
    throw new MediaEngineError('answer-mismatch', `stream ${i}: SRTP answer to an RTP offer`);
  } else if (flags.requireSecure) {
    throw new MediaEngineError('insecure-leg', `stream ${i}`);
  }
  let offererSdes: (SdesNegotiation & { value: string }) | undefined;
  if (so.offererCrypto) {
    const side = stream.sides[p.offerer];
    offererSdes = answerSdes(so.offererCrypto, flags.sdesSuites ?? p.flags.sdesSuites ?? DEFAULT_SDES_PREFERENCE, {
      keyRing: ctx.keyRing,
      current: side.sdes,
      transport: `${ctx.address}:${side.port}`,
    });
  }
  const muxPolicy = p.flags.rtcpMux ?? 'offer';
  const answererMux = so.offeredMux && rtcpMux(sdp, i);
  if (muxPolicy === 'require' && !answererMux) throw new MediaEngineError('rtcp-mux-required', `stream ${i}`);
  const offererMux = so.offererMux && muxPolicy !== 'never';
  return { so, rejected: false, answererRemote, answererSends, answererSdes, offererSdes, offererMux, answererMux, media };
}

function updateSide(side: StreamSide, remote: RemoteMedia | undefined, fields: Partial<StreamSide>, sdes: SdesNegotiation | undefined): void {
  const moved = side.remote?.address !== remote?.address || side.remote?.rtpPort !== remote?.rtpPort || side.remote?.rtcpPort !== remote?.rtcpPort;
  if (moved) side.relatch = true;
  side.remote = remote;
  Object.assign(side, fields);
  if (sdes) {
    if (sdes.remoteKeyChanged || !side.sdes) side.inGeneration++;
    if (sdes.localKeyChanged || !side.sdes) side.outGeneration++;
    side.sdes = sdes.stream;
  } else {
    side.sdes = undefined;
  }
}

export async function handleAnswer(ctx: EngineContext, call: Call, p: PendingOffer, text: string, flags: AnswerFlags): Promise<string> {
  const sdp = parse(text);
  if (sdp.media.length !== p.streams.length) throw new MediaEngineError('answer-mismatch', 'm= line count differs');
  const offerer = p.offerer;
  const answerer: LegIndex = offerer === 0 ? 1 : 0;
  const settled = sdp.media.map((_, i) => settle(ctx, call, p, sdp, i, flags));
  const out = structuredClone(sdp);
  let anchored = false;
  for (let i = 0; i < settled.length; i++) {
    const s = settled[i]!;
    const m = out.media[i]!;
    if (s.rejected) {
      if (call.streams[i]) await ctx.dropStream(call, i);
      m.port = 0;
      continue;
    }
    const media = s.media!;
    media.edit(out, m);
    if (s.so.direct) {
      if (p.flags.ice === 'strip') stripIce(m);
      stripSourceAttributes(m);
      continue;
    }
    anchored = true;
    const stream = call.streams[i]!;
    const oSide = stream.sides[offerer];
    const aSide = stream.sides[answerer];
    const mode = s.so.passThrough ? 'pass-through' : undefined;
    updateSide(oSide, s.so.offererRemote, {
      mode: mode ?? (s.offererSdes ? 'srtp' : 'rtp'),
      rtcpMux: s.offererMux,
      payloadMap: media.fromOfferer,
      transcode: media.offererTranscode,
      clockRate: media.offererClock,
      sends: s.so.offererSends,
      latch: p.flags.plainLatch ?? 'sdp-host',
    }, s.offererSdes);
    updateSide(aSide, s.answererRemote, {
      mode: mode ?? (s.answererSdes ? 'srtp' : 'rtp'),
      rtcpMux: s.answererMux,
      payloadMap: media.fromAnswerer,
      transcode: media.answererTranscode,
      clockRate: media.answererClock,
      sends: s.answererSends,
      latch: flags.plainLatch ?? 'sdp-host',
    }, s.answererSdes);
    stripIce(m);
    stripSourceAttributes(m);
    const port = oSide.port!;
    if (s.so.passThrough) {
      setMediaAddress(out, i, { address: ctx.address, port, rtcpPort: port + 1 });
      continue;
    }
    setMediaAddress(out, i, { address: ctx.address, port, rtcpPort: s.offererMux ? undefined : port + 1 });
    setProtocol(out, i, s.so.offererProto);
    replaceCrypto(out, i, s.offererSdes ? [s.offererSdes.value] : []);
    stripDtls(m);
    stripZrtpHash(m);
    setRtcpMux(m, s.offererMux);
  }
  if (anchored) {
    setSessionConnection(out, ctx.address);
    stripIce(out);
    stripSourceAttributes(out);
    stripBundle(out);
  }
  let body: string;
  try {
    body = call.origins[offerer].write(out);
  } catch (e) {
    throw MediaEngineError.from(e);
  }
  return body;
}
