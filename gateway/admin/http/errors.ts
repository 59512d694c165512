/**
 * HTTP errors of the admin API, and the one mapping from account-administration errors to status
 * codes (shared with the CLI, so `ciphergate user ...` reports the same thing whether it talked to
 * a running gateway or worked on the files).
 *
 * Bodies are `{"error": "...", "field"?: "...", "violations"?: [...]}`. Messages come from the
 * error classes (gateway/admin/errors.ts), which never quote input or secrets.
 */
import {
  AdminError,
  CertificateInUseError,
  InvalidDisplayNameError,
  InvalidFingerprintError,
  InvalidNumberError,
  InvalidOtpError,
  InvalidUserNameError,
  NumberInUseError,
  PasswordPolicyConfigError,
  PasswordPolicyError,
  UnknownUserError,
  UserBlockedError,
  UserExistsError,
} from '../errors';

export interface ErrorBody {
  readonly error: string;
  /** The request field at fault (400, 409). */
  readonly field?: string;
  /** Every broken password rule, in plain words (400 on a password). */
  readonly violations?: readonly string[];
}

/** An error that is answered with `status` and an ErrorBody. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: { readonly field?: string; readonly violations?: readonly string[] } = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  get field(): string | undefined {
    return this.details.field;
  }

  body(): ErrorBody {
    return {
      error: this.message,
      ...(this.details.field !== undefined && { field: this.details.field }),
      ...(this.details.violations !== undefined && { violations: this.details.violations }),
    };
  }
}

/** 400 naming the field. */
export function badField(field: string, problem: string): HttpError {
  return new HttpError(400, `${field}: ${problem}`, { field });
}

/**
 * The HttpError for an account-administration error, or undefined for anything else (an
 * internal failure: the caller answers 500 without details and logs it).
 * `passwordField` names the request field that carried the password.
 */
export function httpErrorFor(err: unknown, passwordField = 'password'): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (!(err instanceof AdminError)) return undefined;
  if (err instanceof InvalidUserNameError) return new HttpError(400, err.message, { field: 'name' });
  if (err instanceof InvalidNumberError) return new HttpError(400, err.message, { field: 'number' });
  if (err instanceof InvalidDisplayNameError) return new HttpError(400, err.message, { field: 'displayName' });
  if (err instanceof InvalidFingerprintError) return new HttpError(400, err.message, { field: 'fingerprint' });
  if (err instanceof PasswordPolicyError) {
    return new HttpError(400, err.message, { field: passwordField, violations: err.violations });
  }
  if (err instanceof PasswordPolicyConfigError) return undefined;
  if (err instanceof UserExistsError) return new HttpError(409, err.message, { field: 'name' });
  if (err instanceof NumberInUseError) return new HttpError(409, err.message, { field: 'number' });
  if (err instanceof CertificateInUseError) return new HttpError(409, err.message, { field: 'fingerprint' });
  if (err instanceof UnknownUserError) return new HttpError(404, err.message);
  if (err instanceof UserBlockedError) return new HttpError(409, err.message);
  if (err instanceof InvalidOtpError) return new HttpError(403, err.message);
  return new HttpError(400, err.message);
}
