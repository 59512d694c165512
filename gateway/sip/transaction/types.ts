/**
 * Contracts of the transaction layer (RFC 3261 §17): what it needs below (a MessageSender, a
 * Clock) and what it tells the transaction user (TU) above.
 */
import type { SipMessage, SipRequest, SipResponse } from '../message/message';
import type { ReceivedInfo, SendTarget, TransportError } from '../transport/types';
import type { InviteClientTransaction } from './client-invite';
import type { NonInviteClientTransaction } from './client-non-invite';
import type { Clock } from './clock';
import type { InviteServerTransaction } from './server-invite';
import type { NonInviteServerTransaction } from './server-non-invite';
import type { TimerSettings, TransactionTimers } from './timers';
import type { Transaction } from './transaction';

/** ict/nict/ist/nist: the four machines of §17.1.1, §17.1.2, §17.2.1, §17.2.2. */
export type TransactionKind = 'ict' | 'nict' | 'ist' | 'nist';

/** States of all four machines (RFC 3261 §17 figures 5-8, RFC 6026 §7 "Accepted"). */
export type TransactionState =
  | 'Calling'
  | 'Trying'
  | 'Proceeding'
  | 'Completed'
  | 'Confirmed'
  | 'Accepted'
  | 'Terminated';

/** RFC 3261 / RFC 6026 timer letters, plus the IST's delayed 100 Trying (§17.2.1). */
export type TimerName = 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'Trying100';

/**
 * How the layer puts a message on the wire, without knowing the serializer. Rejects (ideally with
 * a TransportError) when the message cannot leave: RFC 3261 §18.4 "transport error".
 */
export interface MessageSender {
  send(msg: SipMessage, target: SendTarget): Promise<void>;
}

/** Callbacks every transaction offers its TU. Exceptions thrown here never corrupt the machine. */
export interface TransactionUser {
  /** After every state change (the transaction is already in `state`). */
  onStateChange?(tx: Transaction, state: TransactionState, previous: TransactionState): void;
  /** A send failed (§17.1.4, §17.2.4, RFC 6026 §8.8). */
  onTransportError?(tx: Transaction, error: TransportError): void;
}

/** What a transaction needs from the layer that owns it. */
export interface TransactionContext {
  readonly clock: Clock;
  readonly timers: TransactionTimers;
  readonly sender: MessageSender;
  /** Called once, when the transaction reaches Terminated, so its owner can free it. */
  onTerminated?(tx: Transaction): void;
  /** A TU callback threw; the state machine has already moved on. Default: rethrown asynchronously. */
  onUserError?(error: unknown, tx: Transaction): void;
}

export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;
export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;

/** The UA core, as the transaction layer sees it. */
export interface TransactionLayerUser {
  /** A new request (neither ACK nor CANCEL); its server transaction exists and is started. */
  onRequest(request: SipRequest, tx: ServerTransaction, info: ReceivedInfo): void;
  /**
   * An ACK for a 2xx: one that matched no transaction (§17.2.3: "passed to the core"), or one an
   * INVITE server transaction in Accepted passed up (RFC 6026 §7.1). 2xx retransmission has stopped.
   */
  onAck(ack: SipRequest, info: ReceivedInfo): void;
  /**
   * A CANCEL matched an INVITE still Proceeding (§9.2). The layer has answered the CANCEL with 200;
   * the TU answers the INVITE with 487 through `answerCancelled(ist)` (or with its own final).
   */
  onCancel(cancel: SipRequest, ist: InviteServerTransaction, info: ReceivedInfo): void;
  /** A 2xx went 64*T1 without ACK (§13.3.1.4): the session SHOULD be ended with a BYE. */
  onAckTimeout?(response: SipResponse): void;
  /** Timer H: a non-2xx final to an INVITE was never ACKed (for a server TU that set no user). */
  onServerTimeout?(tx: InviteServerTransaction): void;
  /** A send of a server transaction (whose TU set no user) or of a 2xx retransmission failed. */
  onTransportError?(error: TransportError, tx?: Transaction): void;
  /** A response that matched no client transaction; already dropped (§18.1.2). For logs. */
  onStrayResponse?(response: SipResponse, info: ReceivedInfo): void;
}

export interface TransactionLayerOptions {
  clock?: Clock;
  timers?: Partial<TimerSettings>;
  /** Cap on concurrent transactions, client + server. Default 10 000. */
  maxTransactions?: number;
  /** Delay of the automatic 100 Trying to an INVITE, ms (0: at once). Default 200 (§17.2.1). */
  trying100DelayMs?: number;
  /** Retransmit 2xx on TCP/TLS too (literal §13.3.1.4). Default false. */
  retransmit2xxOverReliable?: boolean;
  /** Retry-After seconds on the stateless 503 sent when the table is full (§21.5.4). */
  overloadRetryAfter?: number;
  /** A TU callback threw. Default: rethrown asynchronously (an uncaught exception). */
  onUserError?(error: unknown, tx: Transaction): void;
}

export interface TransactionLayerStats {
  /** Requests matched to an existing server transaction (retransmissions, ACKs for non-2xx). */
  retransmissionsAbsorbed: number;
  /** Responses that matched no client transaction (§18.1.2), dropped. */
  strayResponses: number;
  /** Requests answered 503 statelessly because the table was full. */
  rejectedOverload: number;
  /** CANCELs that matched nothing and got a 481 (§9.2). */
  unmatchedCancels: number;
  /** Requests without a top Via (nothing can be answered). */
  dropped: number;
}
