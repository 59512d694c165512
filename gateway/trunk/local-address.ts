/**
 * Our address as a trunk sees it (Via sent-by, Contact: RFC 3261 §18.1.1, §8.1.1.8).
 *
 * A gateway listening on 0.0.0.0 has no single address to write. In order: the trunk's
 * `localAddress`; the listening socket of the trunk's transport and address family when it is
 * bound to one address; else the source address the OS routes toward the trunk, learnt by
 * connecting a UDP socket (connect() on UDP only sets the default peer: nothing is sent).
 */
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import type { ListeningAddress } from '../sip/transport/options';
import type { Endpoint } from '../sip/transport/types';
import { TrunkConfigError, type TrunkConfig } from './types';

const UNSPECIFIED = new Set(['0.0.0.0', '::']);

/** The source address the OS would use toward `remote` (rejects when there is no route). */
export function routeSource(remote: string): Promise<string> {
  const family = isIP(remote) === 6 ? 'udp6' : 'udp4';
  return new Promise((resolve, reject) => {
    const socket = createSocket(family);
    const done = (err: Error | undefined, address?: string): void => {
      socket.close();
      if (err !== undefined || address === undefined) reject(err ?? new Error('no route'));
      else resolve(address);
    };
    socket.once('error', (err) => done(err));
    socket.connect(9, remote, () => {
      try {
        done(undefined, socket.address().address);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

/** Resolves the local endpoint for one trunk from the transport layer's listening addresses. */
export async function localEndpointFor(config: TrunkConfig, listening: readonly ListeningAddress[]): Promise<Endpoint> {
  const family = isIP(config.host) === 6 ? 'IPv6' : 'IPv4';
  const candidates = listening.filter((l) => l.protocol === config.transport && l.family === family);
  if (candidates.length === 0) {
    throw new TrunkConfigError(`trunks ${JSON.stringify(config.name)}: the gateway has no ${config.transport} ${family} listener`);
  }
  const specific = candidates.filter((l) => !UNSPECIFIED.has(l.address));
  if (config.localAddress !== undefined) {
    const bound = specific.find((l) => l.address === config.localAddress) ?? candidates[0];
    return { address: config.localAddress, port: bound.port };
  }
  if (specific.length === 1) return { address: specific[0].address, port: specific[0].port };
  let source: string;
  try {
    source = await routeSource(config.host);
  } catch {
    throw new TrunkConfigError(`trunks ${JSON.stringify(config.name)}: no route to ${config.host}; set localAddress`);
  }
  // Several listeners: the one the OS would send from toward the trunk, else the wildcard one.
  const socket = specific.find((l) => l.address === source) ?? candidates.find((l) => UNSPECIFIED.has(l.address)) ?? specific[0];
  return { address: UNSPECIFIED.has(socket.address) ? source : socket.address, port: socket.port };
}
