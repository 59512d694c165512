/**
 * Configuration and counters of the transport layer (RFC 3261 §18).
 *
 * Every limit has a default so a peer can never make the gateway buffer without bound: that is the
 * failure of stacks that grow a stream buffer until a Content-Length arrives.
 */
import { isIP } from 'node:net';
import { TransportError, type SendTarget, type TransportProtocol } from './types';

/** Resource limits that apply to every peer. */
export interface TransportLimits {
  /** Largest header block (start-line + headers + the blank line) accepted on a stream. */
  maxHeaderBytes: number;
  /** Largest whole message (header block + body), on streams and in UDP datagrams. */
  maxMessageBytes: number;
  /** Bytes we accept to queue towards a peer that does not read; beyond it the flow is closed. */
  maxWriteBufferBytes: number;
  /** An inbound TLS handshake that has not completed by then is aborted. */
  tlsHandshakeTimeoutMs: number;
  /** An outbound TCP connect (and TLS handshake) that has not completed by then fails. */
  connectTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<TransportLimits> = Object.freeze({
  maxHeaderBytes: 65535,
  maxMessageBytes: 65535,
  maxWriteBufferBytes: 1024 * 1024,
  tlsHandshakeTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
});

/** Our TLS identity and trust anchors, as PEM given by the caller (RFC 3261 §26.3.1, RFC 5922). */
export interface TlsConfig {
  cert: Buffer | string;
  key: Buffer | string;
  /** Trust anchors for client certificates and for servers we connect to. Absent: Node's root store. */
  ca?: Buffer | string | Array<Buffer | string>;
  /** Ask inbound TLS clients for a certificate (mutual TLS). Default false. */
  requestClientCert?: boolean;
  /** With `requestClientCert`: refuse the handshake when the client certificate does not verify. Default true. */
  rejectUnauthorizedClients?: boolean;
}

/** Options of `TransportLayer.listen`. A port of `null` (or absent) disables that transport; 0 = ephemeral. */
export interface TransportLayerOptions {
  /** IPv4 and/or IPv6 addresses to bind, without brackets (e.g. ['127.0.0.1', '::1']). */
  hosts: string[];
  udpPort?: number | null;
  tcpPort?: number | null;
  tlsPort?: number | null;
  /** Required when `tlsPort` is set, and for outbound TLS. */
  tls?: TlsConfig;
  limits?: Partial<TransportLimits>;
  /** A flow without traffic in either direction (keep-alives included) for this long is closed. */
  idleTimeoutMs?: number;
  /** Cap on concurrent TCP+TLS connections, inbound and outbound together. */
  maxConnections?: number;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/** One bound listener, as reported by `TransportLayer.addresses()`. */
export interface ListeningAddress {
  protocol: TransportProtocol;
  family: 'IPv4' | 'IPv6';
  address: string;
  port: number;
}

/** Monotonic counters for metrics; `TransportLayer.counters` returns a snapshot. */
export interface TransportCounters {
  messagesIn: number;
  messagesOut: number;
  /** Messages received before a TransportUser was set. */
  messagesDroppedNoUser: number;
  udpKeepAlives: number;
  udpOversizeDrops: number;
  udpSocketErrors: number;
  /** Errors of TCP/TLS listeners (e.g. EMFILE while accepting). */
  acceptErrors: number;
  /** Stream peers disconnected for breaking the framing rules (RFC 3261 §18.3). */
  framingErrors: number;
  /** RFC 5626 §4.4.1 double-CRLF pings answered. */
  keepAlivePings: number;
  connectionsAccepted: number;
  connectionsRefused: number;
  connectionsOpened: number;
  connectionsClosed: number;
  connectFailures: number;
  idleTimeouts: number;
  /** Inbound handshakes that failed (policy refusals, bad client certificates, timeouts; also
   *  connections refused by the cap before their handshake). */
  tlsHandshakeFailures: number;
  writeBufferOverflows: number;
  sendFailures: number;
  /** Exceptions thrown by TransportUser.onMessage (caught so one bad message cannot kill a flow). */
  userErrors: number;
}

export function newCounters(): TransportCounters {
  return {
    messagesIn: 0,
    messagesOut: 0,
    messagesDroppedNoUser: 0,
    udpKeepAlives: 0,
    udpOversizeDrops: 0,
    udpSocketErrors: 0,
    acceptErrors: 0,
    framingErrors: 0,
    keepAlivePings: 0,
    connectionsAccepted: 0,
    connectionsRefused: 0,
    connectionsOpened: 0,
    connectionsClosed: 0,
    connectFailures: 0,
    idleTimeouts: 0,
    tlsHandshakeFailures: 0,
    writeBufferOverflows: 0,
    sendFailures: 0,
    userErrors: 0,
  };
}

/** `TransportLayer.listen` was given options it cannot honour. */
export class TransportConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportConfigError';
  }
}

/** Accepts `[v6]` as well as bare addresses, but only IP literals: name resolution is RFC 3263's job. */
export function normalizeTarget(target: SendTarget): SendTarget & { protocol: TransportProtocol } {
  const protocol = String(target.protocol).toUpperCase();
  if (protocol !== 'UDP' && protocol !== 'TCP' && protocol !== 'TLS') {
    throw new TransportError(`unsupported transport ${protocol}`, target);
  }
  const address = stripBrackets(target.remote.address);
  if (isIP(address) === 0) throw new TransportError('remote address must be an IP literal', target);
  const port = target.remote.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TransportError('invalid remote port', target);
  return { ...target, protocol, remote: { address, port } };
}

export function stripBrackets(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}

/** Checks `listen` options; returns the hosts without brackets. */
export function validateOptions(opts: TransportLayerOptions): string[] {
  if (!Array.isArray(opts.hosts) || opts.hosts.length === 0) throw new TransportConfigError('hosts is empty');
  const hosts = opts.hosts.map(stripBrackets);
  for (const h of hosts) if (isIP(h) === 0) throw new TransportConfigError(`host ${h} is not an IP address`);
  for (const [name, port] of [['udpPort', opts.udpPort], ['tcpPort', opts.tcpPort], ['tlsPort', opts.tlsPort]] as const) {
    if (port != null && (!Number.isInteger(port) || port < 0 || port > 65535)) {
      throw new TransportConfigError(`${name} must be an integer in 0..65535`);
    }
  }
  if (opts.tlsPort != null && !opts.tls) throw new TransportConfigError('tlsPort needs a tls configuration');
  const positive: Array<[string, number | undefined]> = [
    ['idleTimeoutMs', opts.idleTimeoutMs],
    ['maxConnections', opts.maxConnections],
    ...Object.entries(opts.limits ?? {}),
  ];
  for (const [name, v] of positive) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new TransportConfigError(`${name} must be a positive integer`);
  }
  return hosts;
}
