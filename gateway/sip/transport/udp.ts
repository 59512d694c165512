/**
 * SIP over UDP (RFC 3261 §18.1.1, §18.2.1; RFC 3581 §4): one datagram is one message.
 *
 * Responses and requests leave from a listening socket, never an ephemeral one, so NATs see the
 * same address/port the client sent to (symmetric response, RFC 3581 §4).
 */
import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import type { ListeningAddress, TransportCounters } from './options';
import { TransportError, type Endpoint, type ReceivedInfo, type SendTarget } from './types';
import { describe, errorCode } from './tcp';

/**
 * dgram resolves the destination of every send through dns.lookup, which defers even an IP
 * literal to the next tick. Targets here are resolved addresses (SendTarget), so a literal is
 * answered synchronously; anything else still goes to the resolver.
 */
function literalLookup(address: string, family: number, callback: (err: Error | null, address: string, family: number) => void): void {
  const f = isIP(address);
  if (f !== 0) callback(null, address, f);
  else dnsLookup(address, family, callback);
}

const CR = 0x0d;
const LF = 0x0a;

interface BoundSocket {
  socket: Socket;
  family: 'IPv4' | 'IPv6';
  local: Endpoint;
}

export interface UdpHooks {
  maxMessageBytes: number;
  counters: TransportCounters;
  deliver(data: Buffer, info: ReceivedInfo): void;
}

/** Keep-alives some clients send over UDP (RFC 5626 §4.4.1 style CRLFs): nothing to hand up. */
function isKeepAlive(data: Buffer): boolean {
  for (const b of data) if (b !== CR && b !== LF) return false;
  return true;
}

export class UdpTransport {
  private constructor(
    private readonly bound: BoundSocket[],
    private readonly hooks: UdpHooks,
  ) {}

  /**
   * Binds one socket per host. With port 0 the first socket's ephemeral port is reused for the
   * other hosts, so every address advertises the same port.
   */
  static async bind(hosts: string[], port: number, hooks: UdpHooks): Promise<UdpTransport> {
    const transport = new UdpTransport([], hooks);
    try {
      let next = port;
      for (const host of hosts) {
        const b = await transport.bindOne(host, next);
        next = b.local.port;
      }
    } catch (err) {
      await transport.close();
      throw err;
    }
    return transport;
  }

  private bindOne(host: string, port: number): Promise<BoundSocket> {
    const family = isIP(host) === 6 ? 'IPv6' : 'IPv4';
    // IPv6-only so the IPv4 socket can share the port and no IPv4-mapped addresses appear.
    const socket = createSocket({ type: family === 'IPv6' ? 'udp6' : 'udp4', ipv6Only: family === 'IPv6', lookup: literalLookup as unknown as SocketOptions['lookup'] });
    return new Promise((resolve, reject) => {
      const onBindError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onBindError);
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.off('error', onBindError);
        // ICMP errors and the like surface here; they must not crash the process.
        socket.on('error', () => {
          this.hooks.counters.udpSocketErrors++;
        });
        const local = { address: socket.address().address, port: socket.address().port };
        const b: BoundSocket = { socket, family, local };
        socket.on('message', (data, rinfo) => this.onDatagram(data, rinfo, b));
        this.bound.push(b);
        resolve(b);
      });
    });
  }

  private onDatagram(data: Buffer, rinfo: RemoteInfo, b: BoundSocket): void {
    const { counters } = this.hooks;
    if (isKeepAlive(data)) {
      counters.udpKeepAlives++;
      return;
    }
    if (data.length > this.hooks.maxMessageBytes) {
      counters.udpOversizeDrops++;
      return;
    }
    counters.messagesIn++;
    this.hooks.deliver(data, {
      protocol: 'UDP',
      remote: { address: rinfo.address, port: rinfo.port },
      local: { ...b.local },
    });
  }

  addresses(): ListeningAddress[] {
    return this.bound.map((b) => ({ protocol: 'UDP', family: b.family, address: b.local.address, port: b.local.port }));
  }

  /** Sends from the listening socket of the destination's family (bound to `target.local` if given). */
  send(target: SendTarget, data: Buffer): Promise<void> {
    const family = isIP(target.remote.address) === 6 ? 'IPv6' : 'IPv4';
    const candidates = this.bound.filter((b) => b.family === family);
    const b = (target.local && candidates.find((c) => c.local.address === target.local?.address)) ?? candidates[0];
    if (b === undefined) {
      return Promise.reject(new TransportError(`no ${family} UDP listener to send from`, target));
    }
    if (data.length > this.hooks.maxMessageBytes) {
      // RFC 3261 §18.1.1: a message this large has to go over a congestion-controlled transport.
      return Promise.reject(new TransportError(`message of ${data.length} bytes is too large for UDP`, target));
    }
    return new Promise((resolve, reject) => {
      b.socket.send(data, target.remote.port, target.remote.address, (err) => {
        if (err) reject(new TransportError(`UDP send to ${describe(target.remote)} failed (${errorCode(err)})`, target));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.bound.map((b) => new Promise<void>((resolve) => b.socket.close(() => resolve()))),
    );
    this.bound.length = 0;
  }
}
