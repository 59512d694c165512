/**
 * Per-SSRC state of one context (RFC 3711 §3.2.3: the crypto context is per SSRC), bounded so
 * that a peer cycling through SSRCs cannot grow it without limit. Receive-side entries are only
 * created for packets that authenticated, so forged packets never consume a slot.
 *
 * There is deliberately no eviction: forgetting a receive stream would forget its replay window
 * and let its old packets be replayed. A context that runs out of slots needs a new key.
 */
import { SrtpConfigError, SrtpStreamLimitError } from './errors';

export const DEFAULT_MAX_STREAMS = 64;
const MAX_MAX_STREAMS = 65536;

export class StreamTable<T> {
  private readonly streams = new Map<number, T>();

  constructor(readonly maxStreams: number = DEFAULT_MAX_STREAMS) {
    if (!Number.isInteger(maxStreams) || maxStreams < 1 || maxStreams > MAX_MAX_STREAMS) {
      throw new SrtpConfigError(`maxStreams must be an integer in [1, ${MAX_MAX_STREAMS}], got ${maxStreams}`);
    }
  }

  get size(): number {
    return this.streams.size;
  }

  get(ssrc: number): T | undefined {
    return this.streams.get(ssrc);
  }

  /** Throws SrtpStreamLimitError if `ssrc` is new and the table is full. */
  assertRoomFor(ssrc: number): void {
    if (this.streams.size >= this.maxStreams && !this.streams.has(ssrc)) {
      throw new SrtpStreamLimitError(ssrc, this.maxStreams);
    }
  }

  /** The entry of `ssrc`, created by `make()` if absent (subject to the bound). */
  getOrCreate(ssrc: number, make: () => T): T {
    let entry = this.streams.get(ssrc);
    if (entry === undefined) {
      this.assertRoomFor(ssrc);
      entry = make();
      this.streams.set(ssrc, entry);
    }
    return entry;
  }

  clear(): void {
    this.streams.clear();
  }
}
