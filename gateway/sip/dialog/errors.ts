/** Named errors of the dialog layer (RFC 3261 §12). */

export class DialogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DialogError';
  }
}

/**
 * A message cannot create a dialog (RFC 3261 §12.1): no To tag in the response, no From tag in the
 * request, or a Contact that is missing, a wildcard or not a sip/sips URI.
 */
export class DialogCreationError extends DialogError {
  constructor(reason: string) {
    super(`cannot create a dialog: ${reason}`);
    this.name = 'DialogCreationError';
  }
}

/** The dialog is terminated: no request may be sent in it any more (RFC 3261 §12.3). */
export class DialogTerminatedError extends DialogError {
  constructor(readonly dialogId: string) {
    super('the dialog is terminated');
    this.name = 'DialogTerminatedError';
  }
}

/** A Session-Expires or Min-SE value that does not follow RFC 4028 §4's grammar. */
export class SessionTimerSyntaxError extends DialogError {
  constructor(readonly header: string) {
    super(`malformed ${header}`);
    this.name = 'SessionTimerSyntaxError';
  }
}
