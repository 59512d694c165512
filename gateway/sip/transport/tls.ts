/**
 * SIP over TLS (RFC 3261 §26.2, §26.3.1; RFC 5630): the listener and the verified outbound connect.
 *
 * Policy (RFC 9325 §4): TLS 1.2 and 1.3 only; on TLS 1.2 only ECDHE with AEAD ciphers (AES-GCM,
 * ChaCha20-Poly1305), so every session has forward secrecy and no CBC/MAC-then-encrypt construction
 * is ever negotiated; TLS 1.3 suites are all AEAD. The server's preference order wins.
 */
import { isIP, type Socket } from 'node:net';
import {
  checkServerIdentity,
  connect,
  createServer,
  type PeerCertificate,
  type SecureVersion,
  type Server,
  type TLSSocket,
} from 'node:tls';
import { ConnectError, describe, settleConnect } from './tcp';
import type { TlsConfig } from './options';
import type { Endpoint } from './types';

export const TLS_MIN_VERSION: SecureVersion = 'TLSv1.2';
export const TLS_MAX_VERSION: SecureVersion = 'TLSv1.3';

/** TLS 1.3 suites (RFC 8446 §9.1), all AEAD. */
export const TLS13_SUITES: readonly string[] = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
];

/** TLS 1.2 suites (RFC 9325 §4.2): ECDHE key exchange, AEAD record protection, nothing else. */
export const TLS12_AEAD_SUITES: readonly string[] = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
];

/** The OpenSSL cipher string (Node routes the TLS_* names to the TLS 1.3 suite list). */
export const AEAD_CIPHERS: string = [...TLS13_SUITES, ...TLS12_AEAD_SUITES].join(':');

/** Thrown when an outbound TLS handshake or the server certificate verification fails. */
export class TlsHandshakeError extends ConnectError {
  constructor(message: string) {
    super(message);
    this.name = 'TlsHandshakeError';
  }
}

export interface TlsServerHandlers {
  /** Every accepted TCP connection, before its handshake: the place to enforce the connection cap. */
  onRawConnection(socket: Socket): void;
  /** A completed (and, when required, client-verified) handshake. */
  onSecure(socket: TLSSocket): void;
  onHandshakeError(): void;
}

export function createTlsServer(cfg: TlsConfig, handshakeTimeoutMs: number, handlers: TlsServerHandlers): Server {
  const server = createServer({
    cert: cfg.cert,
    key: cfg.key,
    ca: cfg.ca,
    minVersion: TLS_MIN_VERSION,
    maxVersion: TLS_MAX_VERSION,
    ciphers: AEAD_CIPHERS,
    honorCipherOrder: true,
    requestCert: cfg.requestClientCert ?? false,
    rejectUnauthorized: cfg.rejectUnauthorizedClients ?? true,
    handshakeTimeout: handshakeTimeoutMs,
  });
  server.on('connection', (socket: Socket) => handlers.onRawConnection(socket));
  server.on('secureConnection', (socket: TLSSocket) => {
    // TLS 1.2 renegotiation is only an attack surface here (CVE-2011-1473 style CPU exhaustion).
    socket.disableRenegotiation();
    handlers.onSecure(socket);
  });
  server.on('tlsClientError', () => handlers.onHandshakeError());
  return server;
}

/** The peer's certificate if the handshake verified it against our trust anchors, else undefined. */
export function verifiedPeerCertificate(socket: TLSSocket): PeerCertificate | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  return cert && Object.keys(cert).length > 0 ? cert : undefined;
}

/**
 * RFC 3261 §26.3.1 / RFC 5922 §7.2: connects and verifies the server certificate against the
 * configured CA (Node's root store when none is configured) and against `serverName` (SNI), or the
 * address when no name is known. Verification failure rejects: there is no unverified fallback.
 * Our certificate is offered when the server asks for one (mutual TLS between servers).
 */
export function connectTls(
  remote: Endpoint,
  serverName: string | undefined,
  cfg: TlsConfig | undefined,
  timeoutMs: number,
  onSocket: (socket: Socket) => boolean,
): Promise<TLSSocket> {
  const identity = serverName ?? remote.address;
  const socket = connect({
    host: remote.address,
    port: remote.port,
    // RFC 6066 §3: SNI carries host names only, never literal addresses.
    servername: serverName !== undefined && isIP(serverName) === 0 ? serverName : undefined,
    checkServerIdentity: (_host, cert) => checkServerIdentity(identity, cert),
    rejectUnauthorized: true,
    ca: cfg?.ca,
    cert: cfg?.cert,
    key: cfg?.key,
    minVersion: TLS_MIN_VERSION,
    maxVersion: TLS_MAX_VERSION,
    ciphers: AEAD_CIPHERS,
  });
  return settleConnect(socket, {
    remote, timeoutMs, onSocket, ready: 'secureConnect',
    fail: (why) => new TlsHandshakeError(`TLS connect to ${describe(remote)} ${why}`),
    // rejectUnauthorized already aborted unverified handshakes; this guards against a future edit.
    check: (s) => (s.authorized ? undefined : 'server certificate not verified'),
  });
}
