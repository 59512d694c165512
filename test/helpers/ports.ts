/** Free loopback ports for peers that need a fixed port in their configuration. */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (bound to 0, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * baresip listens on sip_listen's port for UDP and TCP and on the next one for TLS: all must be free.
 * Picked below the kernel's ephemeral range (32768+), where other programs' outgoing connections
 * cannot take the port between our check and baresip's bind.
 */
export async function freeSipPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 21000 + randomInt(0, 4000) * 2;
    if ((await tcpFree(port)) && (await tcpFree(port + 1)) && (await udpFree(port))) return port;
  }
  throw new Error('no free SIP port pair for baresip');
}

/** A TCP port below the ephemeral range (for ctrl_tcp). */
export async function freeLowPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 29000 + randomInt(0, 3000);
    if (await tcpFree(port)) return port;
  }
  throw new Error('no free TCP port');
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
