/**
 * Errors of account administration (users.ts, password-policy.ts).
 *
 * Each message says what to do next. None contains a password, OTP, HA1 or key, and input that
 * failed validation is not echoed either: a password typed into the wrong field must not end up
 * in a log line.
 */

/** Base class: every error thrown by account administration is an instance of it. */
export class AdminError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidUserNameError extends AdminError {
  constructor() {
    super(
      "user name must be 1 to 64 characters from a-z 0-9 - _ . ! ~ * ' ( ) (an RFC 3261 user part, " +
        'lower-case only); choose another name',
    );
  }
}

export class InvalidNumberError extends AdminError {
  constructor() {
    super('number must be in E.164 form: "+" then 8 to 15 digits, the first not 0 (e.g. +41446681800)');
  }
}

export class InvalidDisplayNameError extends AdminError {
  constructor(maxLength: number) {
    super(`display name must be 1 to ${maxLength} characters without control characters`);
  }
}

export class InvalidFingerprintError extends AdminError {
  constructor() {
    super(
      'certificate fingerprint must be a SHA-256 digest: 64 hex digits, optionally in colon-separated ' +
        'pairs (as printed by: openssl x509 -noout -fingerprint -sha256)',
    );
  }
}

export class UserExistsError extends AdminError {
  constructor(readonly userName: string) {
    super(`user "${userName}" already exists; choose another name, or remove the existing user first`);
  }
}

export class NumberInUseError extends AdminError {
  constructor(
    readonly number: string,
    readonly owner: string,
  ) {
    super(`number ${number} already belongs to user "${owner}"; remove it from that user first`);
  }
}

export class CertificateInUseError extends AdminError {
  constructor(readonly owner: string) {
    super(`this certificate is already bound to user "${owner}"; unbind it there first`);
  }
}

export class UnknownUserError extends AdminError {
  constructor(readonly userName: string) {
    super(`no user "${userName}"; check the name against the user list`);
  }
}

export class UserBlockedError extends AdminError {
  constructor(readonly userName: string) {
    super(`user "${userName}" is blocked; unblock the user first if the account should be used again`);
  }
}

/** Lists every broken rule (plain words, see password-policy.ts), never the password. */
export class PasswordPolicyError extends AdminError {
  constructor(readonly violations: readonly string[]) {
    super(`the password does not meet the password policy: it ${violations.join('; it ')}. Choose another password`);
  }
}

/** The password policy options cannot be met by any password (e.g. minLength > maxLength). */
export class PasswordPolicyConfigError extends AdminError {}

/**
 * Deliberately one error for every reason (wrong, expired, used, no OTP, unknown or blocked user):
 * the redeem step must not tell a guesser which accounts have a pending OTP.
 */
export class InvalidOtpError extends AdminError {
  constructor() {
    super('the one-time password is wrong, expired or already used; ask an administrator for a new one');
  }
}
