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
  const socket = connect({ host: remote.address, port: remote.port, noDelay: true });
  return settleConnect(socket, {
    remote, timeoutMs, onSocket, ready: 'connect',
    fail: (why) => new ConnectError(`TCP connect to ${describe(remote)} ${why}`),
  });
}

export interface SettleOptions<S extends Socket> {
  remote: Endpoint;
  timeoutMs: number;
  /** Admits the socket into the flow table; false (the connection cap) destroys it. */
  onSocket: (socket: Socket) => boolean;
  /** The event that means "usable": `connect` for TCP, `secureConnect` for TLS. */
  ready: 'connect' | 'secureConnect';
  /** The error for a connect that did not complete; `why` says how ("timed out", "failed (ECONNREFUSED)"). */
  fail: (why: string) => ConnectError;
  /** A last check once ready; a returned reason rejects and destroys the socket. */
  check?: (socket: S) => string | undefined;
}

/**
 * Settles an outbound connect exactly once: ready, error, close before ready (e.g. destroyed by
 * close(): settle now rather than at the timeout), or the timeout. Shared by TCP and TLS.
 */
export function settleConnect<S extends Socket>(socket: S, o: SettleOptions<S>): Promise<S> {
  return new Promise((resolve, reject) => {
    if (!o.onSocket(socket)) {
      socket.destroy();
      reject(new ConnectError('connection limit reached'));
      return;
    }
    const timer = setTimeout(() => {
      socket.destroy();
      reject(o.fail('timed out'));
    }, o.timeoutMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(o.fail(`failed (${errorCode(err)})`));
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(o.fail('aborted'));
    });
    socket.once(o.ready, () => {
      clearTimeout(timer);
      const problem = o.check?.(socket);
      if (problem !== undefined) {
        socket.destroy();
        reject(o.fail(problem));
        return;
      }
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
