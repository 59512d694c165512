/** Media sockets on Node's dgram (sockets.ts): the relay's I/O when the batched addon is not built. */
import dgram, { type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { DatagramHandler, RelaySocket, SocketOpener } from './sockets';

/**
 * dgram resolves the destination of every send through dns.lookup, which defers to the next tick
 * even for an IP literal. Every address the relay sends to or binds is an IP literal checked by
 * the engine, so the lookup is the identity, synchronously.
 */
function literalLookup(address: string, family: number, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, address, family);
}

/** Binds `socket` to address:port exclusively; rejects with the system error code (EADDRINUSE, ...). */
function bindSocket(socket: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(err);
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

class DgramRelaySocket implements RelaySocket {
  /** dgram reports a failed send only to a send callback (without one it is silently lost). */
  private readonly sent: (err: Error | null) => void;

  constructor(
    private readonly socket: Socket,
    onSendError: () => void,
    private readonly onClose: (socket: Socket) => void,
  ) {
    this.sent = (err) => {
      if (err) onSendError();
    };
  }

  send(packet: Uint8Array, port: number, address: string): void {
    try {
      this.socket.send(packet, port, address, this.sent);
    } catch {
      this.sent(new Error('send refused')); // a closed socket, a port dgram rejects
    }
  }

  close(): void {
    this.onClose(this.socket);
  }
}

export class DgramSockets implements SocketOpener {
  readonly kind = 'dgram';
  private readonly open_ = new Set<Socket>();

  async open(address: string, port: number, onMessage: DatagramHandler, onSendError: () => void): Promise<RelaySocket> {
    const type = isIP(address) === 6 ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, lookup: literalLookup as unknown as dgram.SocketOptions['lookup'] });
    try {
      await bindSocket(socket, address, port);
    } catch (e) {
      closeQuietly(socket);
      throw e;
    }
    // Each datagram arrives in a Buffer of its own, so a packet queued by send is never reused.
    // Other faults surface as 'error' events, which must never crash the thread.
    socket.on('message', onMessage);
    socket.on('error', onSendError);
    this.open_.add(socket);
    return new DgramRelaySocket(socket, onSendError, (s) => {
      if (this.open_.delete(s)) closeQuietly(s);
    });
  }

  close(): void {
    for (const s of this.open_) closeQuietly(s);
    this.open_.clear();
  }
}
