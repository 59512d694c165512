/**
 * The UA core (RFC 3261 §8.2): the transaction user for every request the gateway receives.
 * It inspects each request in §8.2's order (inspection.ts), then hands it to the handler registered
 * for its method; a recognised method with no handler yet gets 501. OPTIONS is answered here (§11).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { makeResponse, tagOf, topBranch, type SipRequest, type SipResponse } from '../message/message';
import type { InviteServerTransaction } from '../transaction/server-invite';
import type { ServerTransaction, TransactionLayer, TransactionLayerUser } from '../transaction/manager';
import { newTag } from '../transaction/ids';
import type { ReceivedInfo, TransportError } from '../transport/types';
import type { Logger } from '../../log/logger';
import { ACCEPTED_CONTENT_TYPES, ACCEPTED_ENCODINGS, type Capabilities } from './capabilities';
import { inspectRequest } from './inspection';

export interface ReplyOptions {
  headers?: ReadonlyArray<[string, string]>;
  body?: Buffer;
  contentType?: string;
  /** Add a To tag (RFC 3261 §8.2.6.2: every final response outside a dialog gets one). Default true for ≥ 200. */
  toTag?: string | false;
}

/** A request that passed inspection, as a method handler sees it. */
export interface IncomingRequest {
  readonly request: SipRequest;
  readonly tx: ServerTransaction;
  readonly info: ReceivedInfo;
  readonly log: Logger;
  reply(status: number, reason: string, opts?: ReplyOptions): SipResponse;
}

export type RequestHandler = (req: IncomingRequest) => void | Promise<void>;

export interface UaCoreOptions {
  log: Logger;
  /** Server / User-Agent product token (RFC 3261 §20.35). */
  product: string;
  /** Option tags implemented (Supported). */
  supported?: readonly string[];
}

/**
 * Where the UA core hands what belongs to dialogs rather than to a method handler (the B2BUA):
 * ACKs for 2xx, CANCELs of pending INVITEs, and 2xx that never got their ACK.
 */
export interface DialogHooks {
  /** An ACK for a 2xx (RFC 3261 §13.3.1.4: it matched no server transaction, or came up from Accepted). */
  ack(ack: SipRequest, info: ReceivedInfo): void;
  /** A CANCEL matched an INVITE still Proceeding (§9.2): the hook answers the INVITE (487, or its own final). */
  cancel(cancel: SipRequest, ist: InviteServerTransaction, info: ReceivedInfo): void;
  /** A 2xx we sent went 64*T1 without ACK (§13.3.1.4: the session SHOULD be ended). */
  ackTimeout(response: SipResponse): void;
}

export interface UaCoreStats {
  requests: number;
  rejected: Record<number, number>;
  handlerErrors: number;
}

export class UaCore implements TransactionLayerUser {
  private readonly handlers = new Map<string, RequestHandler>();
  /** Methods with a handler that are not advertised in Allow (answered, but only to refuse). */
  private readonly unadvertised = new Set<string>();
  private dialogHooks: DialogHooks | undefined;
  private readonly supported: string[];
  readonly stats: UaCoreStats = { requests: 0, rejected: {}, handlerErrors: 0 };
  /** Set once the transaction layer exists (it is constructed with this core as its user). */
  transactions?: TransactionLayer;
  /** Key for stateless To tags (RFC 3261 §8.2.7): the same request always gets the same tag. */
  private readonly statelessTagKey = randomBytes(32);
  /** Capabilities and the OPTIONS answer's headers, built on first use and dropped when a handler or tag is added. */
  private advertised?: { capabilities: Capabilities; optionsHeaders: ReadonlyArray<[string, string]> };

  constructor(private readonly opts: UaCoreOptions) {
    this.supported = [...(opts.supported ?? [])];
    this.handlers.set('OPTIONS', this.optionsHandler);
  }

  /**
   * Registers the handler for a method (later layers: REGISTER, INVITE, MESSAGE…). With
   * `advertise: false` the method stays out of Allow: a handler that only refuses it with a
   * specific reason (REFER → 501) must not claim support.
   */
  handle(method: string, handler: RequestHandler, options: { advertise?: boolean } = {}): void {
    const m = method.toUpperCase();
    this.handlers.set(m, handler);
    if (options.advertise === false) this.unadvertised.add(m);
    else this.unadvertised.delete(m);
    this.advertised = undefined;
  }

  /** Installs the dialog layer's hooks (ACK for 2xx, CANCEL, ACK timeout). */
  setDialogHooks(hooks: DialogHooks | undefined): void {
    this.dialogHooks = hooks;
  }

  /** Adds option tags to Supported (a layer that implements e.g. `timer` or `outbound`). */
  support(...tags: string[]): void {
    for (const t of tags) if (!this.supported.includes(t)) this.supported.push(t);
    this.advertised = undefined;
  }

  get capabilities(): Capabilities {
    return this.advertisement().capabilities;
  }

  /** RFC 3261 §11.2: the OPTIONS answer carries Allow, Accept, Accept-Encoding, Accept-Language and Supported. */
  private advertisement(): NonNullable<UaCore['advertised']> {
    if (this.advertised !== undefined) return this.advertised;
    const allow = ['ACK', 'CANCEL'];
    for (const m of this.handlers.keys()) if (!this.unadvertised.has(m)) allow.push(m);
    const supported = [...this.supported];
    const optionsHeaders: ReadonlyArray<[string, string]> = [
      ['Allow', allow.join(', ')],
      ['Accept', ACCEPTED_CONTENT_TYPES.join(', ')],
      ['Accept-Encoding', ACCEPTED_ENCODINGS.join(', ')],
      ['Accept-Language', 'en'],
      ['Supported', supported.join(', ')],
    ];
    this.advertised = { capabilities: { allow, supported }, optionsHeaders };
    return this.advertised;
  }

  onRequest(request: SipRequest, tx: ServerTransaction, info: ReceivedInfo): void {
    this.stats.requests++;
    const log = this.opts.log.child({ cid: request.callId });
    const incoming: IncomingRequest = {
      request,
      tx,
      info,
      log,
      reply: (status, reason, o) => this.reply(tx, request, status, reason, o),
    };
    const rejection = inspectRequest(request, this.capabilities);
    if (rejection) {
      this.stats.rejected[rejection.status] = (this.stats.rejected[rejection.status] ?? 0) + 1;
      log.debug('request rejected', { method: request.method, status: rejection.status, reason: rejection.reason });
      incoming.reply(rejection.status, rejection.reason, { headers: rejection.headers });
      return;
    }
    const handler = this.handlers.get(request.method);
    if (!handler) {
      // A method of the RFC 3261 family that a later layer will implement (issue text: 501 until then).
      incoming.reply(501, 'Not Implemented', { headers: [['Allow', this.capabilities.allow.join(', ')]] });
      return;
    }
    try {
      const pending = handler(incoming);
      if (pending) pending.catch((err: unknown) => this.handlerFailed(incoming, err));
    } catch (err) {
      this.handlerFailed(incoming, err);
    }
  }

  /**
   * RFC 3261 §8.2.7 stateless UAS: an out-of-dialog OPTIONS is answered without a server transaction.
   * OPTIONS is idempotent, so a retransmission simply gets the same answer again, and keep-alive
   * probes from PBXs and clients cost no Timer J state (64*T1 per request on UDP). Returns the
   * response to send, or undefined when the request must go through a transaction after all.
   */
  answerStatelessly(request: SipRequest): SipResponse | undefined {
    if (request.method !== 'OPTIONS' || tagOf(request.to) !== undefined) return undefined;
    if (this.handlers.get('OPTIONS') !== this.optionsHandler) return undefined;
    this.stats.requests++;
    const rejection = inspectRequest(request, this.capabilities);
    // §8.2.7: the To tag is a function of the request, so retransmissions get the same one.
    const tag = createHmac('sha256', this.statelessTagKey)
      .update(`${request.callId}\n${tagOf(request.from) ?? ''}\n${topBranch(request) ?? ''}\n${request.cseq.seq}`)
      .digest('base64url')
      .slice(0, 16);
    if (rejection) {
      this.stats.rejected[rejection.status] = (this.stats.rejected[rejection.status] ?? 0) + 1;
      return this.build(request, rejection.status, rejection.reason, { headers: rejection.headers, toTag: tag });
    }
    return this.build(request, 200, 'OK', { headers: this.advertisement().optionsHeaders, toTag: tag });
  }

  onAck(ack: SipRequest, info: ReceivedInfo): void {
    // ACKs for 2xx belong to dialogs.
    if (this.dialogHooks !== undefined) this.dialogHooks.ack(ack, info);
    else this.opts.log.debug('ACK outside any dialog ignored', { cid: ack.callId });
  }

  onCancel(cancel: SipRequest, ist: InviteServerTransaction, info: ReceivedInfo): void {
    // §9.2: the CANCEL already got 200; the INVITE gets 487 unless the B2BUA cancels its forks first.
    if (this.dialogHooks !== undefined) this.dialogHooks.cancel(cancel, ist, info);
    else this.transactions?.answerCancelled(ist);
  }

  onAckTimeout(response: SipResponse): void {
    this.dialogHooks?.ackTimeout(response);
  }

  onTransportError(error: TransportError): void {
    this.opts.log.warn('response could not be sent', { error: error.message });
  }

  /** RFC 3261 §11.2: 200 with the advertised capabilities. */
  private readonly optionsHandler: RequestHandler = (r) => {
    r.reply(200, 'OK', { headers: this.advertisement().optionsHeaders });
  };

  private reply(tx: ServerTransaction, request: SipRequest, status: number, reason: string, o: ReplyOptions = {}): SipResponse {
    const tag = o.toTag === false || status < 101 ? undefined : o.toTag ?? this.dialogTag(tx);
    const res = this.build(request, status, reason, { ...o, toTag: tag ?? false });
    tx.respond(res);
    return res;
  }

  private build(request: SipRequest, status: number, reason: string, o: ReplyOptions): SipResponse {
    const res = makeResponse(request, status, reason, o.toTag === false ? undefined : o.toTag);
    res.headers.add('Server', this.opts.product);
    for (const [n, v] of o.headers ?? []) res.headers.add(n, v);
    if (o.body && o.body.length > 0) {
      res.headers.add('Content-Type', o.contentType ?? 'application/octet-stream');
      res.body = o.body;
    }
    return res;
  }

  /** One To tag per server transaction, so a provisional and the final agree (§8.2.6.2, §12.1.1). */
  private dialogTag(tx: ServerTransaction): string {
    if ('ensureToTag' in tx) return tx.ensureToTag();
    return newTag();
  }

  private handlerFailed(r: IncomingRequest, err: unknown): void {
    this.stats.handlerErrors++;
    r.log.error('request handler failed', { method: r.request.method, error: err instanceof Error ? err.message : String(err) });
    if (r.tx.state === 'Trying' || r.tx.state === 'Proceeding') r.reply(500, 'Server Internal Error');
  }
}
