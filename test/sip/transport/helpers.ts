/**
 * Shared fixtures for the transport tests: a throw-away test PKI, a recording TransportUser, and
 * bounded waits (every wait has a deadline, so a failing test fails instead of hanging).
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import type { ReceivedInfo, TransportUser } from '../../../gateway/sip/transport/types';

export interface TestPki {
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
  /** Self-signed: not issued by the test CA. */
  rogue: { cert: string; key: string };
}

let pki: Promise<TestPki> | undefined;

/** A CA, a server certificate for localhost/127.0.0.1/::1, a client certificate, and a rogue one. */
export function testPki(): Promise<TestPki> {
  pki ??= (async () => {
    const ca = await generate([{ name: 'commonName', value: 'Ciphergate Test CA' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    });
    const issued = (cn: string, server: boolean) =>
      generate([{ name: 'commonName', value: cn }], {
        keySize: 2048,
        algorithm: 'sha256',
        ca: { key: ca.private, cert: ca.cert },
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
          { name: 'extKeyUsage', serverAuth: server, clientAuth: true },
          {
            name: 'subjectAltName',
            altNames: server
              ? [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }]
              : [{ type: 2, value: cn }],
          },
        ],
      });
    const server = await issued('localhost', true);
    const client = await issued('alice.test', false);
    const rogue = await generate([{ name: 'commonName', value: 'mallory.test' }], { keySize: 2048, algorithm: 'sha256' });
    return {
      ca: ca.cert,
      server: { cert: server.cert, key: server.private },
      client: { cert: client.cert, key: client.private },
      rogue: { cert: rogue.cert, key: rogue.private },
    };
  })();
  return pki;
}

/** Records what the transport hands up. */
export class RecordingUser implements TransportUser {
  readonly received: Array<{ data: Buffer; info: ReceivedInfo }> = [];
  onMessage(data: Buffer, info: ReceivedInfo): void {
    this.received.push({ data, info });
  }
  texts(): string[] {
    return this.received.map((r) => r.data.toString('latin1'));
  }
}

/** Polls `check` every 5 ms until it holds; rejects after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A small SIP request with a correct Content-Length. */
export function sipRequest(method: string, body = '', transport = 'TCP', extra = ''): string {
  return (
    `${method} sip:gw.test SIP/2.0\r\n` +
    `Via: SIP/2.0/${transport} client.test;branch=z9hG4bK${method.toLowerCase()}1\r\n` +
    `Call-ID: ${method.toLowerCase()}@client.test\r\n` +
    `CSeq: 1 ${method}\r\n` +
    extra +
    `Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n` +
    body
  );
}

/** A raw stream peer (net or tls socket) that records what it receives and when it closes. */
export interface StreamPeer<S extends Socket = Socket> {
  socket: S;
  received(): string;
  closed(): boolean;
}

export function recordPeer<S extends Socket>(socket: S): StreamPeer<S> {
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
  });
  return { socket, received: () => Buffer.concat(chunks).toString('latin1'), closed: () => closed };
}

/** Opens a plain TCP connection and waits until it is established. */
export function tcpPeer(host: string, port: number): Promise<StreamPeer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => {
      socket.off('error', reject);
      resolve(recordPeer(socket));
    });
    socket.once('error', reject);
  });
}

/** Opens a TLS connection and waits for the handshake; rejects with the handshake error. */
export function tlsPeer(options: ConnectionOptions): Promise<StreamPeer<TLSSocket>> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(options, () => {
      socket.off('error', reject);
      resolve(recordPeer(socket));
    });
    socket.once('error', reject);
  });
}
