/**
 * Relay streams of calls: two port pairs from the configured range (one per leg: RTP even, RTCP
 * +1, RFC 3550 §11), bound on the call's relay thread, and freed when the stream or call ends.
 * A port another program holds is skipped; running out is MediaPortsExhaustedError (503).
 *
 * The reserve: each relay keeps up to `warm` streams bound ahead of need, so that an offer takes one
 * at once instead of waiting for four socket binds on a relay thread that may be busy relaying
 * (the INVITE's added latency, docs/BENCHMARKS.md cps). The relay learns the stream's call with an
 * 'adopt' command that is not waited for: commands reach a relay in order, so any later 'configure'
 * or 'close' finds it adopted. Reserves are refilled in the background, only while the port range
 * has room to spare, and given back when a call would otherwise find the range exhausted.
 */
import type { Logger } from '../../gateway/log/logger';
import type { RelayPool } from '../relay/pool';
import { PortsExhaustedError, type PortAllocator } from '../relay/ports';
import type { OpenReply } from '../relay/protocol';
import { StreamState, type Call } from './call';
import { MediaEngineError, MediaPortsExhaustedError } from './errors';

/** Bind attempts per stream before giving up (ports held by other programs are skipped). */
const BIND_ATTEMPTS = 8;

/** A stream bound on a relay and waiting for a call. */
interface WarmStream {
  readonly id: number;
  readonly ports: [number, number];
}

export class StreamOpener {
  private nextStreamId = 1;
  /** Relay slot → its bound streams waiting for a call. */
  private readonly reserve = new Map<number, WarmStream[]>();
  /** Slots whose reserve is being filled (one filler per slot). */
  private readonly filling = new Set<number>();
  private closed = false;

  /** `warm`: streams each relay keeps bound ahead of need (0: none, every stream is bound on demand). */
  constructor(
    private readonly ports: PortAllocator,
    private readonly pool: RelayPool,
    private readonly bindAddress: string,
    private readonly log: Logger | undefined,
    private readonly warm = 0,
  ) {}

  /** Streams bound ahead of need on all relays. */
  get reserved(): number {
    let n = 0;
    for (const list of this.reserve.values()) n += list.length;
    return n;
  }

  /** Starts filling every relay's reserve (the engine calls it once its relays exist). */
  prime(slots: number): void {
    for (let slot = 0; slot < slots; slot++) this.refill(slot);
  }

  /** The stream at `index`, opened on the call's relay if it is not yet. */
  async ensure(call: Call, index: number, mediaType: string): Promise<StreamState> {
    const existing = call.streams[index];
    if (existing?.opened) {
      existing.mediaType = mediaType;
      return existing;
    }
    const ready = this.reserve.get(call.slot)?.pop();
    if (ready !== undefined) {
      this.refill(call.slot);
      return this.adopt(call, index, mediaType, ready);
    }
    const stream = new StreamState(this.nextStreamId++, index, mediaType);
    for (let attempt = 1; ; attempt++) {
      const ports = await this.allocatePairOrReclaim();
      let reply: OpenReply;
      try {
        reply = (await this.pool.request(call.slot, {
          op: 'open', streamId: stream.id, callId: call.id, index, address: this.bindAddress, ports,
        })) as OpenReply;
      } catch (e) {
        this.release(ports);
        throw new MediaEngineError('relay-failed', undefined, { cause: e });
      }
      if (reply.ok) {
        stream.sides[0].port = ports[0];
        stream.sides[1].port = ports[1];
        stream.opened = true;
        call.streams[index] = stream;
        this.refill(call.slot);
        return stream;
      }
      // Another program holds one of the ports: both pairs go to the back of the queue.
      this.release(ports);
      this.log?.warn('media: port pair unavailable, trying another', { port: ports[reply.leg], code: reply.code });
      if (attempt >= BIND_ATTEMPTS) throw new MediaPortsExhaustedError(`bind failed ${BIND_ATTEMPTS} times`);
    }
  }

  /** Closes the stream at `index` on the relay and frees its ports. */
  async drop(call: Call, index: number): Promise<void> {
    const s = call.streams[index];
    if (!s) return;
    call.streams[index] = undefined;
    if (!s.opened) return;
    s.opened = false;
    try {
      await this.pool.request(call.slot, { op: 'close', streamIds: [s.id] });
    } finally {
      this.releaseStream(s);
    }
  }

  /** Frees the ports of every stream of a call the relay no longer has (closed or lost). */
  forget(call: Call): void {
    for (const s of call.openStreams()) {
      s.opened = false;
      this.releaseStream(s);
    }
  }

  /** A relay thread died: its reserved streams died with it. Its replacement gets a new reserve. */
  relayLost(slot: number): void {
    for (const w of this.reserve.get(slot) ?? []) this.release(w.ports);
    this.reserve.delete(slot);
    // The pool puts the replacement thread in place right after reporting the loss.
    setImmediate(() => this.refill(slot));
  }

  /** No more refills (the engine is closing; closing the relays closes the reserved streams). */
  close(): void {
    this.closed = true;
  }

  private adopt(call: Call, index: number, mediaType: string, ready: WarmStream): StreamState {
    const stream = new StreamState(ready.id, index, mediaType);
    stream.sides[0].port = ready.ports[0];
    stream.sides[1].port = ready.ports[1];
    stream.opened = true;
    call.streams[index] = stream;
    // Not waited for (see the file comment). It fails only when the relay is gone, and then the
    // engine ends the relay's calls anyway (onRelayLost).
    this.pool.request(call.slot, { op: 'adopt', streamId: ready.id, callId: call.id, index }).catch((e: unknown) => {
      this.log?.debug('media: adopting a reserved stream failed', { callId: call.id, error: e instanceof Error ? e.message : String(e) });
    });
    return stream;
  }

  /**
   * Tops the slot's reserve up to `warm` in the background, while the range keeps at least as many
   * free pairs again for calls on other relays. Bind failures (ports held elsewhere) are skipped
   * within BIND_ATTEMPTS; a relay error stops the round.
   */
  private refill(slot: number): void {
    if (this.warm === 0 || this.closed || this.filling.has(slot)) return;
    const list = this.reserve.get(slot) ?? [];
    this.reserve.set(slot, list);
    if (list.length >= this.warm) return;
    this.filling.add(slot);
    void (async () => {
      let failures = 0;
      while (!this.closed && list.length < this.warm && failures < BIND_ATTEMPTS && this.ports.available >= 4 * this.warm + 2) {
        const ports = this.allocatePair();
        const id = this.nextStreamId++;
        let reply: OpenReply;
        try {
          reply = (await this.pool.request(slot, { op: 'open', streamId: id, callId: '', index: -1, address: this.bindAddress, ports })) as OpenReply;
        } catch {
          this.release(ports);
          break;
        }
        if (!reply.ok) {
          this.release(ports);
          failures++;
          continue;
        }
        if (this.closed || this.reserve.get(slot) !== list) {
          // Closing, or the relay was lost while this stream was being bound.
          this.release(ports);
          void this.pool.request(slot, { op: 'close', streamIds: [id] }).catch(() => undefined);
          break;
        }
        list.push({ id, ports });
      }
    })()
      .catch((e: unknown) => this.log?.warn('media: filling the stream reserve failed', { slot, error: e instanceof Error ? e.message : String(e) }))
      .finally(() => this.filling.delete(slot));
  }

  /** A free pair; when the range is exhausted, the reserves are given back first. */
  private async allocatePairOrReclaim(): Promise<[number, number]> {
    try {
      return this.allocatePair();
    } catch (e) {
      if (!(e instanceof MediaPortsExhaustedError) || this.reserved === 0) throw e;
    }
    for (const [slot, list] of this.reserve) {
      const taken = list.splice(0);
      if (taken.length === 0) continue;
      // Released once the relay has closed them, so that nothing binds a port still held.
      await this.pool.request(slot, { op: 'close', streamIds: taken.map((w) => w.id) }).catch(() => undefined);
      for (const w of taken) this.release(w.ports);
    }
    return this.allocatePair();
  }

  private allocatePair(): [number, number] {
    try {
      const first = this.ports.allocate();
      try {
        return [first, this.ports.allocate()];
      } catch (e) {
        this.ports.release(first);
        throw e;
      }
    } catch (e) {
      if (e instanceof PortsExhaustedError) throw new MediaPortsExhaustedError();
      throw e;
    }
  }

  private release(ports: readonly number[]): void {
    for (const p of ports) this.ports.release(p);
  }

  private releaseStream(s: StreamState): void {
    for (const side of s.sides) if (side.port !== undefined) this.ports.release(side.port);
  }
}
