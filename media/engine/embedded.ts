/**
 * EmbeddedMediaEngine: the MediaEngine of this gateway. Signalling-side state (SDP, SDES keys,
 * ports) lives here in the signalling thread; packets are relayed by RelayHosts in worker threads
 * (or in this thread, media.inThread). Operations on one call are serialised: an answer never
 * overtakes the offer it answers, whatever the B2BUA's timing.
 */
import os from 'node:os';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../gateway/log/logger';
import { KernelForwarder } from '../relay/kernel/forwarder';
import { udpIoFault } from '../relay/io/native';
import { defaultKeyRing, isUnspecifiedAddress, type SdesKeyRing } from '../sdp';
import { PortAllocator } from '../relay/ports';
import { RelayPool } from '../relay/pool';
import type { RelayEvent, StreamStatsWire } from '../relay/protocol';
import { handleAnswer } from './answer';
import { Call, type LegIndex } from './call';
import { MediaEngineError } from './errors';
import { handleOffer, type EngineContext } from './offer';
import { mergeQueueDelay } from './queue-delay';
import { resolveMediaSettings, type MediaSettings, type ResolvedMediaSettings } from './settings';
import { buildCallStats } from './stats';
import { StreamOpener } from './stream-opener';
import type { AnswerFlags, CallStats, MediaEngine, MediaEngineEvents, OfferFlags, QueueDelayHistogram, RelayThreadBusy } from './types';

export interface EmbeddedMediaEngineOptions {
  /** The `media` configuration section. */
  readonly media: MediaSettings;
  readonly logger?: Logger;
  /** SDES key ring (default: the process-wide one, so no key is ever issued twice in a process). */
  readonly keyRing?: SdesKeyRing;
  /** In-thread mode only: the relay's millisecond clock (tests). */
  readonly now?: () => number;
  /** How often idle calls are looked for; default 1000 ms; 0 = only when a test calls sweep(). */
  readonly sweepIntervalMs?: number;
  /** CPU count for the default worker count and the media.nice check (tests). */
  readonly cpus?: number;
}

export class EmbeddedMediaEngine extends EventEmitter implements MediaEngine {
  readonly settings: ResolvedMediaSettings;
  private readonly ports: PortAllocator;
  private readonly pool: RelayPool;
  private readonly streams: StreamOpener;
  private readonly calls = new Map<string, Call>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly ctx: EngineContext;
  private readonly log: Logger | undefined;
  /** In-kernel forwarding of pass-through legs (media.kernelForwarding), when the host allows it. */
  readonly kernelForwarder: KernelForwarder | undefined;
  private closed = false;

  constructor(options: EmbeddedMediaEngineOptions) {
    super();
    const cpus = options.cpus ?? os.cpus().length;
    this.settings = resolveMediaSettings(options.media, cpus);
    this.log = options.logger;
    this.ports = new PortAllocator(this.settings.portMin, this.settings.portMax);
    this.kernelForwarder = this.openKernelForwarder();
    this.pool = new RelayPool({
      threads: this.settings.threads,
      settings: {
        inactivityMs: this.settings.inactivityMs,
        maxPacketsPerSec: this.settings.maxPacketsPerSec,
        sweepIntervalMs: options.sweepIntervalMs ?? 1000,
        kernel: this.kernelForwarder?.wire,
        batchedIo: this.batchedIo(),
        fastPath: this.settings.fastPath !== 'off',
        nice: this.relayNice(cpus),
        realtime: this.relayRealtime(cpus),
      },
      now: options.now,
      onEvent: (e) => this.onRelayEvent(e),
      onLost: (slot, reason) => this.onRelayLost(slot, reason),
    });
    this.streams = new StreamOpener(this.ports, this.pool, this.settings.bindAddress, this.log, this.settings.warmStreams);
    this.streams.prime(this.pool.size);
    const keyRing = options.keyRing ?? defaultKeyRing;
    this.ctx = {
      address: this.settings.advertisedAddress,
      family: this.settings.family,
      keyRing,
      allowDirectMedia: this.settings.allowDirectMedia,
      ensureStream: (call, index, mediaType) => this.streams.ensure(call, index, mediaType),
      dropStream: (call, index) => this.streams.drop(call, index),
    };
  }

  /** Relay threads (0 = in-thread mode). */
  get threads(): number {
    return this.settings.threads;
  }

  /** Calls the engine holds. */
  get callCount(): number {
    return this.calls.size;
  }

  /** Free port pairs. */
  get freePortPairs(): number {
    return this.ports.available + 2 * this.streams.reserved; // a reserved stream is ready for any call
  }

  /** In-thread mode: run the inactivity sweep now (tests on a fake clock). */
  sweep(): void {
    this.pool.inThreadHost?.sweep();
  }

  offer(callId: string, fromTag: string, sdp: string, flags: OfferFlags): Promise<string> {
    return this.serial(callId, async () => {
      let call = this.calls.get(callId);
      const isNew = call === undefined;
      if (!call) {
        call = new Call(callId, this.pool.assign(), fromTag, this.ctx.address);
        this.calls.set(callId, call);
      }
      const offerer = call.legOf(fromTag);
      if (offerer === undefined) throw new MediaEngineError('unknown-leg');
      try {
        return await handleOffer(this.ctx, call, offerer, sdp, flags);
      } catch (e) {
        if (isNew) await this.remove(call);
        throw MediaEngineError.from(e);
      }
    });
  }

  answer(callId: string, fromTag: string, toTag: string, sdp: string, flags: AnswerFlags = {}): Promise<string> {
    return this.serial(callId, async () => {
      const call = this.calls.get(callId);
      const p = call?.offerFor(toTag);
      if (!call || !p || call.tags[p.offerer] !== fromTag) throw new MediaEngineError('no-pending-offer');
      const answerer: LegIndex = p.offerer === 0 ? 1 : 0;
      if (call.tags[answerer] !== toTag) {
        if (answerer === 0) throw new MediaEngineError('unknown-leg');
        this.forgetAnswerer(call); // a new branch answers (serial forking): nothing of the old one stays
        call.tags[1] = toTag;
      }
      let body: string;
      try {
        body = await handleAnswer(this.ctx, call, p, sdp, flags);
      } catch (e) {
        throw MediaEngineError.from(e);
      }
      this.configureAhead(call);
      return body;
    });
  }

  delete(callId: string, tag?: string): Promise<void> {
    return this.serial(callId, async () => {
      const call = this.calls.get(callId);
      if (!call) return;
      if (tag !== undefined && tag !== call.tags[0] && call.pending?.offerer === 0) {
        call.forgetBranch(tag);
        if (tag === call.tags[1]) {
          this.forgetAnswerer(call);
          await this.configure(call);
        }
        return;
      }
      await this.remove(call);
    });
  }

  query(callId: string): Promise<CallStats> {
    return this.serial(callId, async () => {
      const call = this.calls.get(callId);
      if (!call) throw new MediaEngineError('unknown-call');
      const ids = call.openStreams().map((s) => s.id);
      const wire = ids.length === 0 ? [] : ((await this.pool.request(call.slot, { op: 'stats', streamIds: ids })) as StreamStatsWire[]);
      return buildCallStats(call, wire, this.ctx.address);
    });
  }

  /** The relay threads' queue-delay histograms summed (undefined on dgram sockets). */
  async queueDelay(): Promise<QueueDelayHistogram | undefined> {
    if (this.closed) return undefined;
    return mergeQueueDelay((await this.pool.requestAll({ op: 'queueDelay' })).map((r) => r.reply));
  }

  /** Each relay worker thread's busy time; a thread that does not answer (being replaced) is left out. */
  async relayBusy(): Promise<readonly RelayThreadBusy[]> {
    if (this.closed || this.settings.threads === 0) return [];
    const replies = await this.pool.requestAll({ op: 'busy' });
    return replies.flatMap(({ slot, reply }) => (reply !== null && 'busyMs' in reply ? [{ thread: slot, busySec: reply.busyMs / 1000 }] : []));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.streams.close();
    await Promise.allSettled([...this.queues.values()]);
    for (const call of this.calls.values()) call.wipeKeys();
    this.calls.clear();
    await this.pool.close();
    this.kernelForwarder?.close();
  }

  /** media.nice for the worker threads (relayThreadSetting). */
  private relayNice(cpus: number): number | undefined {
    const nice = this.settings.nice;
    if (nice === undefined) return undefined;
    return this.relayThreadSetting(nice, { key: 'media.nice', kind: 'favoured', favoured: nice < 0, fields: { nice } }, cpus);
  }

  /** media.scheduling for the worker threads (relayThreadSetting): a real-time policy always favours them. */
  private relayRealtime(cpus: number): { policy: 'fifo' | 'rr'; priority: number } | undefined {
    const realtime = this.settings.realtime;
    if (realtime === undefined) return undefined;
    return this.relayThreadSetting(realtime, { key: 'media.scheduling', kind: 'real-time', favoured: true, fields: { scheduling: realtime.policy } }, cpus);
  }

  /**
   * A priority setting of the relay worker threads as they get it: never for the signalling thread
   * (in-thread mode says once that it leaves it unused). Favoured relay threads on every core could
   * take them all from signalling under a media flood (§7: a flooded call must not delay
   * signalling); a real-time one leaves the fair scheduler only the share the kernel keeps for it.
   * So that combination is allowed but warned about.
   */
  private relayThreadSetting<T>(value: T, s: { key: string; kind: string; favoured: boolean; fields: Record<string, unknown> }, cpus: number): T | undefined {
    const threads = this.settings.threads;
    if (threads === 0) {
      this.log?.info(`media: ${s.key} applies to relay worker threads; in-thread mode leaves it unused`, s.fields);
      return undefined;
    }
    if (s.favoured && threads >= cpus) {
      this.log?.warn(`media: ${s.kind} relay threads on every core: a media flood could starve signalling; keep media.workers below the cores`, { ...s.fields, workers: threads, cores: cpus });
    }
    return value;
  }

  /** Whether the relay threads use the batched socket I/O addon (they load it themselves). */
  private batchedIo(): boolean {
    if (this.settings.batchedIo === 'off') return false;
    const fault = udpIoFault();
    if (fault !== undefined) this.log?.info("media: batched socket I/O unavailable, using Node's dgram", { reason: fault });
    return fault === undefined;
  }

  private openKernelForwarder(): KernelForwarder | undefined {
    if (this.settings.kernelForwarding === 'off') return undefined;
    // With a wildcard bind, packets come to the address the SDP gives: rules are written for that one.
    const s = this.settings;
    const address = isUnspecifiedAddress(s.bindAddress) ? s.advertisedAddress : s.bindAddress;
    const portPairs = Math.floor((s.portMax - s.portMin + 1) / 2);
    const f = KernelForwarder.open(address, 2 * portPairs);
    if (typeof f === 'string') {
      this.log?.info('media: in-kernel forwarding unavailable, relaying in user space', { reason: f });
      return undefined;
    }
    this.log?.info('media: in-kernel forwarding of pass-through legs', { interface: f.interfaceName, address });
    return f;
  }

  override on<E extends keyof MediaEngineEvents>(event: E, listener: MediaEngineEvents[E]): this {
    return super.on(event, listener);
  }

  override off<E extends keyof MediaEngineEvents>(event: E, listener: MediaEngineEvents[E]): this {
    return super.off(event, listener);
  }

  // ---------------------------------------------------------------------------------------------

  private serial<T>(callId: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new MediaEngineError('engine-closed'));
    const prev = this.queues.get(callId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(callId, tail);
    void tail.then(() => {
      if (this.queues.get(callId) === tail) this.queues.delete(callId);
    });
    return run;
  }

  /** Sends every open stream's configuration (and changed keys) to the relay. */
  private async configure(call: Call): Promise<void> {
    for (const s of call.openStreams()) {
      try {
        await this.pool.request(call.slot, { op: 'configure', stream: s.wire(call.id, call.tags) });
      } catch (e) {
        throw new MediaEngineError('relay-failed', undefined, { cause: e });
      }
      s.sent();
    }
  }

  /**
   * Sends the answered streams' configuration without waiting for the relay: the answer goes on
   * to the other leg at once instead of after a round trip to a relay thread that may be busy
   * relaying (the 200's added latency, docs/BENCHMARKS.md cps). Commands reach a relay in order,
   * so whatever the engine sends next for the call finds this configuration applied; the packets
   * that arrive before it are dropped as before any answer. Should the relay refuse it (it does
   * not, short of losing the thread), the call is ended like a call whose relay was lost.
   */
  private configureAhead(call: Call): void {
    for (const s of call.openStreams()) {
      this.pool.request(call.slot, { op: 'configure', stream: s.wire(call.id, call.tags) }).catch((e: unknown) => {
        if (this.calls.get(call.id) !== call) return;
        this.log?.error('media: relay refused a stream configuration; the call is ended', { callId: call.id, error: e instanceof Error ? e.message : String(e) });
        void this.serial(call.id, () => this.remove(call)).catch(() => undefined);
        this.notify('failed', { callId: call.id, reason: 'configuration-refused' });
      });
      s.sent();
    }
  }

  private forgetAnswerer(call: Call): void {
    call.tags[1] = undefined;
    for (const s of call.streams) {
      if (!s) continue;
      s.sides[1].reset();
      s.sides[0].mode = 'pending'; // nothing to relay to until another answer
    }
  }

  private async remove(call: Call): Promise<void> {
    if (this.calls.get(call.id) !== call) return;
    this.calls.delete(call.id);
    call.wipeKeys();
    const ids = call.openStreams().map((s) => s.id);
    try {
      if (ids.length > 0) await this.pool.request(call.slot, { op: 'close', streamIds: ids });
    } catch (e) {
      this.log?.warn('media: closing streams failed', { callId: call.id, error: String(e) });
    } finally {
      this.streams.forget(call);
      this.pool.release(call.slot);
    }
  }

  /** A throwing listener is the listener's bug: logged, never thrown into the relay's event path. */
  private notify<E extends keyof MediaEngineEvents>(event: E, payload: Parameters<MediaEngineEvents[E]>[0]): void {
    try {
      this.emit(event, payload);
    } catch (e) {
      this.log?.error('media: engine event listener failed', { event, error: String(e) });
    }
  }

  private onRelayEvent(e: RelayEvent): void {
    switch (e.type) {
      case 'timeout':
        if (this.calls.has(e.callId)) this.notify('timeout', { callId: e.callId, idleSec: Math.round(e.idleMs / 1000) });
        return;
      case 'srtpAuthFailure':
        if (this.calls.has(e.callId)) {
          this.notify('srtpAuthFailure', { callId: e.callId, tag: e.tag, streamIndex: e.index, kind: e.kind, total: e.total });
        }
        return;
      case 'log':
        this.log?.[e.level](e.message, e.fields);
    }
  }

  /** A relay thread died: its calls have no media any more; report them as failed. */
  private onRelayLost(slot: number, reason: string): void {
    this.log?.error('media: relay worker stopped; its calls are ended', { slot, reason });
    this.streams.relayLost(slot);
    this.kernelForwarder?.purge(slot + 1);
    for (const call of [...this.calls.values()]) {
      if (call.slot !== slot) continue;
      this.calls.delete(call.id);
      call.wipeKeys();
      this.streams.forget(call);
      this.notify('failed', { callId: call.id, reason: 'relay-lost' });
    }
  }
}
