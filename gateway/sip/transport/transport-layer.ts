/**
 * The SIP transport layer (RFC 3261 §18): UDP, TCP and TLS listeners on IPv4 and IPv6, the flow
 * table, and `send`, which picks the flow or socket a message leaves on.
 *
 * Security rule enforced here: a target whose protocol is TLS only ever leaves over a TLS flow or a
 * new, verified TLS connection. There is no fallback to TCP or UDP, not even when TLS fails
 * (RFC 3261 §26.2.2); `transportForUri` (uri-transport.ts) maps sips: and transport=tls to TLS.
 */
import { EventEmitter } from 'node:events';
import { isIP, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Flow, FlowTable, WriteBufferOverflowError, type StreamProtocol } from './flows';
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LIMITS,
  DEFAULT_MAX_CONNECTIONS,
  TransportConfigError,
  newCounters,
  normalizeTarget,
  validateOptions,
  type ListeningAddress,
  type TlsConfig,
  type TransportCounters,
  type TransportLayerOptions,
  type TransportLimits,
} from './options';
import { closeServer, listenServer, runStream, socketEndpoints } from './stream';
import { ConnectError, connectTcp, createTcpServer } from './tcp';
import { connectTls, createTlsServer, verifiedPeerCertificate } from './tls';
import {
  FlowFailedError,
  TransportError,
  type ReceivedInfo,
  type SendTarget,
  type Transport,
  type TransportUser,
} from './types';
import { UdpTransport } from './udp';

export interface TransportLayerEvents {
  /** A TCP/TLS flow is gone (RFC 5626 §5.3): bindings that lived on it are unreachable. */
  flowClosed: [flowId: string];
  /** `TransportUser.onMessage` threw; the message is lost, the flow stays up. */
  userError: [error: unknown];
}

export class TransportLayer extends EventEmitter<TransportLayerEvents> implements Transport {
  private user: TransportUser | undefined;
  private readonly counts: TransportCounters = newCounters();
  private readonly flows: FlowTable;
  private readonly servers: Array<{ server: Server; address: ListeningAddress }> = [];
  private udp: UdpTransport | undefined;
  /** Every socket we hold (accepted, handshaking, connected), so close() leaves nothing behind. */
  private readonly sockets = new Set<Socket>();
  /** Connects in progress by destination, so concurrent sends share one connection. */
  private readonly connecting = new Map<string, Promise<Flow>>();
  private closed = false;

  private constructor(
    private readonly limits: TransportLimits,
    private readonly idleTimeoutMs: number,
    private readonly tlsConfig: TlsConfig | undefined,
    maxConnections: number,
  ) {
    super();
    this.flows = new FlowTable(maxConnections);
    this.flows.on('flowClosed', (flowId) => this.emit('flowClosed', flowId));
  }

  /** Binds every enabled transport on every host; on any failure, closes what was bound and rejects. */
  static async listen(opts: TransportLayerOptions): Promise<TransportLayer> {
    const hosts = validateOptions(opts);
    const given = Object.entries(opts.limits ?? {}).filter(([, v]) => v !== undefined);
    const limits: TransportLimits = { ...DEFAULT_LIMITS, ...Object.fromEntries(given) };
    const layer = new TransportLayer(
      limits,
      opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      opts.tls,
      opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    );
    try {
      if (opts.udpPort != null) {
        layer.udp = await UdpTransport.bind(hosts, opts.udpPort, {
          maxMessageBytes: limits.maxMessageBytes,
          counters: layer.counts,
          deliver: (data, info) => layer.deliver(data, info),
        });
      }
      if (opts.tcpPort != null) await layer.listenStream('TCP', hosts, opts.tcpPort);
      if (opts.tlsPort != null) await layer.listenStream('TLS', hosts, opts.tlsPort);
    } catch (err) {
      await layer.close();
      throw err;
    }
    return layer;
  }

  setUser(user: TransportUser): void {
    this.user = user;
  }

  /** The bound listeners with their actual ports (ephemeral ports resolved). */
  addresses(): ListeningAddress[] {
    return [...(this.udp?.addresses() ?? []), ...this.servers.map((l) => ({ ...l.address }))];
  }

  /** A snapshot of the counters, for metrics. */
  get counters(): TransportCounters {
    return { ...this.counts };
  }

  /** Live TCP/TLS flows. */
  get flowCount(): number {
    return this.flows.size;
  }

  /** RFC 5626 §5.3: whether a flow is still up (a registrar routes to it or answers 430). */
  isFlowAlive(flowId: string): boolean {
    return this.flows.get(flowId) !== undefined;
  }

  /**
   * Closes a TCP/TLS flow at once (its user was blocked, its source banned). `flowClosed` follows
   * when the socket is gone. Returns false when no such flow is up.
   */
  closeFlow(flowId: string): boolean {
    const flow = this.flows.get(flowId) ?? this.flows.all().find((f) => f.id === flowId);
    if (flow === undefined) return false;
    flow.close();
    return true;
  }

  /**
   * RFC 3261 §18.1.1, §18.2.2: over the target's flow when it is up; else UDP from a listening
   * socket, or a new TCP/TLS connection (reused by later sends to the same destination).
   */
  async send(target: SendTarget, data: Buffer): Promise<void> {
    try {
      if (this.closed) throw new TransportError('transport layer is closed', target);
      const t = normalizeTarget(target);
      if (t.protocol === 'UDP') {
        if (!this.udp) throw new TransportError('UDP is not enabled', target);
        await this.udp.send(t, data);
      } else {
        await this.sendStream(t.protocol, t, data); // TCP or TLS: never anything else
      }
      this.counts.messagesOut++;
    } catch (err) {
      this.counts.sendFailures++;
      if (err instanceof WriteBufferOverflowError) this.counts.writeBufferOverflows++;
      if (err instanceof TransportError) throw err;
      throw new TransportError(`send failed (${err instanceof Error ? err.name : 'error'})`, target);
    }
  }

  /** Stops listening, closes every connection and socket. */
  async close(): Promise<void> {
    this.closed = true;
    const serversClosed = this.servers.map((l) => closeServer(l.server));
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([...serversClosed, this.udp?.close()]);
  }

  private async sendStream(protocol: StreamProtocol, target: SendTarget, data: Buffer): Promise<void> {
    if (target.flowId !== undefined) {
      const flow = this.flows.get(target.flowId);
      if (flow) {
        // Never downgrade: a TLS target cannot ride a TCP flow (nor the reverse, a caller bug).
        if (flow.protocol !== protocol) {
          throw new TransportError(`flow is ${flow.protocol} but the target requires ${protocol}`, target);
        }
        return flow.write(data);
      }
    }
    if (target.flowOnly) throw new FlowFailedError('the target flow is no longer up', target);
    const key = `${protocol} ${target.remote.address} ${target.remote.port} ${target.serverName ?? ''}`;
    const flow = this.flows.getOutbound(key) ?? (await this.connectOnce(protocol, target, key));
    return flow.write(data);
  }

  private connectOnce(protocol: StreamProtocol, target: SendTarget, key: string): Promise<Flow> {
    let pending = this.connecting.get(key);
    if (pending === undefined) {
      pending = this.connect(protocol, target, key).finally(() => this.connecting.delete(key));
      this.connecting.set(key, pending);
    }
    return pending;
  }

  private async connect(protocol: StreamProtocol, target: SendTarget, key: string): Promise<Flow> {
    const onSocket = (socket: Socket): boolean => this.admit(socket, false);
    const timeout = this.limits.connectTimeoutMs;
    let socket: Socket | TLSSocket;
    try {
      socket =
        protocol === 'TLS'
          ? await connectTls(target.remote, target.serverName, this.tlsConfig, timeout, onSocket)
          : await connectTcp(target.remote, timeout, onSocket);
    } catch (err) {
      this.counts.connectFailures++;
      throw err;
    }
    const peer = protocol === 'TLS' ? verifiedPeerCertificate(socket as TLSSocket) : undefined;
    const flow = this.closed ? undefined : this.startFlow(protocol, socket, true, peer, key);
    if (!flow) {
      socket.destroy();
      throw new ConnectError('connection closed before it could be used');
    }
    return flow;
  }

  private async listenStream(protocol: StreamProtocol, hosts: string[], port: number): Promise<void> {
    let next = port;
    for (const host of hosts) {
      const server =
        protocol === 'TCP'
          ? createTcpServer((socket) => {
              if (this.admit(socket, true)) this.startFlow('TCP', socket, false);
            })
          : this.createTlsListener();
      await listenServer(server, host, next, () => {
        this.counts.acceptErrors++;
      });
      const bound = server.address();
      if (bound === null || typeof bound === 'string') throw new TransportConfigError('listener has no address');
      const family = isIP(bound.address) === 6 ? 'IPv6' : 'IPv4';
      this.servers.push({ server, address: { protocol, family, address: bound.address, port: bound.port } });
      next = bound.port;
    }
  }

  private createTlsListener(): Server {
    if (!this.tlsConfig) throw new TransportConfigError('tlsPort needs a tls configuration');
    return createTlsServer(this.tlsConfig, this.limits.tlsHandshakeTimeoutMs, {
      onRawConnection: (socket) => {
        this.admit(socket, true);
      },
      onSecure: (socket) => {
        if (this.closed) socket.destroy();
        else this.startFlow('TLS', socket, false, verifiedPeerCertificate(socket));
      },
      onHandshakeError: () => {
        this.counts.tlsHandshakeFailures++;
      },
    });
  }

  /** The connection cap (counted before any handshake); a refused socket is destroyed. */
  private admit(socket: Socket, inbound: boolean): boolean {
    if (this.closed || !this.flows.reserve(socket)) {
      this.counts.connectionsRefused++;
      if (inbound) socket.destroy();
      return false;
    }
    if (inbound) this.counts.connectionsAccepted++;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return true;
  }

  private startFlow(
    protocol: StreamProtocol,
    socket: Socket,
    outbound: boolean,
    peerCertificate?: ReceivedInfo['peerCertificate'],
    destinationKey?: string,
  ): Flow | undefined {
    const ends = socketEndpoints(socket);
    if (!ends) {
      socket.destroy();
      return undefined;
    }
    if (outbound) this.counts.connectionsOpened++;
    if (!this.sockets.has(socket)) {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    }
    const flow = new Flow({
      protocol,
      socket,
      ...ends,
      outbound,
      peerCertificate,
      maxWriteBufferBytes: this.limits.maxWriteBufferBytes,
    });
    this.flows.add(flow, destinationKey);
    runStream(flow, {
      limits: this.limits,
      idleTimeoutMs: this.idleTimeoutMs,
      counters: this.counts,
      deliver: (data, f) => this.deliver(data, flowInfo(f)),
    });
    return flow;
  }

  private deliver(data: Buffer, info: ReceivedInfo): void {
    if (!this.user) {
      this.counts.messagesDroppedNoUser++;
      return;
    }
    try {
      this.user.onMessage(data, info);
    } catch (err) {
      this.counts.userErrors++;
      if (this.listenerCount('userError') > 0) this.emit('userError', err);
    }
  }
}

function flowInfo(flow: Flow): ReceivedInfo {
  const info: ReceivedInfo = {
    protocol: flow.protocol,
    remote: { ...flow.remote },
    local: { ...flow.local },
    flowId: flow.id,
  };
  if (flow.peerCertificate) info.peerCertificate = flow.peerCertificate;
  return info;
}
