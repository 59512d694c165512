/**
 * The relay's native fast path (io/native/src/fastpath.c) as the legs use it: a rule per receiving
 * leg, placed once the leg's stream is settled, that relays the stream's packets in C without
 * calling JavaScript, and the state it carries between the two.
 *
 * A rule is the receive path of leg R and the send path toward the other leg S (leg.ts) for one
 * case: R latched, one SSRC, no transcoding, both legs plain RTP or SRTP on the native transforms.
 * It owns, while placed: R's token bucket, R's replay window of that SSRC, R's sequence tracker,
 * S's continuity rewriter's last-sent fields, S's sending window; and it counts what it relays or
 * drops. JavaScript takes the rule back (state and counters into the objects) before it touches
 * any of that: a packet of R's RTP port that the rule did not relay, a configure, a close; it reads
 * the counters without taking the rule (stats, the inactivity sweep). Nothing else the rule owns
 * changes meanwhile: a source change, a new key, a transcoder all happen in JavaScript.
 */
import type { NativeUdpIo, NativeUdpIoAddon } from './io/native';
import type { ReplayWindow } from '../srtp/replay';
import type { SequenceTracker } from './sequence';
import type { TransportAddress } from './protocol';

/** The state fields, in the addon's order (checked against its FAST_FIELDS: no fast path if they differ). */
const FIELDS = [
  'tokens',
  'rate',
  'ssrc',
  'inTag',
  'inTop',
  'inSize',
  'outTag',
  'outTop',
  'outSize',
  'seqBase',
  'seqMax',
  'seqCycles',
  'seqReceived',
  'seqBad',
  'seqLostAtRestart',
  'lostBefore',
  'rewriting',
  'outSsrc',
  'seqOffset',
  'tsOffset',
  'lastOutSeq',
  'lastOutTs',
  'lastOutAgoMs',
  'acceptedAgoMs',
  'rxPackets',
  'rxBytes',
  'txPackets',
  'txBytes',
  'dropFlood',
  'dropMalformed',
  'dropPayloadType',
  'dropSrtpError',
  'sendErrors',
] as const;
export type FastField = (typeof FIELDS)[number];
const F = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<FastField, number>;

/** The sequence tracker's fields and the state fields that carry them, one list for both ways (place, restoreTracker). */
const TRACKER = [
  ['seqBase', 'baseSeq'],
  ['seqMax', 'maxSeq'],
  ['seqCycles', 'cycles'],
  ['seqReceived', 'received'],
  ['seqBad', 'badSeq'],
  ['seqLostAtRestart', 'lostAtRestart'],
] as const satisfies readonly (readonly [FastField, keyof SequenceTracker])[];

/** One SRTP side of a rule (SrtpContext.fastRtp). */
export interface FastSrtpSide {
  readonly session: object;
  readonly tagLength: number;
  readonly window: ReplayWindow;
}

/** The continuity rewriter's part (ContinuityRewriter.fastState). */
export interface FastRewriter {
  readonly outSsrc: number;
  readonly rewriting: boolean;
  readonly seqOffset: number;
  readonly tsOffset: number;
  readonly lastOutSeq: number;
  readonly lastOutTs: number;
}

export interface FastPlacement {
  /** R's RTP and RTCP sockets, S's RTP socket (the addon's ids). */
  readonly rtpId: number;
  readonly rtcpId: number;
  readonly txId: number;
  /** R's latched source, and where S's packets go. */
  readonly source: TransportAddress;
  readonly dest: TransportAddress;
  /** R's payload type → S's; ≥ 128: not negotiated. */
  readonly payloadMap: Uint8Array;
  readonly tokens: number;
  readonly rate: number;
  readonly tracker: SequenceTracker;
  readonly rewriter: FastRewriter;
  readonly inSide: FastSrtpSide | undefined;
  readonly outSide: FastSrtpSide | undefined;
}

export class FastRules {
  /** The state array handed over and taken back (one per thread: calls never overlap). */
  private readonly state: Float64Array;
  private readonly words: number;

  private constructor(
    private readonly io: NativeUdpIo,
    addon: NativeUdpIoAddon,
  ) {
    this.state = new Float64Array(addon.FAST_STATE_LENGTH);
    this.words = addon.FAST_WINDOW_WORDS;
  }

  /** The fast path of `io`, or undefined when the addon's fields are not the ones this file knows. */
  static of(addon: NativeUdpIoAddon, io: NativeUdpIo): FastRules | undefined {
    const same = addon.FAST_FIELDS.length === FIELDS.length && FIELDS.every((f, i) => addon.FAST_FIELDS[i] === f);
    return same && addon.FAST_STATE_LENGTH === FIELDS.length + 2 * addon.FAST_WINDOW_WORDS ? new FastRules(io, addon) : undefined;
  }

  /** Largest replay window a rule carries, in packets. */
  get maxWindow(): number {
    return this.words * 32;
  }

  /** Places the rule of `p.rtpId` (replacing one there); false when the addon refuses it (then JavaScript relays). */
  place(p: FastPlacement): boolean {
    const s = this.state;
    s.fill(0);
    s[F.tokens] = p.tokens;
    s[F.rate] = p.rate;
    s[F.ssrc] = p.tracker.ssrc;
    this.putSide(p.inSide, F.inTag, F.inTop, F.inSize, FIELDS.length);
    this.putSide(p.outSide, F.outTag, F.outTop, F.outSize, FIELDS.length + this.words);
    for (const [field, key] of TRACKER) s[F[field]] = p.tracker[key];
    const r = p.rewriter;
    s[F.rewriting] = r.rewriting ? 1 : 0;
    s[F.outSsrc] = r.outSsrc;
    s[F.seqOffset] = r.seqOffset;
    s[F.tsOffset] = r.tsOffset;
    s[F.lastOutSeq] = r.lastOutSeq;
    s[F.lastOutTs] = r.lastOutTs;
    try {
      this.io.fastPlace(
        p.rtpId,
        p.rtcpId,
        p.txId,
        p.source.address,
        p.source.port,
        p.dest.address,
        p.dest.port,
        s,
        p.payloadMap,
        p.inSide?.session ?? null,
        p.outSide?.session ?? null,
      );
      return true;
    } catch {
      return false; // e.g. a destination of the other address family: JavaScript relays (and counts the send errors)
    }
  }

  /**
   * Reads the rule of `rtpId` into the state (`remove`: and takes it away): false when there is
   * none. Then `get` reads the fields, `restoreWindows` puts the windows back.
   */
  take(rtpId: number, remove: boolean): boolean {
    try {
      return this.io.fastTake(rtpId, this.state, remove);
    } catch {
      return false; // the socket is closed: so is its rule
    }
  }

  get(field: FastField): number {
    return this.state[F[field]]!;
  }

  /** The windows as the last take gave them, into the sides' own ReplayWindow objects. */
  restoreWindows(inSide: FastSrtpSide | undefined, outSide: FastSrtpSide | undefined): void {
    const s = this.state;
    const at = FIELDS.length;
    inSide?.window.restore(s[F.inTop]!, s.subarray(at, at + this.words));
    outSide?.window.restore(s[F.outTop]!, s.subarray(at + this.words, at + 2 * this.words));
  }

  /** The tracker's fields as the last take gave them. */
  restoreTracker(t: SequenceTracker): void {
    for (const [field, key] of TRACKER) t[key] = this.get(field);
  }

  private putSide(side: FastSrtpSide | undefined, tag: number, top: number, size: number, wordsAt: number): void {
    if (side === undefined) return;
    const s = this.state;
    s[tag] = side.tagLength;
    s[top] = side.window.highest;
    s[size] = side.window.size;
    const w = side.window.words;
    for (let i = 0; i < w.length; i++) s[wordsAt + i] = w[i]!;
  }
}
