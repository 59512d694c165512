/**
 * One leg of a relayed stream: the local socket pair facing one endpoint, and the per-packet path
 * for what that endpoint sends (receive side) and what is sent to it (send side).
 *
 * Receive, in this order, cheapest refusal first (nothing reaches the other leg before all pass):
 *   1. rate limit (token bucket)                                      → 'flood'
 *   2. negotiated?                                                    → 'not-negotiated'
 *   3. source: the latched address; before latching, SRTP legs let anyone try step 5, plain legs
 *      only the SDP host (RFC 3550 §8.2 symmetric RTP, RFC 4961)      → 'unexpected-source'
 *   4. RTP/RTCP well-formed (RFC 3550 §5.1, §A.2)                     → 'malformed'
 *   5. SRTP authenticate + decrypt (RFC 3711 §3.3)                    → 'srtp-auth' / 'srtp-replay'
 *   6. payload type negotiated on this leg, mapped to the other leg's number → 'payload-type'
 *      (a transcoded leg: audio, telephone-event or CN its transcoder knows, transcode.ts)
 *   7. only now latch the source (latch.ts)                           (never before authentication)
 * Send: payload type, SSRC/sequence/timestamp continuity, SRTP protect, sendto.
 * RTCP is forwarded with its SSRCs translated, except on a transcoded stream, where each leg's
 * RTCP ends here and the leg gets reports of ours instead (rtcp-report.ts).
 * Pass-through legs, with the engine's in-kernel forwarder (offload.ts): once both legs are
 * 'opaque' and a leg's source is latched here, the kernel relays that source's packets itself;
 * this thread counts them from the forwarder's counters (harvestKernel) and still sees the rest.
 * RTP and SRTP legs, with the native fast path (fast.ts): once a leg's source is latched and its
 * stream settled, steps 1–7 and the send of that source's RTP run in C (placeFast); the leg takes
 * the state back (syncFast) before this path runs for any packet of its RTP port, and re-places it after.
 */
import { SrtpAuthError, SrtpFormatError, SrtpReplayError, type SrtpContext } from '../srtp';
import { ContinuityRewriter, RtcpTranslation } from './continuity';
import { admissible, latchOn, type Latch } from './latch';
import type { LegMode, LegWire, PlainLatchPolicy, TransportAddress } from './protocol';
import { followPeerSrtcpTag, rekey } from './srtp-keys';
import { LegTranscoder } from './transcode';
import { isValidRtcp, senderReportOf, translateRtcp } from './rtcp';
import { RtcpReporter } from './rtcp-report';
import {
  isMultiplexedMediaOctet,
  isRtcpOnMuxedPort,
  payloadOctets,
  payloadType,
  RTP_HEADER_LENGTH,
  rtpHeaderLength,
  sequenceNumber,
  setPayloadType,
  ssrc,
  timestamp,
} from './rtp';
import type { Component, LegOffload } from './offload';
import type { FastRules, FastSrtpSide } from './fast';
import type { RelaySocket, Source } from './io/sockets';
import { DROP, LegCounters } from './stats';

const NO_PT = 255;
/** The fast path's drop counters (fast.ts) and the reasons they count. */
const FAST_DROPS = [
  ['dropFlood', DROP.flood],
  ['dropMalformed', DROP.malformed],
  ['dropPayloadType', DROP['payload-type']],
  ['dropSrtpError', DROP['srtp-error']],
] as const;

/** What a leg needs from the stream it belongs to. */
export interface LegOwner {
  readonly now: () => number;
  readonly maxPacketsPerSec: number;
  /** The native fast path of the thread's sockets, when it has one (fast.ts). */
  readonly fast: FastRules | undefined;
  accepted(now: number): void;
  dropped(leg: RelayLeg, now: number): void;
  authFailed(leg: RelayLeg, kind: 'rtp' | 'rtcp', now: number): void;
}

export class RelayLeg {
  readonly counters = new LegCounters();
  /** Rewrites RTP sent to this leg. */
  readonly rewriter: ContinuityRewriter;
  other!: RelayLeg;
  tag = '';
  mode: LegMode = 'pending';
  rtcpMux = false;
  private remoteRtp: TransportAddress | undefined;
  private remoteRtcp: TransportAddress | undefined;
  private sdpHost: string | undefined;
  private latchPolicy: PlainLatchPolicy = 'sdp-host';
  private latchedRtp: Latch | undefined;
  private latchedRtcp: Latch | undefined;
  private srtpIn: SrtpContext | undefined;
  private srtpOut: SrtpContext | undefined;
  private inGeneration = -1;
  private outGeneration = -1;
  private readonly payloadMap = new Uint8Array(128).fill(NO_PT);
  /** Transcodes what this leg sends, when the legs share no codec. */
  private transcoder: LegTranscoder | undefined;
  /** Set while the stream is transcoded: RTCP is terminated per leg and this reports to the leg (rtcp-report.ts). */
  private reporter: RtcpReporter | undefined;
  /** RTP clock of the media sent to this leg (LegWire.clockRate). */
  private sendClock = 8000;
  private rtcpTranslation!: RtcpTranslation;
  private tokens: number;
  private refilledAt: number;
  /** The in-kernel forwarding of this leg's latched source, when the engine has a forwarder. */
  offload: LegOffload | undefined;
  /** While this leg's fast-path rule is placed: the SRTP sides it carries (fast.ts). */
  private fastSides: { inSide: FastSrtpSide | undefined; outSide: FastSrtpSide | undefined } | undefined;
  /** This leg's own RTP and RTCP ports (the rules' `local` and the other leg's `out`). */
  local: readonly [TransportAddress, TransportAddress] = [{ address: '', port: 0 }, { address: '', port: 0 }];

  constructor(
    private readonly owner: LegOwner,
    readonly rtpSocket: RelaySocket,
    readonly rtcpSocket: RelaySocket,
  ) {
    this.rewriter = new ContinuityRewriter(8000, owner.now);
    this.tokens = owner.maxPacketsPerSec;
    this.refilledAt = owner.now();
  }

  /** Pairs two legs; call once, after both exist. */
  static pair(a: RelayLeg, b: RelayLeg): void {
    a.other = b;
    b.other = a;
    a.rtcpTranslation = new RtcpTranslation(a.rewriter, b.rewriter);
    b.rtcpTranslation = new RtcpTranslation(b.rewriter, a.rewriter);
  }

  configure(w: LegWire): void {
    this.tag = w.tag;
    this.mode = w.mode;
    this.rtcpMux = w.rtcpMux;
    this.latchPolicy = w.latch;
    this.sdpHost = w.remote?.address;
    this.remoteRtp = w.remote && { address: w.remote.address, port: w.remote.rtpPort };
    this.remoteRtcp = w.remote && { address: w.remote.address, port: w.remote.rtcpPort };
    if (w.relatch) {
      this.latchedRtp = undefined;
      this.latchedRtcp = undefined;
    }
    this.rewriter.setClockRate(w.clockRate);
    this.sendClock = w.clockRate;
    this.payloadMap.fill(NO_PT);
    for (const [from, to] of w.payloadMap) if (from >= 0 && from < 128 && to >= 0 && to < 128) this.payloadMap[from] = to;
    if (!w.transcode || !this.transcoder?.sameAs(w.transcode)) {
      this.transcoder?.close();
      this.transcoder = w.transcode && new LegTranscoder(w.transcode);
    }
    // RTCP of a transcoded stream is terminated on both legs (rtcp-report.ts); kept across re-INVITEs.
    if (this.transcoder || this.other.transcoder) {
      this.reporter ??= new RtcpReporter(this.owner.now(), this.counters.sequence);
      this.other.reporter ??= new RtcpReporter(this.owner.now(), this.other.counters.sequence);
    } else {
      this.reporter = this.other.reporter = undefined;
    }
    if (w.mode !== 'srtp') {
      this.closeContexts();
      return;
    }
    [this.srtpIn, this.inGeneration] = rekey(this.srtpIn, this.inGeneration, w.srtpIn, 'receive');
    [this.srtpOut, this.outGeneration] = rekey(this.srtpOut, this.outGeneration, w.srtpOut, 'send');
    if (!this.srtpIn || !this.srtpOut) this.mode = 'pending'; // never relay SRTP-expected media in clear
    else followPeerSrtcpTag(this.srtpIn, this.srtpOut); // a rebuilt context on either side: send as the incoming one expects
  }

  latched(): { rtp: TransportAddress | undefined; rtcp: TransportAddress | undefined } {
    const copy = (l: Latch | undefined): TransportAddress | undefined => l && { address: l.address, port: l.port };
    return { rtp: copy(this.latchedRtp), rtcp: copy(this.rtcpMux ? this.latchedRtp : this.latchedRtcp) };
  }

  close(): void {
    this.fastSides = undefined; // closing the sockets frees the rule
    this.offload?.clear();
    this.transcoder?.close();
    this.transcoder = undefined;
    this.closeContexts();
    this.rtpSocket.close();
    this.rtcpSocket.close();
  }

  private closeContexts(): void {
    this.srtpIn?.close();
    this.srtpOut?.close();
    this.srtpIn = this.srtpOut = undefined;
    this.inGeneration = this.outGeneration = -1;
  }

  // ---------------------------------------------------------------------------------------------
  // Receive
  // ---------------------------------------------------------------------------------------------

  /**
   * A datagram that arrived on this leg's RTP (`onRtcpPort` false) or RTCP port. `msg` may be
   * changed in place and is not kept after the call (io/sockets.ts). No packet, however crafted,
   * may take the relay thread down.
   */
  receive(msg: Buffer, rinfo: Source, onRtcpPort: boolean): void {
    // What the fast path owns is only read or changed here for the RTP port's packets (fast.ts).
    const latch = this.latchedRtp;
    if (!onRtcpPort && this.fastSides !== undefined) this.syncFast(this.owner.now(), true);
    try {
      this.onDatagram(msg, rinfo, onRtcpPort);
    } catch {
      this.drop(DROP['internal-error'], this.owner.now());
    }
    if (onRtcpPort || this.owner.fast === undefined) return;
    if (this.latchedRtp !== latch) {
      // A new source: the other leg's rule sends to it from now on.
      this.other.syncFast(this.owner.now(), true);
      this.other.placeFast();
    }
    this.placeFast();
  }

  private onDatagram(msg: Buffer, rinfo: Source, onRtcpPort: boolean): void {
    const now = this.owner.now();
    if (rinfo.charged !== true) {
      // Step 1 (the fast path took the token already for a datagram it charged).
      if (this.tokens < 1 && !this.refill(now)) return this.drop(DROP.flood, now);
      this.tokens--;
    }
    const mode = this.mode;
    if (mode === 'pending') return this.drop(DROP['not-negotiated'], now);
    if (msg.length < 4) return this.drop(DROP.malformed, now);
    if (mode === 'opaque') return this.onOpaque(msg, rinfo, onRtcpPort, now);
    if (onRtcpPort || (this.rtcpMux && isRtcpOnMuxedPort(msg))) return this.onRtcp(msg, rinfo, onRtcpPort, now);
    this.onRtp(msg, rinfo, now);
  }

  private onRtp(msg: Buffer, rinfo: Source, now: number): void {
    const latch = this.latchedRtp;
    if (!this.admissible(latch, rinfo, now)) return this.drop(DROP['unexpected-source'], now);
    let packet = msg;
    if (this.mode === 'srtp') {
      // Step 4 for SRTP is the context's own header parse, before any crypto (SrtpFormatError →
      // 'malformed'). The padding count is the last octet of the *decrypted* payload (RFC 3711
      // §3.1), so it is only checked below: read before, it would be an octet of the tag.
      try {
        packet = this.srtpIn!.unprotectRtp(msg);
      } catch (e) {
        return this.srtpRefused(e, 'rtp', now);
      }
    }
    const headerLength = rtpHeaderLength(packet);
    if (headerLength < 0) return this.drop(DROP.malformed, now);
    const outPt = this.payloadMap[payloadType(packet)]!;
    if (outPt === NO_PT) return this.drop(DROP['payload-type'], now);
    const tc = this.transcoder;
    let frames: Buffer[] | undefined;
    let clockRate = 0; // of the timestamps the reception statistics may use for jitter (audio only)
    if (tc !== undefined) {
      // A transcoded leg's packets all go through its transcoder: audio, events and CN it knows, nothing else.
      const kind = tc.kindOf(outPt);
      if (kind === undefined) return this.drop(DROP['payload-type'], now);
      try {
        frames = tc.transcode(packet, headerLength, kind);
      } catch {
        return this.drop(DROP.malformed, now);
      }
      if (kind === 'audio') clockRate = tc.inClock;
    }
    this.latchedRtp = latchOn(latch, rinfo, now);
    const source = ssrc(packet);
    const seq = sequenceNumber(packet);
    const c = this.counters;
    c.rxPackets++;
    c.rxBytes += msg.length;
    const verdict = c.track(source, seq);
    this.owner.accepted(now);
    if (this.reporter !== undefined) {
      this.reporter.reception.counted(verdict, timestamp(packet), now, clockRate);
      this.reportIfDue(now);
    }
    if (frames === undefined) return this.other.sendRtp(packet, outPt, headerLength, this, now);
    for (const f of frames) this.other.sendRtp(f, payloadType(f), RTP_HEADER_LENGTH, this, now);
  }

  private onRtcp(msg: Buffer, rinfo: Source, onRtcpPort: boolean, now: number): void {
    const latch = onRtcpPort ? this.latchedRtcp : this.latchedRtp;
    if (!this.admissible(latch, rinfo, now)) return this.drop(DROP['unexpected-source'], now);
    let packet = msg;
    if (this.mode === 'srtp') {
      try {
        packet = this.srtpIn!.unprotectRtcp(msg);
      } catch (e) {
        return this.srtpRefused(e, 'rtcp', now);
      }
      followPeerSrtcpTag(this.srtpIn!, this.srtpOut!); // *_32: answer with the SRTCP tag length the peer uses
    }
    if (!isValidRtcp(packet)) return this.drop(DROP.malformed, now);
    if (onRtcpPort) this.latchedRtcp = latchOn(latch, rinfo, now);
    else this.latchedRtp = latchOn(latch, rinfo, now);
    this.counters.rxRtcpPackets++;
    this.counters.rxRtcpBytes += msg.length;
    this.owner.accepted(now);
    const r = this.reporter;
    if (r === undefined) return this.other.sendRtcp(packet, this, now);
    // Transcoded: terminated here (rtcp-report.ts); only its SR's time is kept, for our DLSR.
    const sr = senderReportOf(packet);
    if (sr !== undefined) r.reception.senderReport(sr.ssrc, sr.lsr, now);
    this.reportIfDue(now);
  }

  /** Our own RTCP to either leg of a transcoded stream, when due (clocked by arriving packets). */
  private reportIfDue(now: number): void {
    this.reportTo(now);
    this.other.reportTo(now);
  }

  private reportTo(now: number): void {
    const r = this.reporter;
    if (r === undefined || now < r.nextAt || (this.mode !== 'rtp' && this.mode !== 'srtp')) return;
    const packet = r.report(now, this.sendClock, this.other.transcoder?.ssrc);
    // Built from what was sent to this leg, after continuity: the translation in sendRtcp leaves it as is.
    if (packet !== undefined) this.sendRtcp(packet, this, now);
  }

  /** End-to-end pass-through: the first octet is all that is read (RFC 7983), nothing is changed. */
  private onOpaque(msg: Buffer, rinfo: Source, onRtcpPort: boolean, now: number): void {
    if (!isMultiplexedMediaOctet(msg[0]!)) return this.drop(DROP.malformed, now);
    const latch = onRtcpPort ? this.latchedRtcp : this.latchedRtp;
    const offload = this.offload;
    // Before another source may take the latch, its time must include what the kernel relayed from
    // the latched one. (Only then: a packet from the latched source itself costs no map lookup.)
    if (offload !== undefined && latch !== undefined && (latch.port !== rinfo.port || latch.address !== rinfo.address)) this.harvestKernel(now);
    if (!this.admissible(latch, rinfo, now)) return this.drop(DROP['unexpected-source'], now);
    const latched = latchOn(latch, rinfo, now);
    if (onRtcpPort) this.latchedRtcp = latched;
    else this.latchedRtp = latched;
    if (offload !== undefined && latched !== latch) {
      // A new source: from now on the kernel relays its packets, and the other leg's rules send to it.
      this.placeKernelRules(now);
      this.other.placeKernelRules(now);
    }
    const c = this.counters;
    const rtp = !onRtcpPort && msg[0]! >= 128 && msg[0]! <= 191 && msg.length >= 12 && !isRtcpOnMuxedPort(msg);
    if (rtp) {
      c.rxPackets++;
      c.rxBytes += msg.length;
      c.track(ssrc(msg), sequenceNumber(msg)); // read from the clear header, for statistics only
    } else {
      c.rxRtcpPackets++;
      c.rxRtcpBytes += msg.length;
    }
    this.owner.accepted(now);
    this.other.sendOpaque(msg, onRtcpPort, rtp, this, now);
  }

  /**
   * The kernel rules of both components for the current modes and latches: packets from this leg's
   * latched source to its port, sent on from the other leg's port to where the user-space path
   * would send them (sendOpaque). Pass-through only: everything else needs this thread's eyes.
   */
  placeKernelRules(now: number): void {
    const o = this.offload;
    if (o === undefined) return;
    this.harvestKernel(now);
    const opaque = this.mode === 'opaque' && this.other.mode === 'opaque';
    const other = this.other;
    for (const c of [0, 1] as const) {
      const source = c === 0 ? this.latchedRtp : this.latchedRtcp;
      const dest = c === 0 ? (other.latchedRtp ?? other.remoteRtp) : (other.latchedRtcp ?? other.remoteRtcp);
      const rule = opaque && source !== undefined && dest !== undefined
        ? { source, local: this.local[c], out: other.local[c], dest, limit: this.owner.maxPacketsPerSec }
        : undefined;
      o.place(c, rule);
    }
  }

  /** Counts what the kernel relayed for this leg since the last look as if this thread had. */
  harvestKernel(now: number): void {
    const o = this.offload;
    if (o === undefined) return;
    for (const c of [0, 1] as const) {
      const f = o.harvest(c);
      if (f === undefined) continue;
      this.countForwarded(c, f.packets, f.octets);
      if (f.floodDrops > 0) {
        this.counters.drop(DROP.flood, f.floodDrops);
        this.owner.dropped(this, now);
      }
      if (f.packets === 0) continue;
      const at = now - Math.max(0, o.monotonicMs() - f.lastMs);
      const latch = c === 0 ? this.latchedRtp : this.latchedRtcp;
      if (latch !== undefined && at > latch.at) latch.at = at;
      this.owner.accepted(at);
    }
  }

  private countForwarded(c: Component, packets: number, octets: number): void {
    const rx = this.counters;
    const tx = this.other.counters;
    rx.rxKernelPackets += packets;
    if (c === 0) {
      rx.rxPackets += packets;
      rx.rxBytes += octets;
      tx.txPackets += packets;
      tx.txBytes += octets;
    } else {
      rx.rxRtcpPackets += packets;
      rx.rxRtcpBytes += octets;
      tx.txRtcpPackets += packets;
      tx.txRtcpBytes += octets;
    }
  }

  /**
   * Places this leg's fast-path rule (fast.ts) when the stream is settled: both legs RTP or SRTP on
   * the native transforms, nothing transcoded, this leg latched, its source's SSRC the one the
   * tracker, the other leg's rewriter and both SRTP contexts know, a destination. A no-op otherwise.
   */
  placeFast(): void {
    const f = this.owner.fast;
    if (f === undefined || this.fastSides !== undefined) return;
    const other = this.other;
    const rtpId = this.rtpSocket.nativeId;
    const rtcpId = this.rtcpSocket.nativeId;
    const txId = other.rtpSocket.nativeId;
    if (rtpId === undefined || rtcpId === undefined || txId === undefined) return;
    if ((this.mode !== 'rtp' && this.mode !== 'srtp') || (other.mode !== 'rtp' && other.mode !== 'srtp')) return;
    if (this.transcoder !== undefined || this.reporter !== undefined || other.reporter !== undefined) return;
    const source = this.latchedRtp;
    const dest = other.latchedRtp ?? other.remoteRtp;
    const tracker = this.counters.sequence;
    if (source === undefined || dest === undefined || tracker.ssrc < 0 || other.rewriter.currentSource !== tracker.ssrc) return;
    const inSide = this.mode === 'srtp' ? this.srtpIn?.fastRtp('receive', tracker.ssrc, f.maxWindow) : undefined;
    if (this.mode === 'srtp' && inSide === undefined) return;
    const outSide = other.mode === 'srtp' ? other.srtpOut?.fastRtp('send', other.rewriter.sentSsrc!, f.maxWindow) : undefined;
    if (other.mode === 'srtp' && outSide === undefined) return;
    const placed = f.place({
      rtpId,
      rtcpId,
      txId,
      source,
      dest,
      payloadMap: this.payloadMap,
      tokens: this.tokens,
      rate: this.owner.maxPacketsPerSec,
      tracker,
      rewriter: other.rewriter.fastState,
      inSide,
      outSide,
    });
    if (placed) this.fastSides = { inSide, outSide };
  }

  /**
   * Takes what this leg's fast-path rule did into the objects, as of `now`: counters, drops, loss,
   * latch and activity time, the rewriter's last-sent fields; with `remove` also the tokens and
   * replay windows it owns, and the rule goes (before this thread changes that state). A no-op when
   * no rule is placed.
   */
  syncFast(now: number, remove: boolean): void {
    const sides = this.fastSides;
    const f = this.owner.fast;
    if (sides === undefined || f === undefined) return;
    if (remove) this.fastSides = undefined;
    if (!f.take(this.rtpSocket.nativeId!, remove)) return;
    const c = this.counters;
    const other = this.other;
    if (remove) {
      this.tokens = f.get('tokens');
      this.refilledAt = now;
      f.restoreWindows(sides.inSide, sides.outSide);
    }
    f.restoreTracker(c.sequence); // read by the stats' loss
    c.lostBefore += f.get('lostBefore');
    const outAgo = f.get('lastOutAgoMs');
    other.rewriter.resumeAfterFast(f.get('lastOutSeq'), f.get('lastOutTs'), outAgo >= 0 ? now - outAgo : undefined);
    const acceptedAgo = f.get('acceptedAgoMs');
    if (acceptedAgo >= 0) {
      const at = now - acceptedAgo;
      const latch = this.latchedRtp;
      if (latch !== undefined && at > latch.at) latch.at = at;
      this.owner.accepted(at);
    }
    c.rxPackets += f.get('rxPackets');
    c.rxFastPackets += f.get('rxPackets');
    c.rxBytes += f.get('rxBytes');
    other.counters.txPackets += f.get('txPackets');
    other.counters.txBytes += f.get('txBytes');
    let dropped = 0;
    for (const [field, reason] of FAST_DROPS) {
      const n = f.get(field);
      if (n > 0) c.drop(reason, n);
      dropped += n;
    }
    if (dropped > 0) this.owner.dropped(this, now);
    const sendErrors = f.get('sendErrors');
    if (sendErrors > 0) {
      other.counters.drop(DROP['send-error'], sendErrors);
      this.owner.dropped(other, now);
    }
  }

  /** Step 3 (see latch.ts): SRTP legs admit anyone to authentication; plain legs per their policy. */
  private admissible(latch: Latch | undefined, rinfo: Source, now: number): boolean {
    return admissible(latch, rinfo, now, this.mode === 'srtp' || this.latchPolicy === 'any-source', this.sdpHost);
  }

  private srtpRefused(e: unknown, kind: 'rtp' | 'rtcp', now: number): void {
    if (e instanceof SrtpReplayError) return this.drop(DROP['srtp-replay'], now);
    if (e instanceof SrtpAuthError) {
      this.counters.srtpAuthFailures++;
      this.drop(DROP['srtp-auth'], now);
      this.owner.authFailed(this, kind, now);
      return;
    }
    this.drop(e instanceof SrtpFormatError ? DROP.malformed : DROP['srtp-error'], now);
  }

  private refill(now: number): boolean {
    const rate = this.owner.maxPacketsPerSec;
    const elapsed = now - this.refilledAt;
    if (elapsed <= 0) return false;
    this.tokens = Math.min(rate, this.tokens + (elapsed * rate) / 1000);
    this.refilledAt = now;
    return this.tokens >= 1;
  }

  drop(reason: number, now: number): void {
    this.counters.drop(reason);
    this.owner.dropped(this, now);
  }

  // ---------------------------------------------------------------------------------------------
  // Send (called by the other leg with a packet it accepted)
  // ---------------------------------------------------------------------------------------------

  /** `headerLength`: of `packet`'s valid RTP header (rtpHeaderLength), as the receive path found it. */
  sendRtp(packet: Buffer, pt: number, headerLength: number, from: RelayLeg, now: number): void {
    if (this.mode === 'pending' || this.mode === 'opaque') return from.drop(DROP['not-negotiated'], now);
    const dest = this.latchedRtp ?? this.remoteRtp;
    if (dest === undefined) return from.drop(DROP['no-destination'], now);
    if (payloadType(packet) !== pt) setPayloadType(packet, pt);
    if (this.rewriter.apply(packet) === 'stale-source') return from.drop(DROP['stale-source'], now);
    this.reporter?.sent(packet, payloadOctets(packet, headerLength), now); // SR counts (RFC 3550 §6.4.1)
    let out = packet;
    if (this.mode === 'srtp') {
      try {
        out = this.srtpOut!.protectRtp(packet);
      } catch {
        return from.drop(DROP['srtp-error'], now);
      }
    }
    this.rtpSocket.send(out, dest.port, dest.address);
    this.counters.txPackets++;
    this.counters.txBytes += out.length;
  }

  sendRtcp(packet: Buffer, from: RelayLeg, now: number): void {
    if (this.mode === 'pending' || this.mode === 'opaque') return from.drop(DROP['not-negotiated'], now);
    // RFC 5761 §5.1.3 / §8: RTCP goes to the RTP port of a muxed leg, to the RTCP port otherwise.
    const dest = this.rtcpMux ? (this.latchedRtp ?? this.remoteRtp) : (this.latchedRtcp ?? this.remoteRtcp);
    if (dest === undefined) return from.drop(DROP['no-destination'], now);
    translateRtcp(packet, this.rtcpTranslation);
    let out = packet;
    if (this.mode === 'srtp') {
      try {
        out = this.srtpOut!.protectRtcp(packet);
      } catch {
        return from.drop(DROP['srtp-error'], now);
      }
    }
    (this.rtcpMux ? this.rtpSocket : this.rtcpSocket).send(out, dest.port, dest.address);
    this.counters.txRtcpPackets++;
    this.counters.txRtcpBytes += out.length;
  }

  /** `rtcpComponent`: arrived on (and leaves by) the RTCP port; `rtp`: an RTP packet, for the counters only. */
  sendOpaque(packet: Buffer, rtcpComponent: boolean, rtp: boolean, from: RelayLeg, now: number): void {
    if (this.mode !== 'opaque') return from.drop(DROP['not-negotiated'], now);
    const dest = rtcpComponent ? (this.latchedRtcp ?? this.remoteRtcp) : (this.latchedRtp ?? this.remoteRtp);
    if (dest === undefined) return from.drop(DROP['no-destination'], now);
    (rtcpComponent ? this.rtcpSocket : this.rtpSocket).send(packet, dest.port, dest.address);
    if (rtp) {
      this.counters.txPackets++;
      this.counters.txBytes += packet.length;
    } else {
      this.counters.txRtcpPackets++;
      this.counters.txRtcpBytes += packet.length;
    }
  }
}
