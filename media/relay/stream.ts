/**
 * One relayed media stream (one m= line of one call): two legs, each with its local RTP and RTCP
 * sockets (RTP on an even port, RTCP on the next: RFC 3550 §11), forwarding to each other.
 * The stream keeps what the host needs: last activity (inactivity timeout), rate-limited log
 * lines about drops, and rate-limited SRTP authentication failure events.
 */
import type { RelaySocket, SocketOpener, Source } from './io/sockets';
import type { KernelRules } from './kernel/rules';
import { RelayLeg, type LegOwner } from './leg';
import { LegOffload } from './offload';
import type { LegStatsWire, RelayEvent, StreamStatsWire, StreamWire } from './protocol';
import { DROP } from './stats';
import type { FastRules } from './fast';

/** At most one log line about dropped packets per stream per this interval. */
export const DROP_LOG_INTERVAL_MS = 10_000;
/** At most one srtpAuthFailure event per leg of a stream per this interval. */
export const AUTH_EVENT_INTERVAL_MS = 1_000;

export interface StreamHost {
  readonly now: () => number;
  readonly maxPacketsPerSec: number;
  /** Opens this thread's media sockets (io/). */
  readonly sockets: SocketOpener;
  /** The engine's in-kernel forwarder, when it has one (kernel/). */
  readonly kernelRules?: KernelRules;
  emit(event: RelayEvent): void;
}

export class RelayStream implements LegOwner {
  readonly legs: readonly [RelayLeg, RelayLeg];
  readonly now: () => number;
  readonly maxPacketsPerSec: number;
  readonly fast: FastRules | undefined;
  /** Last packet accepted from either leg; starts when the stream is negotiated. */
  lastActivity: number;
  /** Whether either leg is expected to send (direction); an all-inactive stream never times out. */
  expectsMedia = false;
  negotiated = false;
  index: number;
  private lastDropLog = -Infinity;
  private readonly lastAuthEvent: [number, number] = [-Infinity, -Infinity];

  private constructor(
    readonly streamId: number,
    /** The call it relays for; '' while it waits in the engine's reserve of bound streams (adopt()). */
    public callId: string,
    index: number,
    readonly address: string,
    readonly ports: readonly [number, number],
    sockets: readonly RelaySocket[],
    private readonly host: StreamHost,
  ) {
    this.index = index;
    this.now = host.now;
    this.maxPacketsPerSec = host.maxPacketsPerSec;
    this.fast = host.sockets.fast;
    this.lastActivity = host.now();
    const a = new RelayLeg(this, sockets[0]!, sockets[1]!);
    const b = new RelayLeg(this, sockets[2]!, sockets[3]!);
    RelayLeg.pair(a, b);
    this.legs = [a, b];
    const at = host.kernelRules?.address ?? address; // a wildcard bind: the address endpoints are told
    a.local = [{ address: at, port: ports[0] }, { address: at, port: ports[0] + 1 }];
    b.local = [{ address: at, port: ports[1] }, { address: at, port: ports[1] + 1 }];
    if (host.kernelRules !== undefined) {
      a.offload = new LegOffload(host.kernelRules);
      b.offload = new LegOffload(host.kernelRules);
    }
  }

  /**
   * Binds both legs' socket pairs. On failure closes what was bound and rejects with
   * `{ leg, code }` naming the leg whose port could not be bound.
   */
  static async open(
    host: StreamHost,
    streamId: number,
    callId: string,
    index: number,
    address: string,
    ports: readonly [number, number],
  ): Promise<RelayStream> {
    const sockets: RelaySocket[] = [];
    // The legs exist once every port is bound; a datagram before that is dropped, as unnegotiated.
    const legs: RelayLeg[] = [];
    try {
      for (let leg = 0; leg < 2; leg++) {
        for (const [port, onRtcpPort] of [[ports[leg]!, false], [ports[leg]! + 1, true]] as const) {
          const onMessage = (msg: Buffer, source: Source): void => legs[leg]?.receive(msg, source, onRtcpPort);
          const onSendError = (): void => legs[leg]?.drop(DROP['send-error'], host.now());
          try {
            sockets.push(await host.sockets.open(address, port, onMessage, onSendError));
          } catch (e) {
            throw new StreamOpenError(leg as 0 | 1, (e as NodeJS.ErrnoException).code ?? 'EBIND');
          }
        }
      }
    } catch (e) {
      for (const s of sockets) s.close();
      throw e;
    }
    const stream = new RelayStream(streamId, callId, index, address, ports, sockets, host);
    legs.push(...stream.legs);
    return stream;
  }

  /** A reserved stream (opened with callId '') joins a call: from now on it is that call's stream. */
  adopt(callId: string, index: number): void {
    if (this.callId !== '') throw new Error(`stream ${this.streamId} already belongs to a call`);
    this.callId = callId;
    this.index = index;
    this.lastActivity = this.now();
  }

  configure(w: StreamWire): void {
    this.index = w.index;
    const wasNegotiated = this.negotiated;
    const before = this.now();
    this.legs[0].syncFast(before, true); // the fast path's state back before anything changes it
    this.legs[1].syncFast(before, true);
    this.legs[0].configure(w.legs[0]);
    this.legs[1].configure(w.legs[1]);
    this.negotiated = w.legs[0].mode !== 'pending' && w.legs[1].mode !== 'pending';
    const now = this.now();
    this.legs[0].placeKernelRules(now);
    this.legs[1].placeKernelRules(now);
    this.legs[0].placeFast();
    this.legs[1].placeFast();
    this.expectsMedia = this.negotiated && (w.legs[0].sends || w.legs[1].sends);
    if (!wasNegotiated && this.negotiated) this.lastActivity = this.now();
  }

  // LegOwner -------------------------------------------------------------------------------------

  accepted(now: number): void {
    if (now > this.lastActivity) this.lastActivity = now;
  }

  /** Takes in what the kernel and the fast path relayed for this stream (before the host reads activity or counters). */
  harvest(now: number): void {
    for (const leg of this.legs) {
      leg.harvestKernel(now);
      leg.syncFast(now, false);
    }
  }

  dropped(leg: RelayLeg, now: number): void {
    if (now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.lastDropLog = now;
    const fields: Record<string, string | number | boolean> = { callId: this.callId, index: this.index, leg: leg.tag };
    const dropped = leg.counters.dropsByReason();
    for (const [reason, n] of Object.entries(dropped)) if (n > 0) fields[reason] = n;
    fields.sinceLastLog = leg.counters.unloggedDrops;
    leg.counters.unloggedDrops = 0;
    this.host.emit({ type: 'log', level: 'warn', message: 'media: dropped packets', fields });
  }

  authFailed(leg: RelayLeg, kind: 'rtp' | 'rtcp', now: number): void {
    const i = leg === this.legs[0] ? 0 : 1;
    if (now - this.lastAuthEvent[i]! < AUTH_EVENT_INTERVAL_MS) return;
    this.lastAuthEvent[i] = now;
    this.host.emit({
      type: 'srtpAuthFailure',
      callId: this.callId,
      index: this.index,
      tag: leg.tag,
      kind,
      total: leg.counters.srtpAuthFailures,
    });
  }

  // ----------------------------------------------------------------------------------------------

  stats(now: number): StreamStatsWire {
    this.harvest(now);
    const legStats = (leg: RelayLeg, port: number): LegStatsWire => {
      const c = leg.counters;
      return {
        tag: leg.tag,
        mode: leg.mode,
        local: { address: this.address, rtpPort: port, rtcpPort: port + 1 },
        rtcpMux: leg.rtcpMux,
        latched: leg.latched(),
        rx: { packets: c.rxPackets, bytes: c.rxBytes, lost: c.lost, rtcpPackets: c.rxRtcpPackets, rtcpBytes: c.rxRtcpBytes, kernelPackets: c.rxKernelPackets, fastPackets: c.rxFastPackets },
        tx: { packets: c.txPackets, bytes: c.txBytes, rtcpPackets: c.txRtcpPackets, rtcpBytes: c.txRtcpBytes },
        srtpAuthFailures: c.srtpAuthFailures,
        dropped: c.dropsByReason(),
      };
    };
    return {
      streamId: this.streamId,
      index: this.index,
      idleMs: Math.max(0, now - this.lastActivity),
      legs: [legStats(this.legs[0], this.ports[0]), legStats(this.legs[1], this.ports[1])],
    };
  }

  close(): void {
    for (const leg of this.legs) leg.close();
  }
}

export class StreamOpenError extends Error {
  constructor(
    readonly leg: 0 | 1,
    readonly code: string,
  ) {
    super(`cannot bind the media port of leg ${leg}: ${code}`);
    this.name = 'StreamOpenError';
  }
}
