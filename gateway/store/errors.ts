/**
 * Errors of the accounts data layer (gateway/store).
 *
 * Messages say what is wrong and what to do about it. They name files and users, never a value
 * read from a secret column or the master key: these errors reach the console and the logs.
 */

/** Base class: every error thrown by gateway/store is an instance of it. */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** keys/master.key is missing, malformed, or readable by others; the gateway must not start. */
export class MasterKeyError extends StoreError {
  constructor(message: string, readonly keyPath: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The database was sealed under a master key other than the one in keys/master.key (restored
 * from another machine, or the key file was replaced). Nothing in it would decrypt.
 */
export class MasterKeyMismatchError extends MasterKeyError {}

/** A sealed value did not authenticate: wrong key, wrong identity (AAD), or tampered bytes. */
export class SealedValueError extends StoreError {}

/** The database file carries a schema this build does not know (written by a newer version). */
export class SchemaVersionError extends StoreError {}

/** A uniqueness rule of the store would be broken (name, number, fingerprint...). */
export class StoreConflictError extends StoreError {
  constructor(
    message: string,
    readonly field: 'name' | 'number' | 'fingerprint' | 'token',
  ) {
    super(message);
  }
}

/** The row the operation needs does not exist (e.g. a secret for an unknown user). */
export class StoreNotFoundError extends StoreError {}

/**
 * Secrets were deleted but the write-ahead log could not be truncated (another connection kept
 * reading): the old bytes may still sit in the -wal file until the next checkpoint.
 */
export class WalCheckpointError extends StoreError {}
