/**
 * What TCP and TLS flows share (RFC 3261 §18.3, RFC 5626 §4.4.1): framing the byte stream into
 * messages, answering keep-alive pings, the idle timeout, and binding servers.
 */
import { isIPv6, type Server, type Socket } from 'node:net';
import { PONG, StreamFramer, type FramerLimits } from './framer';
import { WriteBufferOverflowError, type Flow } from './flows';
import type { TransportCounters } from './options';
import type { Endpoint } from './types';

export interface StreamHooks {
  limits: FramerLimits;
  idleTimeoutMs: number;
  counters: TransportCounters;
  /** One framed message from the flow. */
  deliver(data: Buffer, flow: Flow): void;
}

/**
 * Starts reading a flow. The socket's own inactivity timer is refreshed by every read and write,
 * keep-alive pings and pongs included, which is exactly the idle rule we want.
 */
export function runStream(flow: Flow, hooks: StreamHooks): void {
  const { socket } = flow;
  const framer = new StreamFramer(hooks.limits);
  socket.setNoDelay(true); // each message is written whole; Nagle would only add latency
  socket.setTimeout(hooks.idleTimeoutMs);
  socket.on('timeout', () => {
    hooks.counters.idleTimeouts++;
    socket.destroy();
  });
  // ECONNRESET and the like end in 'close', which is what the flow table listens to.
  socket.on('error', () => undefined);
  socket.on('close', () => {
    hooks.counters.connectionsClosed++;
  });
  socket.on('data', (chunk: Buffer) => {
    for (const unit of framer.push(chunk)) {
      if (unit.kind === 'message') {
        hooks.counters.messagesIn++;
        hooks.deliver(unit.data, flow);
      } else if (unit.kind === 'ping') {
        hooks.counters.keepAlivePings++;
        // Through the flow's bounded queue: a peer that pings without reading cannot grow it.
        flow.write(PONG).catch((err: unknown) => {
          if (err instanceof WriteBufferOverflowError) hooks.counters.writeBufferOverflows++;
        });
      } else {
        // RFC 3261 §18.3: a stream we cannot frame cannot be resynchronised; close it.
        hooks.counters.framingErrors++;
        socket.destroy();
        return;
      }
      if (socket.destroyed) return;
    }
  });
}

/** Remote or local endpoint of a connected socket, or undefined once it is gone. */
export function socketEndpoints(socket: Socket): { remote: Endpoint; local: Endpoint } | undefined {
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (remoteAddress === undefined || remotePort === undefined) return undefined;
  if (localAddress === undefined || localPort === undefined) return undefined;
  return { remote: { address: remoteAddress, port: remotePort }, local: { address: localAddress, port: localPort } };
}

/**
 * Binds a server. IPv6 listeners are IPv6-only so an IPv4 listener can share the port number and
 * no IPv4-mapped addresses (::ffff:a.b.c.d) ever reach the layers above.
 */
export function listenServer(server: Server, host: string, port: number, onLateError: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port, ipv6Only: isIPv6(host), exclusive: true }, () => {
      server.off('error', onError);
      // Later errors (e.g. EMFILE on accept) must not crash the process; the server keeps listening.
      server.on('error', onLateError);
      resolve();
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}
