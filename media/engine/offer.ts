/**
 * An offer through the engine (RFC 3264 §5, §8): check the offering leg's description, get the
 * relay ports, and write the description the other leg receives. Nothing is committed before every
 * stream passed its checks, so a refused offer (488) leaves a call as it was.
 */
import {
  connectionAddress,
  cryptoAttributeValues,
  direction,
  endToEndSecurity,
  makeOffer,
  mediaPort,
  parseSdp,
  payloadTypes,
  protocolInfo,
  replaceCrypto,
  rtcpAddress,
  rtcpMux,
  holdState,
  setDirection,
  setMediaAddress,
  setProtocol,
  setSessionConnection,
  DEFAULT_SDES_PREFERENCE,
  isUnspecifiedAddress,
  ptime,
  type SdesKeyRing,
  type SdpSession,
} from '../sdp';
import { applyCodecPolicy } from './codecs';
import type { Call, LegIndex, RemoteMedia, StreamOffer, StreamState } from './call';
import { MediaEngineError } from './errors';
import { canonicalAddress, setRtcpMux, stripBundle, stripDtls, stripIce, stripSourceAttributes, stripZrtpHash } from './sdp-edit';
import { appendTranscodable, planTranscoding, type TranscodePlan } from './transcoding';
import type { OfferFlags } from './types';

/** a=ptime as a transcoder frame (whole ms, 10–120), else 20 ms. */
function transcoderPtime(ms: number | undefined): number {
  return ms !== undefined && Number.isInteger(ms) && ms >= 10 && ms <= 120 ? ms : 20;
}

/** What offer and answer handling need from the engine. */
export interface EngineContext {
  /** The engine's address as written in SDP. */
  readonly address: string;
  readonly family: 4 | 6;
  readonly keyRing: SdesKeyRing;
  readonly allowDirectMedia: boolean;
  /** The stream at `index`, its ports allocated and bound on the call's relay. */
  ensureStream(call: Call, index: number, mediaType: string): Promise<StreamState>;
  /** Closes a stream on the relay and frees its ports. */
  dropStream(call: Call, index: number): Promise<void>;
}

export function parse(sdp: string) {
  try {
    return parseSdp(sdp);
  } catch (e) {
    throw MediaEngineError.from(e);
  }
}

/** The media address a leg announced (c=, m= port, a=rtcp), or undefined on hold (0.0.0.0). */
export function remoteMedia(sdp: SdpSession, index: number, family: 4 | 6): RemoteMedia | undefined {
  const c = connectionAddress(sdp, index);
  if (!c || isUnspecifiedAddress(c.address)) return undefined;
  if (c.family !== family) throw new MediaEngineError('address-family', `stream ${index}`);
  const rtpPort = mediaPort(sdp, index);
  return { address: canonicalAddress(c.address), rtpPort, rtcpPort: rtcpAddress(sdp, index)?.port ?? rtpPort + 1 };
}

export const sends = (sdp: SdpSession, index: number): boolean => {
  const d = direction(sdp, index);
  return d === 'sendrecv' || d === 'sendonly';
};

/** Checks one offered stream against the flags; returns how it will be carried. Throws 488s. */
function classify(sdp: SdpSession, i: number, flags: OfferFlags, ctx: EngineContext) {
  const m = sdp.media[i]!;
  const info = protocolInfo(m.protocol);
  const crypto = cryptoAttributeValues(sdp, i);
  const e2e = endToEndSecurity(sdp, i);
  if (!info.rtp || m.port === 0) return { disabled: true, passThrough: false, direct: false, sdes: false };
  if (flags.transport === 'pass-through') {
    if (crypto.length > 0 && !info.dtls) throw new MediaEngineError('sdes-in-pass-through', `stream ${i}`);
    if (flags.requireSecure && !(info.dtls || e2e.fingerprint || e2e.zrtpHash)) throw new MediaEngineError('insecure-leg', `stream ${i}`);
    const direct = flags.directMedia === true && ctx.allowDirectMedia;
    if (!direct) remoteMedia(sdp, i, ctx.family); // family check
    return { disabled: false, passThrough: true, direct, sdes: false };
  }
  // Terminated: DTLS-SRTP would need the engine to run DTLS; it only passes it through.
  if (info.dtls || (e2e.fingerprint && crypto.length === 0)) throw new MediaEngineError('unsupported-transport', `stream ${i}: DTLS-SRTP`);
  const sdes = crypto.length > 0;
  if (info.secure && !sdes) throw new MediaEngineError('unsupported-transport', `stream ${i}: SRTP without a=crypto`);
  if (flags.requireSecure && !sdes) throw new MediaEngineError('insecure-leg', `stream ${i}`);
  remoteMedia(sdp, i, ctx.family);
  return { disabled: false, passThrough: false, direct: false, sdes };
}

export async function handleOffer(ctx: EngineContext, call: Call, offerer: LegIndex, text: string, flags: OfferFlags): Promise<string> {
  const sdp = parse(text);
  const answerer: LegIndex = offerer === 0 ? 1 : 0;
  const out = structuredClone(sdp);
  // Pass 1: checks (and the codec policy on the copy), no side effect.
  const plans = sdp.media.map((m, i) => {
    const plan = classify(sdp, i, flags, ctx);
    let transcode: TranscodePlan | undefined;
    if (!plan.disabled) {
      // Never for media end to end: the engine cannot read it, and direct media never reaches it.
      const terminated = !plan.passThrough && !plan.direct;
      try {
        applyCodecPolicy(out, i, flags.codecs);
      } catch (e) {
        // No allowed codec offered: transcode when allowed and possible.
        const allowed = e instanceof MediaEngineError && e.code === 'transcoding-unavailable' && terminated;
        transcode = allowed ? planTranscoding(sdp, out, i, flags.codecs!) : undefined;
        if (!transcode) throw e;
      }
      // Codecs the offer lacks, after its own: used only if the answer picks one (transcoding.ts).
      if (!transcode && terminated && flags.codecs?.append) transcode = appendTranscodable(sdp, out, i, flags.codecs);
    }
    return { ...plan, mediaType: m.type, transcode };
  });
  // Pass 2: relay ports.
  for (let i = 0; i < plans.length; i++) {
    const p = plans[i]!;
    if (p.disabled || p.direct) {
      if (call.streams[i]) await ctx.dropStream(call, i);
    } else {
      await ctx.ensureStream(call, i, p.mediaType);
    }
  }
  // Pass 3: the description for the answerer.
  const muxPolicy = flags.rtcpMux ?? 'offer';
  const sameAnswerer = flags.branch === undefined || flags.branch === call.tags[answerer];
  const streams: StreamOffer[] = plans.map((p, i): StreamOffer => {
    const m = out.media[i]!;
    const offererMux = rtcpMux(sdp, i);
    const base = {
      disabled: p.disabled,
      passThrough: p.passThrough,
      direct: p.direct,
      offererProto: m.protocol,
      offererCrypto: p.sdes ? cryptoAttributeValues(sdp, i) : undefined,
      offererRemote: p.disabled || p.direct ? undefined : remoteMedia(sdp, i, ctx.family),
      offererSends: sends(sdp, i),
      offererMux,
      transcode: p.transcode,
      ptimeMs: transcoderPtime(ptime(sdp, i)),
    };
    if (p.disabled) {
      m.port = 0;
      return { ...base, offeredPayloads: [], sdesOffer: undefined, offeredMux: false };
    }
    if (p.direct) {
      if (flags.ice === 'strip') stripIce(m);
      stripSourceAttributes(m);
      return { ...base, offeredPayloads: payloadTypes(out, i), sdesOffer: undefined, offeredMux: offererMux };
    }
    const side = call.streams[i]!.sides[answerer];
    const port = side.port!;
    stripIce(m);
    stripSourceAttributes(m);
    // RFC 3264 §8.4: c=0.0.0.0 (RFC 2543 hold) means "do not send to me"; our address replaces
    // it, so the direction must say it instead.
    if (holdState(sdp, i) === 'zero-address') setDirection(out, i, direction(sdp, i) === 'recvonly' ? 'inactive' : 'sendonly');
    if (p.passThrough) {
      // End to end: protocol, a=fingerprint, a=setup, a=zrtp-hash and a=rtcp-mux are the endpoints'.
      setMediaAddress(out, i, { address: ctx.address, port, rtcpPort: port + 1 });
      return { ...base, offeredPayloads: payloadTypes(out, i), sdesOffer: undefined, offeredMux: offererMux };
    }
    setMediaAddress(out, i, { address: ctx.address, port, rtcpPort: muxPolicy === 'require' ? undefined : port + 1 });
    setProtocol(out, i, flags.transport);
    stripDtls(m);
    stripZrtpHash(m);
    setRtcpMux(m, muxPolicy !== 'never', muxPolicy === 'require');
    let sdesOffer;
    if (flags.transport === 'RTP/SAVP') {
      sdesOffer = makeOffer(flags.sdesSuites ?? DEFAULT_SDES_PREFERENCE, {
        keyRing: ctx.keyRing,
        // A re-offer keeps the key of the leg that holds it (RFC 4568 §7.1.4); an offer written for
        // another branch (a parallel fork, the next trunk) never inherits it.
        current: sameAnswerer ? side.sdes : undefined,
        transport: `${ctx.address}:${port}`,
      });
    }
    replaceCrypto(out, i, sdesOffer?.values ?? []);
    return { ...base, offeredPayloads: payloadTypes(out, i), sdesOffer, offeredMux: muxPolicy !== 'never' };
  });
  if (plans.some((p) => !p.disabled && !p.direct)) {
    setSessionConnection(out, ctx.address);
    stripIce(out);
    stripSourceAttributes(out);
    stripBundle(out);
    if (plans.every((p) => p.disabled || !p.passThrough)) {
      stripDtls(out);
      stripZrtpHash(out);
    }
  }
  if (flags.branch === undefined) call.clearBranches();
  else call.forgetBranch(flags.branch); // a retry's fresh offer replaces the refused one
  call.pending = { offerer, flags, streams };
  if (flags.branch !== undefined) call.branches.set(flags.branch, call.pending);
  try {
    return call.origins[answerer].write(out);
  } catch (e) {
    throw MediaEngineError.from(e);
  }
}
