/**
 * What the engine remembers of one call: its two legs (by dialog tag: the first offerer is leg 0,
 * its answerer leg 1), one stream per m= line with each leg's side of it, and the offer waiting for
 * its answer (RFC 3264 §4: one offer/answer exchange at a time per dialog).
 */
import type { PayloadType, SdesOffer, SdesStream } from '../sdp';
import type { LegMode, LegWire, PlainLatchPolicy, SrtpKeyWire, StreamWire, TranscodeWire } from '../relay/protocol';
import { OriginStamp } from './sdp-edit';
import type { TranscodePlan } from './transcoding';
import type { OfferFlags, StreamMode } from './types';

export type LegIndex = 0 | 1;

export interface RemoteMedia {
  readonly address: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
}

/** One leg's side of one stream. */
export class StreamSide {
  /** Local RTP port facing this leg (RTCP = +1); undefined for direct or disabled streams. */
  port: number | undefined;
  remote: RemoteMedia | undefined;
  mode: StreamMode = 'pending';
  rtcpMux = false;
  sdes: SdesStream | undefined;
  /** Bumped whenever the leg's key (in) or ours for it (out) changes; the relay rekeys only then. */
  inGeneration = 0;
  outGeneration = 0;
  sentInGeneration = -1;
  sentOutGeneration = -1;
  payloadMap: (readonly [number, number])[] = [];
  /** Transcoding of what this leg sends, when the legs share no codec. */
  transcode: TranscodeWire | undefined;
  clockRate = 8000;
  sends = false;
  latch: PlainLatchPolicy = 'sdp-host';
  /** The remote address changed: the relay must forget the latched one (sent once). */
  relatch = false;

  /** Back to "not negotiated" (a rejected stream, a forgotten answerer). */
  reset(): void {
    this.remote = undefined;
    this.mode = 'pending';
    this.rtcpMux = false;
    this.sdes = undefined;
    this.payloadMap = [];
    this.transcode = undefined;
    this.sends = false;
    this.relatch = true;
  }
}

export class StreamState {
  readonly sides: [StreamSide, StreamSide] = [new StreamSide(), new StreamSide()];
  /** Whether the relay has this stream's sockets open. */
  opened = false;

  constructor(
    /** Engine-wide id, the relay's key. */
    readonly id: number,
    readonly index: number,
    public mediaType: string,
  ) {}

  /** The relay's view; key bytes are copied in only for generations the relay has not seen. */
  wire(callId: string, tags: readonly [string, string | undefined]): StreamWire {
    const leg = (i: LegIndex): LegWire => {
      const s = this.sides[i];
      const mode: LegMode = s.mode === 'rtp' ? 'rtp' : s.mode === 'srtp' ? 'srtp' : s.mode === 'pass-through' ? 'opaque' : 'pending';
      const key = (which: 'in' | 'out'): SrtpKeyWire | undefined => {
        if (mode !== 'srtp' || !s.sdes) return undefined;
        const k = which === 'in' ? s.sdes.remote : s.sdes.local;
        const generation = which === 'in' ? s.inGeneration : s.outGeneration;
        const sent = which === 'in' ? s.sentInGeneration : s.sentOutGeneration;
        if (generation === sent) return { generation, profile: s.sdes.suite };
        return { generation, profile: s.sdes.suite, masterKey: Uint8Array.from(k.masterKey), masterSalt: Uint8Array.from(k.masterSalt), ...(k.mki && { mki: Uint8Array.from(k.mki) }) };
      };
      return {
        tag: tags[i] ?? '',
        mode,
        rtcpMux: s.rtcpMux,
        remote: s.remote,
        latch: s.latch,
        relatch: s.relatch,
        srtpIn: key('in'),
        srtpOut: key('out'),
        payloadMap: s.payloadMap,
        transcode: s.mode === 'rtp' || s.mode === 'srtp' ? s.transcode : undefined,
        clockRate: s.clockRate,
        sends: s.sends,
      };
    };
    return { streamId: this.id, callId, index: this.index, legs: [leg(0), leg(1)] };
  }

  /** After the relay accepted `wire()`: what it now knows. */
  sent(): void {
    for (const s of this.sides) {
      s.sentInGeneration = s.inGeneration;
      s.sentOutGeneration = s.outGeneration;
      s.relatch = false;
    }
  }
}

/** One m= line of the pending offer, as the answer will need it. */
export interface StreamOffer {
  /** Not relayed: port 0, or not RTP. */
  readonly disabled: boolean;
  readonly passThrough: boolean;
  readonly direct: boolean;
  /** The offerer's m= proto token, which the answer to it must repeat (RFC 3264 §6). */
  readonly offererProto: string;
  /** The offerer's a=crypto values when it is keyed by SDES (terminated). */
  readonly offererCrypto: readonly string[] | undefined;
  readonly offererRemote: RemoteMedia | undefined;
  readonly offererSends: boolean;
  readonly offererMux: boolean;
  /** What we offered the answerer: payload types (offerer's numbering), SDES, mux. */
  readonly offeredPayloads: readonly PayloadType[];
  /** Set when the legs share no allowed codec and the engine transcodes. */
  readonly transcode: TranscodePlan | undefined;
  /** Packet duration for transcoders (a=ptime of the offer, else 20). */
  readonly ptimeMs: number;
  readonly sdesOffer: SdesOffer | undefined;
  readonly offeredMux: boolean;
}

export interface PendingOffer {
  readonly offerer: LegIndex;
  readonly flags: OfferFlags;
  readonly streams: readonly StreamOffer[];
}

export class Call {
  readonly createdAt = Date.now();
  readonly tags: [string, string | undefined];
  readonly origins: [OriginStamp, OriginStamp];
  readonly streams: (StreamState | undefined)[] = [];
  pending: PendingOffer | undefined;
  /**
   * The offers written for named branches (OfferFlags.branch) of the pending offer/answer round:
   * parallel forks each hold their own SDES keys until one of them answers or is forgotten.
   */
  readonly branches = new Map<string, PendingOffer>();

  constructor(
    readonly id: string,
    /** The relay (worker) carrying this call. */
    readonly slot: number,
    offererTag: string,
    address: string,
  ) {
    this.tags = [offererTag, undefined];
    this.origins = [new OriginStamp(address), new OriginStamp(address)];
  }

  legOf(tag: string): LegIndex | undefined {
    if (this.tags[0] === tag) return 0;
    if (this.tags[1] === tag) return 1;
    return undefined;
  }

  openStreams(): StreamState[] {
    return this.streams.filter((s): s is StreamState => s !== undefined && s.opened);
  }

  /** Overwrites every SDES key this call holds (ours and the legs'): called when the call ends. */
  wipeKeys(): void {
    for (const s of this.streams) {
      for (const side of s?.sides ?? []) {
        wipe(side.sdes?.local);
        wipe(side.sdes?.remote);
      }
    }
    for (const p of [this.pending, ...this.branches.values()]) wipeOffer(p);
    this.branches.clear();
  }

  /** Forgets the offer written for `branch` (a fork that failed), overwriting the keys it held. */
  forgetBranch(branch: string): void {
    const p = this.branches.get(branch);
    if (p === undefined) return;
    this.branches.delete(branch);
    this.wipeUnused(p);
  }

  /** A new offer/answer round without branches: the previous round's branch offers go. */
  clearBranches(): void {
    for (const p of this.branches.values()) this.wipeUnused(p);
    this.branches.clear();
  }

  /**
   * The offer an answer from `toTag` settles: the one written for its branch; an offer written for
   * a branch is never answered from another (its keys were that branch's alone).
   */
  offerFor(toTag: string): PendingOffer | undefined {
    const p = this.branches.get(toTag);
    if (p !== undefined) return p;
    return this.pending?.flags.branch === undefined ? this.pending : undefined;
  }

  /** Overwrites the keys we offered in `p` that no stream uses (the answered suite's key may be live). */
  private wipeUnused(p: PendingOffer): void {
    const live = new Set<Buffer>();
    for (const s of this.streams) for (const side of s?.sides ?? []) if (side.sdes) live.add(side.sdes.local.masterKey);
    wipeOffer(p, live);
  }
}

function wipe(k: { masterKey: Buffer; masterSalt: Buffer } | undefined): void {
  k?.masterKey.fill(0);
  k?.masterSalt.fill(0);
}

/** Overwrites the SDES keys we offered in `p`, but those in `keep` (in use by a stream). */
function wipeOffer(p: PendingOffer | undefined, keep: ReadonlySet<Buffer> = new Set()): void {
  for (const so of p?.streams ?? []) {
    for (const c of so.sdesOffer?.cryptos ?? []) if (!keep.has(c.key.masterKey)) wipe(c.key);
  }
}
