/**
 * The relay's media sockets, behind one interface with two implementations: Node's dgram (one
 * libuv read callback, Buffer and RemoteInfo per datagram) and the native batched I/O of
 * batched.ts (recvmmsg(2) batches, one JavaScript call per batch). The relay legs (leg.ts) see only
 * `RelaySocket`; a thread's `SocketOpener` decides which.
 */

import type { FastRules } from '../fast';
import type { QueueDelayHistogram } from '../protocol';

/**
 * Where a datagram came from. Valid during the handler call only (the batched opener rewrites one
 * object for every datagram, no allocation per packet): copy what must be kept, as latch.ts does.
 */
export interface Source {
  readonly address: string;
  readonly port: number;
  /** The native fast path already took this datagram's token from its leg's bucket (fast.ts): the leg does not again. */
  readonly charged?: boolean;
}

/**
 * Called for each datagram received. `msg` is valid during the call only (the batched opener
 * reuses its memory for the next batch): a packet that must outlive the call must be copied.
 */
export type DatagramHandler = (msg: Buffer, source: Source) => void;

export interface RelaySocket {
  /** The socket's id in the native I/O addon (batched sockets only): what fast-path rules name. */
  readonly nativeId?: number;
  /** Sends `packet` (not kept after the call returns) to port/address; a failure calls `onSendError`. */
  send(packet: Uint8Array, port: number, address: string): void;
  close(): void;
}

export interface SocketOpener {
  readonly kind: 'batched' | 'dgram';
  /**
   * Binds address:port exclusively. Rejects with an error whose `code` names the system error
   * (EADDRINUSE, ...).
   */
  open(address: string, port: number, onMessage: DatagramHandler, onSendError: () => void): Promise<RelaySocket>;
  /** Closes every socket it opened; the opener is not used again. */
  close(): void;
  /** The native fast path of these sockets (batched sockets on an addon that has it). */
  readonly fast?: FastRules;
  /** How long datagrams waited in these sockets before being read, when the opener measures it. */
  queueDelay?(): QueueDelayHistogram | undefined;
}
