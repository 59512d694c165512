/**
 * The transaction layer (RFC 3261 §17): creates the four machines, matches what arrives to them
 * (§17.1.3, §17.2.3, §9.2), absorbs retransmissions, and keeps the table bounded.
 *
 * Below it: a MessageSender (the serializer + transport), injected. Above it: the TU (UA core).
 */
import { makeResponse, tagOf, topBranch, type SipMessage, type SipRequest, type SipResponse } from '../message/message';
import type { ReceivedInfo, SendTarget, TransportError } from '../transport/types';
import { cancelFor } from './cancel';
import { SystemClock, type Clock } from './clock';
import { InviteClientTransaction, type InviteClientTransactionUser } from './client-invite';
import { NonInviteClientTransaction, type NonInviteClientTransactionUser } from './client-non-invite';
import { DuplicateTransactionError, InvalidTransactionRequestError, TransactionLimitError } from './errors';
import { newBranch, newTag } from './ids';
import { ackKey, clientKey, isRfc3261Branch, serverKeys, type ServerKeys } from './matching';
import { InviteServerTransaction } from './server-invite';
import { NonInviteServerTransaction } from './server-non-invite';
import { TransactionTimers } from './timers';
import type { Transaction } from './transaction';
import type {
  ClientTransaction,
  MessageSender,
  ServerTransaction,
  TransactionContext,
  TransactionLayerOptions,
  TransactionLayerStats,
  TransactionLayerUser,
} from './types';
import { Uas2xxRetransmitter } from './uas-2xx-retransmitter';
import { responseTarget, stampReceived } from './via';

export type {
  ClientTransaction,
  ServerTransaction,
  TransactionLayerOptions,
  TransactionLayerStats,
  TransactionLayerUser,
} from './types';

export class TransactionLayer {
  readonly clock: Clock;
  readonly timers: TransactionTimers;
  readonly stats: TransactionLayerStats = {
    retransmissionsAbsorbed: 0, strayResponses: 0, rejectedOverload: 0, unmatchedCancels: 0, dropped: 0,
  };
  private readonly ctx: TransactionContext;
  private readonly maxTransactions: number;
  private readonly server = new Map<string, ServerTransaction>();
  private readonly client = new Map<string, ClientTransaction>();
  private readonly keysOf = new Map<Transaction, { table: 'server' | 'client'; keys: string[] }>();
  private readonly uas2xx = new Map<string, Uas2xxRetransmitter>();
  private closed = false;

  constructor(
    private readonly sender: MessageSender,
    private readonly user: TransactionLayerUser,
    private readonly options: TransactionLayerOptions = {},
  ) {
    this.clock = options.clock ?? new SystemClock();
    this.timers = new TransactionTimers(options.timers);
    this.maxTransactions = Math.max(1, Math.floor(options.maxTransactions ?? 10_000));
    this.ctx = {
      clock: this.clock,
      timers: this.timers,
      sender,
      onTerminated: (tx) => this.forget(tx),
      onUserError: options.onUserError,
    };
  }

  /** Live transactions, client + server. */
  get size(): number {
    return this.keysOf.size;
  }

  /** 2xx responses still being retransmitted / awaiting their ACK. */
  get pendingAcks(): number {
    return this.uas2xx.size;
  }

  /** A request from the transport (§17.2.3, §18.2.1). The top Via is stamped first. */
  receiveRequest(request: SipRequest, info: ReceivedInfo): void {
    if (this.closed) return;
    if (request.via.length === 0) {
      this.stats.dropped++;
      return;
    }
    stampReceived(request, info);
    const keys = serverKeys(request);
    if (request.method === 'ACK') {
      this.receiveAck(request, keys, info);
      return;
    }
    const existing = this.server.get(keys.primary);
    if (existing !== undefined) {
      this.stats.retransmissionsAbsorbed++;
      if (existing instanceof InviteServerTransaction) existing.receiveInvite(request);
      else existing.receiveRequest(request);
      return;
    }
    if (this.keysOf.size >= this.maxTransactions) {
      this.rejectOverload(request, info);
      return;
    }
    const target = responseTarget(request, info);
    const serverUser = {
      onTransportError: (tx: Transaction, error: TransportError) => this.user.onTransportError?.(error, tx),
      onTimeout: (tx: InviteServerTransaction) => this.user.onServerTimeout?.(tx),
    };
    const tx: ServerTransaction =
      request.method === 'INVITE'
        ? new InviteServerTransaction(this.ctx, request, target, serverUser, {
            trying100DelayMs: this.options.trying100DelayMs,
            onAccepted: (ist, response) => this.retransmit2xx(ist, response),
          })
        : new NonInviteServerTransaction(this.ctx, request, target, serverUser);
    const registered = request.method === 'CANCEL' ? [keys.primary] : [keys.primary, keys.cancelTarget];
    this.register(tx, 'server', registered);
    if (tx instanceof NonInviteServerTransaction && request.method === 'CANCEL') {
      this.receiveCancel(request, tx, keys, info);
      return;
    }
    if (tx instanceof InviteServerTransaction) tx.start();
    try {
      this.user.onRequest(request, tx, info);
    } catch (error) {
      // A TU that threw will not answer: a 500 ends the transaction instead of leaving it Proceeding.
      if (tx.finalResponse === undefined) tx.respond(makeResponse(request, 500, 'Server Internal Error', newTag()));
      throw error;
    }
  }

  /** A response from the transport (§17.1.3); one that matches nothing is dropped and counted (§18.1.2). */
  receiveResponse(response: SipResponse, info: ReceivedInfo): void {
    if (this.closed) return;
    const branch = topBranch(response);
    const tx = branch === undefined ? undefined : this.client.get(clientKey(branch, response.cseq.method));
    if (tx === undefined) {
      this.stats.strayResponses++;
      this.user.onStrayResponse?.(response, info);
      return;
    }
    tx.receiveResponse(response);
  }

  /** Starts an INVITE client transaction (§17.1.1). A missing branch is generated. */
  sendInvite(request: SipRequest, target: SendTarget, user: InviteClientTransactionUser): InviteClientTransaction {
    if (request.method !== 'INVITE') throw new InvalidTransactionRequestError(`sendInvite needs an INVITE, not ${request.method}`);
    const key = this.prepareClient(request);
    const tx = new InviteClientTransaction(this.ctx, request, target, user);
    this.register(tx, 'client', [key]);
    tx.start();
    return tx;
  }

  /** Starts a non-INVITE client transaction (§17.1.2). ACK is not a transaction: use sendStateless. */
  sendNonInvite(request: SipRequest, target: SendTarget, user: NonInviteClientTransactionUser): NonInviteClientTransaction {
    return this.startNonInvite(request, target, user, true);
  }

  /**
   * Cancels a pending INVITE (§9.1): the CANCEL is sent now if a provisional arrived, else as soon
   * as one does; asking again is a no-op. Returns false when the INVITE already has a final
   * response. The CANCEL's transaction is exempt from the cap: there is at most one per INVITE.
   */
  cancel(ict: InviteClientTransaction, user: NonInviteClientTransactionUser = { onResponse: () => undefined }): boolean {
    return ict.requestCancel(() => {
      if (!this.closed) this.startNonInvite(cancelFor(ict.request), ict.target, user, false);
    });
  }

  /** The TU's answer to onCancel: 487 to the INVITE if still Proceeding (§9.2). */
  answerCancelled(ist: InviteServerTransaction): boolean {
    return ist.respondCancelled();
  }

  /** Sends outside any transaction: the ACK for a 2xx (§13.2.2.4), stateless responses. */
  sendStateless(message: SipMessage, target: SendTarget): Promise<void> {
    return this.sender.send(message, target);
  }

  /** Ends every transaction and 2xx retransmission; the layer then ignores input. */
  close(): void {
    this.closed = true;
    for (const tx of [...this.keysOf.keys()]) tx.terminate();
    for (const r of [...this.uas2xx.values()]) r.stop();
  }

  private receiveAck(ack: SipRequest, keys: ServerKeys, info: ReceivedInfo): void {
    const candidate = this.server.get(keys.rfc3261 ? keys.primary : keys.cancelTarget);
    // RFC 2543 ACK: its To tag must be the one of the response the transaction sent (§17.2.3).
    const ist =
      candidate instanceof InviteServerTransaction && (keys.rfc3261 || tagOf(ack.to) === candidate.toTag)
        ? candidate
        : undefined;
    if (ist !== undefined && ist.receiveAck(ack) !== 'pass-to-tu') {
      this.stats.retransmissionsAbsorbed++;
      return;
    }
    this.uas2xx.get(ackKey(ack.callId, ack.cseq.seq, tagOf(ack.from), tagOf(ack.to)))?.acknowledge();
    this.user.onAck(ack, info);
  }

  private receiveCancel(cancel: SipRequest, tx: NonInviteServerTransaction, keys: ServerKeys, info: ReceivedInfo): void {
    const cancelled = this.server.get(keys.cancelTarget);
    if (cancelled === undefined) {
      this.stats.unmatchedCancels++;
      tx.respond(makeResponse(cancel, 481, 'Call/Transaction Does Not Exist', newTag()));
      return;
    }
    // §9.2: 200 to the CANCEL, with the To tag the INVITE's responses carry.
    const toTag = cancelled instanceof InviteServerTransaction ? cancelled.ensureToTag() : newTag();
    tx.respond(makeResponse(cancel, 200, 'OK', toTag));
    if (cancelled instanceof InviteServerTransaction && cancelled.state === 'Proceeding') {
      this.user.onCancel(cancel, cancelled, info);
    }
  }

  private retransmit2xx(ist: InviteServerTransaction, response: SipResponse): void {
    const key = ackKey(response.callId, response.cseq.seq, tagOf(response.from), tagOf(response.to));
    if (this.uas2xx.has(key) || this.closed) return;
    const retransmitter = new Uas2xxRetransmitter(
      this.clock,
      this.timers,
      this.sender,
      response,
      ist.target,
      {
        onAckTimeout: (res) => this.user.onAckTimeout?.(res),
        onTransportError: (error) => this.user.onTransportError?.(error),
      },
      {
        retransmitOverReliable: this.options.retransmit2xxOverReliable,
        onDone: (done) => {
          if (this.uas2xx.get(key) === done) this.uas2xx.delete(key);
        },
      },
    );
    this.uas2xx.set(key, retransmitter);
    retransmitter.start();
  }

  private rejectOverload(request: SipRequest, info: ReceivedInfo): void {
    this.stats.rejectedOverload++;
    const response = makeResponse(request, 503, 'Service Unavailable', newTag());
    if (this.options.overloadRetryAfter !== undefined) {
      response.headers.add('Retry-After', String(Math.max(0, Math.floor(this.options.overloadRetryAfter))));
    }
    this.sender.send(response, responseTarget(request, info)).catch(() => undefined);
  }

  private startNonInvite(
    request: SipRequest,
    target: SendTarget,
    user: NonInviteClientTransactionUser,
    capped: boolean,
  ): NonInviteClientTransaction {
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new InvalidTransactionRequestError(`sendNonInvite cannot send ${request.method}`);
    }
    const key = this.prepareClient(request, capped);
    const tx = new NonInviteClientTransaction(this.ctx, request, target, user);
    this.register(tx, 'client', [key]);
    tx.start();
    return tx;
  }

  /** Checks a request for a client transaction and returns its key (§8.1.1.7, §17.1.3). */
  private prepareClient(request: SipRequest, capped = true): string {
    if (this.closed) throw new InvalidTransactionRequestError('the transaction layer is closed');
    const via = request.via[0];
    if (via === undefined) throw new InvalidTransactionRequestError('a request needs a top Via');
    if (!via.params.has('branch') || via.params.get('branch') === null) via.params.set('branch', newBranch());
    const branch = topBranch(request);
    if (!isRfc3261Branch(branch)) {
      throw new InvalidTransactionRequestError('the top Via branch must start with the magic cookie (§8.1.1.7)');
    }
    const key = clientKey(branch, request.cseq.method);
    if (this.client.has(key)) throw new DuplicateTransactionError(`${branch} ${request.cseq.method}`);
    if (capped && this.keysOf.size >= this.maxTransactions) throw new TransactionLimitError(this.maxTransactions);
    return key;
  }

  private register(tx: ServerTransaction | ClientTransaction, table: 'server' | 'client', keys: string[]): void {
    const stored: string[] = [];
    for (const key of keys) {
      if (table === 'server') {
        if (this.server.has(key)) continue; // an older transaction keeps a shared CANCEL key
        this.server.set(key, tx as ServerTransaction);
      } else {
        this.client.set(key, tx as ClientTransaction);
      }
      stored.push(key);
    }
    this.keysOf.set(tx, { table, keys: stored });
  }

  /** Terminated: the transaction leaves every table (no leak, §17 "destroyed"). */
  private forget(tx: Transaction): void {
    const entry = this.keysOf.get(tx);
    if (entry === undefined) return;
    this.keysOf.delete(tx);
    const map: Map<string, Transaction> = entry.table === 'server' ? this.server : this.client;
    for (const key of entry.keys) if (map.get(key) === tx) map.delete(key);
  }
}
