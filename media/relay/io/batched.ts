/**
 * Media sockets read in batches (sockets.ts) through the native UDP I/O addon (native/): one epoll
 * set per relay thread; when sockets are readable each is drained with recvmmsg(2) into a shared
 * batch, and JavaScript runs once per batch. Why: at a thousand calls a relay thread receives
 * ~50,000 datagrams a second, one per socket per 20 ms; with dgram each costs a libuv read
 * callback (two recvmsg calls, the second for EAGAIN), a Buffer, a RemoteInfo and a callback scope
 * with its microtask checkpoint (docs/BENCHMARKS.md, session 6). Sends are a synchronous sendto(2)
 * to a per-socket target set only when the destination changes.
 */
import { FastRules } from '../fast';
import type { NativeUdpIo, NativeUdpIoAddon } from './native';
import type { QueueDelayHistogram } from '../protocol';
import type { DatagramHandler, RelaySocket, SocketOpener } from './sockets';

/** Slots per batch: enough for a burst across many sockets, small enough to stay in cache. */
const SLOTS = 64;
/** Text forms of IPv4 sources kept; cleared when full (sources are few; an attacker's are not). */
const V4_CACHE_MAX = 4096;
const EMPTY = Buffer.alloc(0);

class BatchedRelaySocket implements RelaySocket {
  private port = -1;
  private address = '';
  closed = false;

  constructor(
    private readonly io: NativeUdpIo,
    readonly nativeId: number,
    private readonly onSendError: () => void,
    private readonly onClose: (id: number) => void,
  ) {}

  send(packet: Uint8Array, port: number, address: string): void {
    if (this.closed) return;
    if (port !== this.port || address !== this.address) {
      try {
        this.io.setTarget(this.nativeId, port, address);
      } catch {
        this.port = -1;
        return this.onSendError();
      }
      this.port = port;
      this.address = address;
    }
    if (this.io.send(this.nativeId, packet) !== 0) this.onSendError();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this.nativeId);
  }
}

export class BatchedSockets implements SocketOpener {
  readonly kind = 'batched';
  private readonly io: NativeUdpIo;
  readonly fast: FastRules | undefined;
  private readonly data: Buffer;
  private readonly meta: Int32Array;
  private readonly slotOctets: number;
  private readonly metaInts: number;
  /** By socket id. */
  private readonly handlers: (DatagramHandler | undefined)[] = [];
  private readonly sockets = new Map<number, BatchedRelaySocket>();
  private readonly v4 = new Map<number, string>();
  /** The source handed with every datagram, rewritten for each (sockets.ts: valid during the call only). */
  private readonly source = { address: '', port: 0, charged: false };
  /** The addon's bucket bounds (µs) in seconds. */
  private readonly delayBounds: readonly number[];
  private readonly delays: Float64Array;
  private destroyed = false;

  /** `fastPath`: use the addon's native fast path (fast.ts) when it has one. */
  constructor(addon: NativeUdpIoAddon, fastPath = false) {
    this.slotOctets = addon.SLOT_OCTETS;
    this.metaInts = addon.META_INTS;
    this.data = Buffer.alloc(SLOTS * this.slotOctets);
    this.meta = new Int32Array(SLOTS * this.metaInts);
    this.io = new addon.UdpIo(this.data, this.meta, (count) => this.onBatch(count));
    this.fast = fastPath ? FastRules.of(addon, this.io) : undefined;
    this.delayBounds = addon.DELAY_BOUNDS_US.map((us) => us / 1e6);
    this.delays = new Float64Array(this.delayBounds.length + 2);
  }

  queueDelay(): QueueDelayHistogram | undefined {
    if (this.destroyed) return undefined;
    this.io.queueDelay(this.delays);
    const n = this.delayBounds.length;
    return { boundsSec: this.delayBounds, counts: Array.from(this.delays.subarray(0, n + 1)), sumSec: this.delays[n + 1]! / 1e6 };
  }

  open(address: string, port: number, onMessage: DatagramHandler, onSendError: () => void): Promise<RelaySocket> {
    if (this.destroyed) return Promise.reject(new Error('the relay sockets are closed'));
    let id: number;
    try {
      id = this.io.open(address.includes(':') ? 6 : 4, address, port);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const socket = new BatchedRelaySocket(this.io, id, onSendError, (i) => this.release(i));
    this.handlers[id] = onMessage;
    this.sockets.set(id, socket);
    return Promise.resolve(socket);
  }

  close(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const s of this.sockets.values()) s.closed = true;
    this.sockets.clear();
    this.handlers.length = 0;
    this.io.destroy();
  }

  private release(id: number): void {
    if (this.destroyed) return;
    this.handlers[id] = undefined;
    this.sockets.delete(id);
    this.io.close(id);
  }

  private onBatch(count: number): void {
    const m = this.meta;
    const n = this.metaInts;
    for (let i = 0; i < count; i++) {
      const o = i * n;
      const handler = this.handlers[m[o]!];
      if (handler === undefined) continue;
      const length = m[o + 1]!;
      const start = i * this.slotOctets;
      // A datagram longer than a slot is no media packet here: handed on empty, it is dropped as malformed.
      const msg = length < 0 ? EMPTY : this.data.subarray(start, start + length);
      const source = this.source;
      source.address = m[o + 3] === 4 ? this.v4Text(m[o + 4]!) : this.io.addressOf(i);
      source.port = m[o + 2]!;
      source.charged = m[o + 8] === 1; // META_CHARGED
      try {
        handler(msg, source);
      } catch {
        // the relay guards its own handlers; nothing a packet does may stop the batch
      }
      if (this.destroyed) return;
    }
  }

  private v4Text(word: number): string {
    let text = this.v4.get(word);
    if (text === undefined) {
      if (this.v4.size >= V4_CACHE_MAX) this.v4.clear();
      text = `${(word >>> 24) & 255}.${(word >>> 16) & 255}.${(word >>> 8) & 255}.${word & 255}`;
      this.v4.set(word, text);
    }
    return text;
  }
}
