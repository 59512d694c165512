/**
 * The transport layer's contract with the layers above (RFC 3261 §18).
 *
 * Transports move whole, framed messages as bytes; parsing happens above them. A connection-oriented
 * "flow" (RFC 5626 §3) is named by `flowId`, so requests to a registered client can go back over
 * the client's own TCP/TLS connection (baresip cannot accept inbound TLS).
 */
import type { PeerCertificate } from 'node:tls';

export type TransportProtocol = 'UDP' | 'TCP' | 'TLS';

export interface Endpoint {
  address: string;
  port: number;
}

/** Where a message came from. */
export interface ReceivedInfo {
  protocol: TransportProtocol;
  remote: Endpoint;
  local: Endpoint;
  /** Set for TCP and TLS: the connection the message arrived on. */
  flowId?: string;
  /** TLS only, when client certificates are requested: the verified peer certificate. */
  peerCertificate?: PeerCertificate;
}

/** Where to send: over an existing flow when it is still up, else to the address with that protocol. */
export interface SendTarget {
  protocol: TransportProtocol;
  remote: Endpoint;
  flowId?: string;
  /** For TLS connections we open: the name to verify the server certificate against (SNI). */
  serverName?: string;
  /**
   * UDP only: send from the listening socket bound to this address (pass `ReceivedInfo.local`), so a
   * response leaves from the address the request reached (RFC 3581 §4 symmetric response).
   */
  local?: Endpoint;
  /**
   * RFC 5626 §5.3: use the flow named by `flowId` or nothing. When the flow is gone the send rejects
   * with a `FlowFailedError` (the layer above answers 430) instead of opening a new connection.
   */
  flowOnly?: boolean;
}

/** What a transport hands up: one framed message. */
export interface TransportUser {
  onMessage(data: Buffer, info: ReceivedInfo): void;
}

/** What the layers above use to send. Rejects with a TransportError when the message cannot leave. */
export interface Transport {
  send(target: SendTarget, data: Buffer): Promise<void>;
}

export class TransportError extends Error {
  constructor(message: string, readonly target?: SendTarget) {
    super(message);
    this.name = 'TransportError';
  }
}

/** RFC 5626 §5.3: the flow the message had to use is no longer up. */
export class FlowFailedError extends TransportError {
  constructor(message: string, target?: SendTarget) {
    super(message, target);
    this.name = 'FlowFailedError';
  }
}

/** RFC 3261 §18.2.1: TCP, TLS (and SCTP, WS) are reliable; timers E/G/J behave differently. */
export function isReliable(protocol: string): boolean {
  return protocol.toUpperCase() !== 'UDP';
}
