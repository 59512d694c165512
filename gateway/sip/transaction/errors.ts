/** Named errors of the transaction layer (RFC 3261 §17). */

export class TransactionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransactionError';
  }
}

/** The TU asked for something the transaction's current state does not allow (e.g. a 1xx after the final). */
export class TransactionStateError extends TransactionError {
  constructor(readonly transactionId: string, readonly state: string, action: string) {
    super(`${action} not allowed in state ${state} (transaction ${transactionId})`);
    this.name = 'TransactionStateError';
  }
}

/** The configured cap on concurrent transactions is reached. */
export class TransactionLimitError extends TransactionError {
  constructor(readonly limit: number) {
    super(`transaction limit reached (${limit})`);
    this.name = 'TransactionLimitError';
  }
}

/** A client transaction with that branch and method already exists (§17.1.3 key collision). */
export class DuplicateTransactionError extends TransactionError {
  constructor(readonly key: string) {
    super(`a client transaction already exists for ${key}`);
    this.name = 'DuplicateTransactionError';
  }
}

/** A request handed to the layer cannot start a transaction (no Via, bad branch, ACK, ...). */
export class InvalidTransactionRequestError extends TransactionError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTransactionRequestError';
  }
}
