/**
 * The SIP stack assembled, one way from the socket up (RFC 3261 §18 → §7 → §17 → §8.2):
 * transport bytes → parser → transaction layer → UA core. It is also the MessageSender the
 * transaction layer sends through (serializer → transport).
 */
import type { Logger } from '../log/logger';
import { SipParseError } from './message/errors';
import { makeErrorResponse } from './message/error-response';
import type { SipMessage, SipRequest } from './message/message';
import { parseMessage, parserLimits, type ParseOptions, type ParserLimits } from './message/parser';
import { serializeMessage } from './message/serializer';
import { isSipUri, type Uri } from './message/types';
import { UaCore } from './core/ua-core';
import { TransactionLayer, type TransactionLayerOptions } from './transaction/manager';
import { defaultPort, responseTarget, stampReceived } from './transaction/via';
import { transportForUri, UnsupportedTransportError } from './transport/uri-transport';
import type { ReceivedInfo, SendTarget, Transport, TransportUser } from './transport/types';

export interface SipStackOptions {
  log: Logger;
  /** Server / User-Agent product token. */
  product: string;
  parserLimits?: Partial<ParserLimits>;
  transactions?: TransactionLayerOptions;
  /** Drops unwanted traffic before the stack works on it (gateway/security). */
  filter?: MessageFilter;
}

/**
 * A hook that drops messages silently, as early as possible: a banned source before its bytes are
 * parsed, a scanner's request before a transaction exists for it (so nothing is ever answered).
 */
export interface MessageFilter {
  /** Every framed message, before parsing. False: dropped. */
  acceptSource(info: ReceivedInfo): boolean;
  /** Every parsed request, before the transaction layer. False: dropped. */
  acceptRequest(request: SipRequest, info: ReceivedInfo): boolean;
}

export interface SipStackStats {
  /** Messages the parser refused, by status (400, 505, 513...). */
  parseErrors: Record<number, number>;
  /** Refused messages that could not be answered (responses, requests without a usable Via). */
  dropped: number;
  /** Messages the filter dropped. */
  filtered: number;
}

/** Anything that sends bytes and can hand received bytes up. */
export interface StackTransport extends Transport {
  setUser(user: TransportUser): void;
}

export class SipStack implements TransportUser {
  readonly core: UaCore;
  readonly transactions: TransactionLayer;
  readonly stats: SipStackStats = { parseErrors: {}, dropped: 0, filtered: 0 };
  /** Parse options per framing, built once: the limits are merged here, not on every message. */
  private readonly datagramParse: ParseOptions;
  private readonly streamParse: ParseOptions;

  constructor(
    private readonly transport: StackTransport,
    private readonly opts: SipStackOptions,
  ) {
    const limits = parserLimits(opts.parserLimits);
    this.datagramParse = { stream: false, limits };
    this.streamParse = { stream: true, limits };
    this.core = new UaCore({ log: opts.log, product: opts.product });
    this.transactions = new TransactionLayer(
      { send: (msg, target) => this.send(msg, target) },
      this.core,
      { onUserError: (err) => opts.log.error('transaction user failed', { error: String(err) }), ...opts.transactions },
    );
    this.core.transactions = this.transactions;
    transport.setUser(this);
  }

  /** MessageSender: serialize once per send and hand the bytes to the transport. */
  send(msg: SipMessage, target: SendTarget): Promise<void> {
    return this.transport.send(target, serializeMessage(msg));
  }

  onMessage(data: Buffer, info: ReceivedInfo): void {
    const filter = this.opts.filter;
    if (filter !== undefined && !filter.acceptSource(info)) {
      this.stats.filtered++;
      return;
    }
    let msg: SipMessage;
    try {
      msg = parseMessage(data, info.protocol === 'UDP' ? this.datagramParse : this.streamParse);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      this.refuse(err, info);
      return;
    }
    if (msg.kind === 'response') {
      this.transactions.receiveResponse(msg, info);
      return;
    }
    if (filter !== undefined && !filter.acceptRequest(msg, info)) {
      this.stats.filtered++;
      return;
    }
    // §18.2.1 / RFC 3581 before anything copies the Via (receiveRequest stamps again, idempotently).
    stampReceived(msg, info);
    const stateless = this.core.answerStatelessly(msg);
    if (stateless) {
      this.transport.send(responseTarget(stateless, info), serializeMessage(stateless)).catch((e: unknown) =>
        this.opts.log.debug('stateless response not sent', { error: e instanceof Error ? e.message : String(e) }),
      );
      return;
    }
    this.transactions.receiveRequest(msg, info);
  }

  /**
   * RFC 3261 §8.2 / RFC 4475: a request with a usable Via gets the parser's status (400, 505, 513)
   * with a reason naming the fault, sent statelessly to where the request came from; anything else is
   * dropped and counted.
   */
  private refuse(err: SipParseError, info: ReceivedInfo): void {
    this.stats.parseErrors[err.status] = (this.stats.parseErrors[err.status] ?? 0) + 1;
    const bytes = err.partial && err.partial.method !== 'ACK' ? makeErrorResponse(err, { headers: [['Server', this.opts.product]] }) : undefined;
    if (!bytes || !err.partial) {
      this.stats.dropped++;
      this.opts.log.debug('unparseable message dropped', { reason: err.reason, remote: info.remote.address });
      return;
    }
    this.opts.log.debug('unparseable request refused', { status: err.status, reason: err.reason, remote: info.remote.address });
    const target = responseTarget({ via: err.partial.via }, info);
    this.transport.send(target, bytes).catch((e: unknown) =>
      this.opts.log.debug('error response not sent', { error: e instanceof Error ? e.message : String(e) }),
    );
  }
}

/**
 * Where a request to `uri` goes (RFC 3263 §4 without DNS): the transport the URI allows (sips: and
 * transport=tls mean TLS only, never a clear-text fallback) and its host, which must be an IP literal
 * until a resolver exists. Throws UnsupportedTransportError otherwise.
 */
export function targetForUri(uri: Uri): SendTarget {
  if (!isSipUri(uri)) throw new UnsupportedTransportError(`cannot route to a ${uri.scheme}: URI`);
  const protocol = transportForUri(uri);
  // maddr is not honoured: on a URI learnt from the network it would let a peer aim our traffic.
  const host = uri.host.replace(/^\[|\]$/g, '');
  return { protocol, remote: { address: host, port: uri.port ?? defaultPort(protocol) } };
}
