/**
 * SIP over TCP (RFC 3261 §18): the listener and the outbound connect. Framing, idle timeout and the
 * flow table are shared with TLS (stream.ts, flows.ts).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { TransportError, type Endpoint } from './types';

/** A TCP connect that did not complete (refused, unreachable, timed out). */
export class ConnectError extends TransportError {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectError';
  }
}

/** A TCP server; `onConnection` gets every accepted socket (and decides whether to keep it). */
export function createTcpServer(onConnection: (socket: Socket) => void): Server {
  return createServer({ noDelay: true }, onConnection);
}

/** RFC 3261 §18.1.1 / §18.2.2: opens a connection when none is up to the destination. */
export function connectTcp(remote: Endpoint, timeoutMs: number, onSocket: (socket: Socket) => boolean): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: remote.address, port: remote.port, noDelay: true });
    if (!onSocket(socket)) {
      socket.destroy();
      reject(new ConnectError('connection limit reached'));
      return;
    }
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectError(`TCP connect to ${describe(remote)} timed out`));
    }, timeoutMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(new ConnectError(`TCP connect to ${describe(remote)} failed (${errorCode(err)})`));
    });
    // Destroyed before connecting (e.g. by close()): settle now rather than at the timeout.
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new ConnectError(`TCP connect to ${describe(remote)} aborted`));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

/** `[v6]:port` or `v4:port`, for messages only. */
export function describe(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

export function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'error';
}
