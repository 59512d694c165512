/**
 * Errors of the operations tools (zeroize, backups). Messages name files and say what to do; they
 * never carry a byte of a key, a passphrase or a backup's contents: they reach the console.
 */

/** Base class: every error thrown by gateway/ops is an instance of it. */
export class OpsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Zeroize will not run on this target (a protected path, a directory that is not a data dir). */
export class ZeroizeRefusedError extends OpsError {
  constructor(message: string, readonly target: string) {
    super(message);
  }
}

/** The gateway that owns the data directory is running; the operation needs it stopped. */
export class GatewayRunningError extends OpsError {
  constructor(message: string, readonly pid: number) {
    super(message);
  }
}

/** A passphrase or key file that cannot be used (missing, wrong size, too short, readable by others). */
export class BackupSecretError extends OpsError {}

/** The file is not a Ciphergate backup, or one written by a newer format version. */
export class BackupFormatError extends OpsError {}

/** The passphrase or key file does not open this backup (the key check in the header failed). */
export class BackupKeyError extends OpsError {}

/**
 * The backup does not authenticate: a flipped byte, a truncated or extended file, reordered
 * chunks. Nothing read from it may be used.
 */
export class BackupCorruptError extends OpsError {}

/** Creating or restoring a backup failed for a reason outside the file (I/O, a missing database). */
export class BackupError extends OpsError {}
