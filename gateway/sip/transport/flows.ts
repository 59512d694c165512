/**
 * The flow table (RFC 5626 §3; RFC 3261 §18.2.2, §18.3).
 *
 * A flow is one TCP or TLS connection, named by an unguessable `flowId` so that the layers above can
 * send requests back over a client's own connection (a client behind NAT, or one like baresip that
 * never accepts inbound TLS). The table caps concurrent connections and tells its listeners when a
 * flow dies, so a registrar can drop the bindings that lived on it (RFC 5626 §5.3 / 430 Flow Failed).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import { TransportError, type Endpoint } from './types';

export type StreamProtocol = 'TCP' | 'TLS';

export interface FlowInit {
  protocol: StreamProtocol;
  socket: Socket;
  remote: Endpoint;
  local: Endpoint;
  /** True for connections we opened (RFC 3261 §18.1.1); they can be reused for the same destination. */
  outbound: boolean;
  /** Verified certificate of the peer (TLS only). */
  peerCertificate?: PeerCertificate;
  /** Bytes we accept to queue towards a peer that does not read. */
  maxWriteBufferBytes: number;
}

/** Why a write to a flow failed. */
export class FlowWriteError extends TransportError {
  constructor(message: string) {
    super(message);
    this.name = 'FlowWriteError';
  }
}

/** The write queue towards a peer exceeded `maxWriteBufferBytes`. */
export class WriteBufferOverflowError extends FlowWriteError {
  constructor(message: string) {
    super(message);
    this.name = 'WriteBufferOverflowError';
  }
}

/** One live connection. */
export class Flow {
  /** 128 random bits: a flow token must not be guessable (RFC 5626 §5.2). */
  readonly id: string = randomBytes(16).toString('hex');
  readonly protocol: StreamProtocol;
  readonly socket: Socket;
  readonly remote: Endpoint;
  readonly local: Endpoint;
  readonly outbound: boolean;
  readonly peerCertificate?: PeerCertificate;
  private readonly maxWriteBufferBytes: number;

  constructor(init: FlowInit) {
    this.protocol = init.protocol;
    this.socket = init.socket;
    this.remote = init.remote;
    this.local = init.local;
    this.outbound = init.outbound;
    this.peerCertificate = init.peerCertificate;
    this.maxWriteBufferBytes = init.maxWriteBufferBytes;
  }

  get alive(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }

  /**
   * Queues one message. A peer that lets our queue grow past the limit is disconnected rather than
   * allowed to make us buffer without bound.
   */
  write(data: Buffer): Promise<void> {
    if (!this.alive) return Promise.reject(new FlowWriteError(`flow ${this.id} is closed`));
    if (this.socket.writableLength + data.length > this.maxWriteBufferBytes) {
      this.socket.destroy();
      return Promise.reject(new WriteBufferOverflowError(`flow ${this.id}: peer is not reading; closed`));
    }
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => {
        if (err) reject(new FlowWriteError(`flow ${this.id}: write failed (${err.message})`));
        else resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

interface FlowTableEvents {
  /** The flow's connection is gone (closed by either side, idle timeout, framing error). */
  flowClosed: [flowId: string, flow: Flow];
}

/**
 * Live flows by id, plus a count of connection slots. A slot is taken when a socket is accepted or
 * a connect starts (before any TLS handshake, which is the expensive part to let an attacker start)
 * and given back when that socket closes, so the cap also bounds handshakes in progress.
 */
export class FlowTable extends EventEmitter<FlowTableEvents> {
  private readonly flows = new Map<string, Flow>();
  /** Outbound flows by destination, for connection reuse (RFC 3261 §18.1.1). */
  private readonly byDestination = new Map<string, Flow>();
  private slots = 0;

  constructor(readonly maxConnections: number) {
    super();
  }

  get size(): number {
    return this.flows.size;
  }

  /** Connections counted against the cap, including those still handshaking. */
  get connections(): number {
    return this.slots;
  }

  /** Takes a slot for `socket` until it closes; false (and nothing taken) when the cap is reached. */
  reserve(socket: Socket): boolean {
    if (this.slots >= this.maxConnections) return false;
    this.slots++;
    socket.once('close', () => {
      this.slots--;
    });
    return true;
  }

  /** Registers an established flow; it leaves the table (and `flowClosed` fires) when its socket closes. */
  add(flow: Flow, destinationKey?: string): void {
    this.flows.set(flow.id, flow);
    if (destinationKey !== undefined) this.byDestination.set(destinationKey, flow);
    flow.socket.once('close', () => {
      this.flows.delete(flow.id);
      if (destinationKey !== undefined && this.byDestination.get(destinationKey) === flow) {
        this.byDestination.delete(destinationKey);
      }
      this.emit('flowClosed', flow.id, flow);
    });
  }

  /** The flow if it is still up. */
  get(flowId: string): Flow | undefined {
    const flow = this.flows.get(flowId);
    return flow?.alive ? flow : undefined;
  }

  /** A live outbound flow we opened to that destination, if any. */
  getOutbound(destinationKey: string): Flow | undefined {
    const flow = this.byDestination.get(destinationKey);
    return flow?.alive ? flow : undefined;
  }

  all(): Flow[] {
    return [...this.flows.values()];
  }
}
