/**
 * Loader of the relay threads' UDP I/O addon (binding.gyp, src/udpio.c): media sockets in one epoll
 * set per thread, read in batches with recvmmsg(2), written with sendto(2). Optional: when it is
 * not built or fails to load, `loadUdpIo()` returns null and the relay uses Node's dgram.
 */
import { lazyAddon } from '../../../addon';
import { udpIoAddonPath } from './path';

/** One thread's media sockets; see src/udpio.c for the contract of each method. */
export interface NativeUdpIo {
  /** Binds a UDP socket exclusively; its id. Throws an Error whose `code` names the errno. */
  open(family: 4 | 6, address: string, port: number): number;
  close(id: number): void;
  /** Where send(id, ...) goes from now on; throws TypeError on a literal not of the socket's family. */
  setTarget(id: number, port: number, address: string): void;
  /** sendto(2), synchronously: 0, or its errno. */
  send(id: number, packet: Uint8Array): number;
  /** The source address of a filled slot, as text (IPv6 sources; IPv4 ones are in meta). */
  addressOf(slot: number): string;
  /**
   * Copies the queue-delay histogram (cumulative since construction) into `out`, a Float64Array of
   * DELAY_BOUNDS_US.length + 2: the count of each bucket (≤ each bound, then above the last), then
   * the sum of all delays in µs. A datagram's delay: from entering its socket's receive queue
   * (the kernel's SO_TIMESTAMPNS) to being read.
   */
  queueDelay(out: Float64Array): void;
  destroy(): void;
  /**
   * The fast path (src/fastpath.c): from now on datagrams on `rtpId` from source:sourcePort are
   * relayed in C, sent from `txId` to dest:destPort; datagrams on `rtcpId` only have their token
   * taken. `state`: Float64Array of FAST_STATE_LENGTH (FAST_FIELDS, then both replay windows);
   * sessions: null for a plain RTP side, else an AesCmSession/GcmSession of this same addon.
   */
  fastPlace(
    rtpId: number,
    rtcpId: number,
    txId: number,
    source: string,
    sourcePort: number,
    dest: string,
    destPort: number,
    state: Float64Array,
    payloadMap: Uint8Array,
    inSession: object | null,
    outSession: object | null,
  ): void;
  /** Writes the rule's state (its deltas since the last take, then zeroed); `remove` takes it away. False: no rule. */
  fastTake(rtpId: number, state: Float64Array, remove: boolean): boolean;
}

export interface NativeUdpIoAddon {
  /** `onBatch(count)` is called with slots 0..count-1 of `data`/`meta` filled. */
  readonly UdpIo: new (data: Uint8Array, meta: Int32Array, onBatch: (count: number) => void) => NativeUdpIo;
  /** Octets of one slot in `data`. */
  readonly SLOT_OCTETS: number;
  /** Int32s of one slot in `meta`: socket id, length (-1: truncated), port, family, address words. */
  readonly META_INTS: number;
  /** Upper bounds of the queue-delay buckets, µs, ascending. */
  readonly DELAY_BOUNDS_US: readonly number[];
  /** The fast path's state fields, in their order in the state array. */
  readonly FAST_FIELDS: readonly string[];
  readonly FAST_STATE_LENGTH: number;
  /** Words of each replay window after the fields (windows up to 32 × this packets). */
  readonly FAST_WINDOW_WORDS: number;
  /**
   * sched_setscheduler(2) on the calling thread only (src/sched.c), with SCHED_RESET_ON_FORK:
   * 0, or its errno. Throws TypeError on a policy not named here or a priority out of its range
   * (1..99 for fifo/rr, 0 for other).
   */
  setRealtime(policy: 'fifo' | 'rr' | 'other', priority: number): number;
  /** The calling thread's policy and real-time priority. */
  threadScheduling(): { readonly policy: 'fifo' | 'rr' | 'other' | 'unknown'; readonly priority: number };
}

function isAddon(value: unknown): value is NativeUdpIoAddon {
  const v = value as Record<string, unknown> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.UdpIo === 'function' &&
    typeof v.SLOT_OCTETS === 'number' &&
    typeof v.META_INTS === 'number' &&
    Array.isArray(v.DELAY_BOUNDS_US) &&
    Array.isArray(v.FAST_FIELDS) &&
    typeof v.FAST_STATE_LENGTH === 'number' &&
    typeof v.setRealtime === 'function' &&
    typeof v.threadScheduling === 'function'
  );
}

const addon = lazyAddon(udpIoAddonPath(), isAddon);

/** The addon (loaded at most once per thread), or null. */
export const loadUdpIo = addon.load;

/** Why the addon is not there (undefined when it is). */
export const udpIoFault = addon.fault;
