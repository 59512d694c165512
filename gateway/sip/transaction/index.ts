/** The SIP transaction layer (RFC 3261 §17, RFC 6026): public surface. */
export { FakeClock, FakeClockOverrunError, SystemClock, type Clock, type TimerHandle } from './clock';
export { ackForNon2xx, InviteClientTransaction, type InviteClientTransactionUser } from './client-invite';
export { NonInviteClientTransaction, type NonInviteClientTransactionUser } from './client-non-invite';
export { cancelFor } from './cancel';
export {
  DuplicateTransactionError,
  InvalidTransactionRequestError,
  TransactionError,
  TransactionLimitError,
  TransactionStateError,
} from './errors';
export { newBranch, newCallId, newTag } from './ids';
export { TransactionLayer } from './manager';
export {
  DEFAULT_TRYING_100_DELAY_MS,
  InviteServerTransaction,
  type AckDisposition,
  type InviteServerTransactionOptions,
  type InviteServerTransactionUser,
} from './server-invite';
export { NonInviteServerTransaction, type NonInviteServerTransactionUser } from './server-non-invite';
export { DEFAULT_TIMER_SETTINGS, TimerSettingsError, TransactionTimers, type TimerSettings } from './timers';
export { isLocalResponse, synthesizeResponse, Transaction } from './transaction';
export type {
  ClientTransaction,
  MessageSender,
  ServerTransaction,
  TimerName,
  TransactionContext,
  TransactionKind,
  TransactionLayerOptions,
  TransactionLayerStats,
  TransactionLayerUser,
  TransactionState,
  TransactionUser,
} from './types';
export { Uas2xxRetransmitter, type Uas2xxRetransmitterOptions, type Uas2xxRetransmitterUser } from './uas-2xx-retransmitter';
export { defaultPort, responseTarget, stampReceived } from './via';
