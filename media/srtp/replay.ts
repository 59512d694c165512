/**
 * The sliding replay window of RFC 3711 §3.3.2, for SRTP packet indices (48 bits) and SRTCP
 * indices (31 bits).
 *
 * Two steps, on purpose: `check()` runs BEFORE authentication and changes nothing; `accept()`
 * runs only AFTER the packet authenticated. A forged packet with a far-ahead index therefore
 * cannot slide the window and lock out the genuine stream.
 */
import { SrtpConfigError } from './errors';

/** RFC 3711 §3.3.2: the window size MUST be at least 64. */
export const MIN_REPLAY_WINDOW = 64;
/** An upper bound, so a configuration typo cannot allocate without limit. */
export const MAX_REPLAY_WINDOW = 32768;

/** 'fresh' = ahead of everything seen, or inside the window and not seen yet. */
export type ReplayVerdict = 'fresh' | 'replayed' | 'too-old';

export class ReplayWindow {
  /** Window size in packets (a multiple of 32). */
  readonly size: number;
  /** Bit (i mod size) is set when index i, within the window, was accepted. */
  private readonly bits: Uint32Array;
  /** Highest accepted index; -1 before the first. */
  private top = -1;

  constructor(size: number = MIN_REPLAY_WINDOW) {
    if (!Number.isInteger(size) || size < MIN_REPLAY_WINDOW || size > MAX_REPLAY_WINDOW) {
      throw new SrtpConfigError(`replay window must be an integer in [${MIN_REPLAY_WINDOW}, ${MAX_REPLAY_WINDOW}], got ${size}`);
    }
    this.size = Math.ceil(size / 32) * 32;
    this.bits = new Uint32Array(this.size / 32);
  }

  /** The highest accepted index, or -1 if none was accepted yet. */
  get highest(): number {
    return this.top;
  }

  /**
   * The window's bits, live (bit i mod size set: index i accepted): the relay's fast path
   * (media/relay/fast.ts) carries them over to C and back with `restore`.
   */
  get words(): Uint32Array {
    return this.bits;
  }

  /** Sets the highest index and the bits, as the fast path hands them back. */
  restore(top: number, words: ArrayLike<number>): void {
    this.top = top;
    for (let i = 0; i < this.bits.length; i++) this.bits[i] = words[i]! >>> 0;
  }

  /** Classifies `index` without changing the window. */
  check(index: number): ReplayVerdict {
    if (index > this.top) return 'fresh';
    if (this.top - index >= this.size) return 'too-old';
    return this.isSet(index) ? 'replayed' : 'fresh';
  }

  /** Records an authenticated `index`; the caller has had `check(index) === 'fresh'`. */
  accept(index: number): void {
    if (index > this.top) {
      const advance = index - this.top;
      if (this.top < 0 || advance >= this.size) {
        this.bits.fill(0);
      } else {
        // Forget the indices that slide out: their slots are reused by top+1 .. index.
        for (let i = this.top + 1; i <= index; i++) this.clear(i);
      }
      this.top = index;
    }
    this.set(index);
  }

  private slot(index: number): number {
    return index % this.size;
  }

  private isSet(index: number): boolean {
    const s = this.slot(index);
    return (this.bits[s >>> 5] & (1 << (s & 31))) !== 0;
  }

  private set(index: number): void {
    const s = this.slot(index);
    this.bits[s >>> 5] |= 1 << (s & 31);
  }

  private clear(index: number): void {
    const s = this.slot(index);
    this.bits[s >>> 5] &= ~(1 << (s & 31));
  }
}
