/**
 * The relay of one thread: the streams of the calls assigned to it, the commands that open,
 * configure, query and close them, and the inactivity sweep. It runs inside a worker thread
 * (worker.ts) or, in in-thread mode, in the signalling thread itself; it behaves the same in both.
 *
 * Inactivity (issue "media plane" §4): a call whose negotiated streams have all been silent (no
 * packet accepted from either leg) for `inactivityMs` raises one 'timeout' event, again only after
 * media flowed in between. Streams negotiated inactive in both directions do not count.
 *
 * The timer visits every call once per `sweepIntervalMs`, a slice at a time (SWEEP_SLICES ticks per
 * interval): looking at a call reads back its fast-path and kernel counters, and doing all of a
 * thread's calls at once held its packets for milliseconds (docs/BENCHMARKS.md, session 11).
 */
import { performance } from 'node:perf_hooks';
import type { OpenReply, RelayCommand, RelayEvent, RelayReply, RelaySettings, StreamStatsWire } from './protocol';
import { KernelRules } from './kernel/rules';
import { BatchedSockets } from './io/batched';
import { DgramSockets } from './io/dgram';
import { loadUdpIo } from './io/native';
import type { SocketOpener } from './io/sockets';
import { RelayStream, StreamOpenError, type StreamHost } from './stream';

/** Ticks per sweep interval: each looks at 1/SWEEP_SLICES of the calls. */
export const SWEEP_SLICES = 20;

export interface RelayHostOptions extends RelaySettings {
  emit(event: RelayEvent): void;
  /** Milliseconds clock; default Date.now. Tests pass a fake one. */
  now?: () => number;
}

export class RelayHost implements StreamHost {
  readonly now: () => number;
  readonly maxPacketsPerSec: number;
  readonly kernelRules: KernelRules | undefined;
  readonly sockets: SocketOpener;
  private readonly streams = new Map<number, RelayStream>();
  /** callId → its streams here, for the per-call inactivity rule. */
  private readonly calls = new Map<string, Set<RelayStream>>();
  /** Calls that already raised 'timeout' and have not had media since. */
  private readonly timedOut = new Set<string>();
  private readonly timer: NodeJS.Timeout | undefined;
  /** Where the sliced sweep goes on from: Map iterators skip deleted calls and reach added ones. */
  private sweepCursor: IterableIterator<[string, Set<RelayStream>]> | undefined;
  private closed = false;

  constructor(private readonly options: RelayHostOptions) {
    this.now = options.now ?? Date.now;
    this.maxPacketsPerSec = options.maxPacketsPerSec;
    this.kernelRules = options.kernel ? KernelRules.forForwarder(options.kernel) : undefined;
    const addon = options.batchedIo === true ? loadUdpIo() : null;
    // The fast path keeps time on the real monotonic clock: not with a test's own clock.
    this.sockets = addon ? new BatchedSockets(addon, options.fastPath === true && options.now === undefined) : new DgramSockets();
    if (options.sweepIntervalMs > 0) {
      this.timer = setInterval(() => this.sweepSlice(), Math.max(1, Math.floor(options.sweepIntervalMs / SWEEP_SLICES)));
      this.timer.unref();
    }
  }

  emit(event: RelayEvent): void {
    this.options.emit(event);
  }

  get streamCount(): number {
    return this.streams.size;
  }

  async handle(cmd: RelayCommand): Promise<RelayReply> {
    if (this.closed) throw new Error('relay host is closed');
    switch (cmd.op) {
      case 'open':
        return this.open(cmd);
      case 'adopt': {
        const s = this.streams.get(cmd.streamId);
        if (!s) throw new Error(`no stream ${cmd.streamId}`);
        s.adopt(cmd.callId, cmd.index);
        this.join(s);
        return null;
      }
      case 'configure': {
        const s = this.streams.get(cmd.stream.streamId);
        if (!s) throw new Error(`no stream ${cmd.stream.streamId}`);
        s.configure(cmd.stream);
        return null;
      }
      case 'close':
        for (const id of cmd.streamIds) this.closeStream(id);
        return null;
      case 'queueDelay':
        return this.sockets.queueDelay?.() ?? null;
      case 'busy':
        return { busyMs: performance.eventLoopUtilization().active };
      case 'stats': {
        const now = this.now();
        const out: StreamStatsWire[] = [];
        for (const id of cmd.streamIds) {
          const s = this.streams.get(id);
          if (s) out.push(s.stats(now));
        }
        return out;
      }
    }
  }

  /** Looks at every call for inactivity at once (tests on a fake clock call it directly). */
  sweep(): void {
    const now = this.now();
    for (const [callId, streams] of this.calls) this.checkIdle(callId, streams, now);
  }

  /**
   * One timer tick: the next 1/SWEEP_SLICES of the calls (at least one), going on from the last
   * tick, so every call is looked at about once per sweep interval.
   */
  sweepSlice(): void {
    const now = this.now();
    let budget = Math.ceil(this.calls.size / SWEEP_SLICES);
    while (budget > 0) {
      this.sweepCursor ??= this.calls.entries();
      const next = this.sweepCursor.next();
      if (next.done === true) {
        this.sweepCursor = undefined;
        return; // the pass is complete; the next tick starts the next one
      }
      const [callId, streams] = next.value;
      this.checkIdle(callId, streams, now);
      budget--;
    }
  }

  private checkIdle(callId: string, streams: Set<RelayStream>, now: number): void {
    let counted = 0;
    let newest = -Infinity;
    for (const s of streams) {
      if (!s.expectsMedia) continue;
      s.harvest(now);
      counted++;
      if (s.lastActivity > newest) newest = s.lastActivity;
    }
    if (counted === 0) return;
    const idle = now - newest;
    if (idle < this.options.inactivityMs) {
      this.timedOut.delete(callId);
    } else if (!this.timedOut.has(callId)) {
      this.timedOut.add(callId);
      this.emit({ type: 'timeout', callId, idleMs: idle });
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const id of [...this.streams.keys()]) this.closeStream(id);
    this.sockets.close();
  }

  private async open(cmd: Extract<RelayCommand, { op: 'open' }>): Promise<OpenReply> {
    if (this.streams.has(cmd.streamId)) throw new Error(`stream ${cmd.streamId} exists`);
    let stream: RelayStream;
    try {
      stream = await RelayStream.open(this, cmd.streamId, cmd.callId, cmd.index, cmd.address, cmd.ports);
    } catch (e) {
      if (e instanceof StreamOpenError) return { ok: false, leg: e.leg, code: e.code };
      throw e;
    }
    if (this.closed) {
      stream.close();
      throw new Error('relay host is closed');
    }
    this.streams.set(cmd.streamId, stream);
    if (cmd.callId !== '') this.join(stream);
    return { ok: true };
  }

  /** Counts the stream in its call's inactivity rule. Reserved streams (no call yet) are not. */
  private join(stream: RelayStream): void {
    let set = this.calls.get(stream.callId);
    if (!set) this.calls.set(stream.callId, (set = new Set()));
    set.add(stream);
  }

  private closeStream(id: number): void {
    const s = this.streams.get(id);
    if (!s) return;
    this.streams.delete(id);
    s.close();
    const set = this.calls.get(s.callId);
    set?.delete(s);
    if (set && set.size === 0) {
      this.calls.delete(s.callId);
      this.timedOut.delete(s.callId);
    }
  }
}
