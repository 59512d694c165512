/**
 * Wires the gateway together: transports → parser → transactions → UA core (gateway/sip/stack.ts).
 * Later issues hang the registrar, B2BUA and messaging off the core's handler registry here.
 */
import type { Config } from '../config/schema';
import type { Logger } from './log/logger';
import type { TlsMaterial } from './tls/certificate';
import { SipStack } from './sip/stack';
import { TransportLayer } from './sip/transport/transport-layer';

export interface Gateway {
  /** Human-readable lines describing where the gateway listens, e.g. "sip tls 127.0.0.1:5061". */
  readonly listening: string[];
  /** Lines printed once on stdout after `listening`, e.g. the first start's admin API token. */
  readonly notices?: string[];
  stop(): Promise<void>;
}

/** The running gateway, with its parts exposed to in-process tests and tools. */
export interface RunningGateway extends Gateway {
  readonly stack: SipStack;
  readonly transport: TransportLayer;
}

export const PRODUCT = 'Ciphergate/0.1';

export async function startGateway(config: Config, log: Logger, tls: TlsMaterial): Promise<RunningGateway> {
  const sip = config.sip;
  const transport = await TransportLayer.listen({
    hosts: [...sip.hosts],
    udpPort: sip.udpPort,
    tcpPort: sip.tcpPort,
    tlsPort: sip.tlsPort,
    tls: {
      cert: tls.cert,
      key: tls.key,
      ...(tls.ca ? { ca: tls.ca } : {}),
      requestClientCert: config.tls.requestClientCert,
      rejectUnauthorizedClients: config.tls.rejectUnauthorizedClients,
    },
    limits: { maxMessageBytes: sip.limits.maxMessageSize, maxHeaderBytes: sip.limits.maxMessageSize },
    idleTimeoutMs: sip.idleTimeoutSec * 1000,
    maxConnections: sip.maxConnections,
  });
  transport.on('userError', (err: unknown) => log.error('SIP message handling failed', { error: err instanceof Error ? err.message : String(err) }));

  const stack = new SipStack(transport, {
    log: log.child({ component: 'sip' }),
    product: PRODUCT,
    parserLimits: sip.limits,
    transactions: { timers: { t1: sip.timers.t1, t2: sip.timers.t2, t4: sip.timers.t4 } },
  });

  const listening = transport.addresses().map((a) => {
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `sip ${a.protocol.toLowerCase()} ${host}:${a.port}`;
  });

  return {
    listening,
    stack,
    transport,
    async stop() {
      stack.transactions.close();
      await transport.close();
    },
  };
}
