/**
 * The audit log: `<dataDir>/audit.log`, one JSON object per line, appended (flag 'a'), mode 0600.
 *
 * It answers "who did what to which account, from where, and did it work": every admin action
 * (API, CLI), every authentication failure, lockout, ban, block and key destruction. The registrar
 * records its events through the same `AuditLog` interface.
 *
 * What it must never hold: passwords, one-time passwords, HA1s, tokens. Entries are built from an
 * explicit allow-list of fields (anything else a caller passes is dropped), every value then goes
 * through the log redaction (gateway/log/redact.ts: secret-named keys, credential headers, keys in
 * text), strings are cut to a bounded length. Callers pass error class names as `reason`, not
 * messages.
 *
 * Several processes may append (the gateway and a CLI working on a stopped gateway's data): each
 * entry is one write(2) of one line to a file opened O_APPEND, which POSIX appends atomically.
 */
import { closeSync, constants as FS, fchmodSync, fstatSync, mkdirSync, openSync } from 'node:fs';
import * as path from 'node:path';
import winston from 'winston';
import { redactValue } from '../log/redact';

export const AUDIT_FILE = 'audit.log';

export type AuditResult = 'ok' | 'denied' | 'failed';

/**
 * Known actions. Admin: user.add, user.update, user.list, user.show, user.block, user.unblock,
 * user.reset, user.destroy-keys, user.remove, user.bind-cert, registrations.list, token.rotate,
 * token.rotate-metrics (the scrape-only token), token.mint.
 * Authentication: admin.auth-failure (bad bearer token), admin.insufficient-scope (a metrics token
 * on an admin route), self.password (OTP redemption),
 * sip.auth-failure, sip.lockout, sip.ban (registrar). Other lower-case dotted names are accepted.
 */
export type AuditAction =
  | 'user.add' | 'user.update' | 'user.list' | 'user.show' | 'user.block' | 'user.unblock' | 'user.reset'
  | 'user.destroy-keys' | 'user.remove' | 'user.bind-cert' | 'registrations.list'
  | 'token.rotate' | 'token.rotate-metrics' | 'token.mint' | 'admin.auth-failure' | 'admin.insufficient-scope'
  | 'admin.rate-limited' | 'self.password'
  | 'sip.auth-failure' | 'sip.lockout' | 'sip.ban'
  | (string & Record<never, never>);

export interface AuditEvent {
  readonly action: AuditAction;
  /**
   * Who: "token:<id>" (admin API token), "cli:<OS user>" (the ciphergate command), "user:<name>"
   * (self-service), "sip" (the registrar), "anonymous".
   */
  readonly actor: string;
  /** From where: the peer IP address, or "local" for the CLI working on the files directly. */
  readonly source: string;
  /** The account acted on, when there is one. */
  readonly target?: string;
  readonly result: AuditResult;
  /** Why it was denied or failed: an error class name or a short fixed phrase, never input. */
  readonly reason?: string;
  /** Extra facts; only the keys in DETAIL_FIELDS are kept. */
  readonly detail?: Readonly<Record<string, string | number | boolean | undefined>>;
}

export interface AuditLog {
  /** Appends one entry; never throws (an unwritable audit file is reported by the implementation). */
  record(event: AuditEvent): void;
}

/** Detail keys an entry may carry. None can hold a credential by construction. */
export const DETAIL_FIELDS: readonly string[] = [
  'method', 'path', 'status', 'aor', 'contact', 'transport', 'fingerprint', 'expiresAt', 'count',
  'realm', 'userAgent', 'durationSec', 'tokenId', 'revoked', 'via', 'attempts', 'algorithm',
  // user.add / user.update: the field names changed and the resulting calling permissions.
  'changed', 'mayCallOffNet', 'mayCallInternational',
];
const MAX_STRING = 256;
const ACTION = /^[a-z][a-z0-9.-]{0,63}$/;

/** An AuditLog that drops everything (tests and tools that audit elsewhere). */
export const nullAudit: AuditLog = { record: () => undefined };

/** The allow-listed, redacted, bounded object one event becomes (without timestamp). */
export function auditEntry(event: AuditEvent): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    action: ACTION.test(event.action) ? event.action : 'invalid-action',
    actor: clean(event.actor, 'actor'),
    source: clean(event.source, 'source'),
  };
  if (event.target !== undefined) entry.target = clean(event.target, 'target');
  entry.result = event.result === 'ok' || event.result === 'denied' ? event.result : 'failed';
  if (event.reason !== undefined) entry.reason = clean(event.reason, 'reason');
  if (event.detail !== undefined) {
    const detail: Record<string, unknown> = {};
    // Walk the allow-list, not the caller's keys: bounded, and nothing else can get through.
    for (const key of DETAIL_FIELDS) {
      if (!Object.prototype.hasOwnProperty.call(event.detail, key)) continue;
      const value = event.detail[key];
      if (value === undefined) continue;
      detail[key] = typeof value === 'string' ? clean(value, key) : redactValue(value, { debugBodies: false }, key);
    }
    if (Object.keys(detail).length > 0) entry.detail = detail;
  }
  return entry;
}

function clean(value: unknown, key: string): string {
  const text = String(redactValue(String(value), { debugBodies: false }, key));
  return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text;
}

export function auditLogPath(dataDir: string): string {
  return path.join(dataDir, AUDIT_FILE);
}

export interface FileAuditLogOptions {
  /** Called when the file cannot be written (default: ignored; the gateway logs it). */
  onError?: (err: Error) => void;
}

/** The audit file through a winston File transport. */
export class FileAuditLog implements AuditLog {
  private readonly logger: winston.Logger;
  private readonly transport: winston.transports.FileTransportInstance;
  private closed = false;

  private constructor(readonly file: string, options: FileAuditLogOptions) {
    this.transport = new winston.transports.File({
      filename: file,
      options: { flags: 'a', mode: 0o600 },
      format: winston.format.printf((info) => JSON.stringify(info.entry)),
    });
    this.logger = winston.createLogger({ level: 'info', transports: [this.transport], exitOnError: false });
    const onError = options.onError ?? (() => undefined);
    this.transport.on('error', onError);
    this.logger.on('error', onError);
  }

  /** Creates `<dataDir>/audit.log` 0600 if needed (tightening an existing file) and opens it. */
  static open(dataDir: string, options: FileAuditLogOptions = {}): FileAuditLog {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = auditLogPath(dataDir);
    // Create it ourselves: winston/fs would apply the umask (typically 0644).
    const fd = openSync(file, FS.O_WRONLY | FS.O_APPEND | FS.O_CREAT | FS.O_NOFOLLOW, 0o600);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new Error(`audit log ${file} must be a regular file`);
      if ((st.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
    } finally {
      closeSync(fd);
    }
    return new FileAuditLog(file, options);
  }

  record(event: AuditEvent): void {
    if (this.closed) return;
    const entry = { time: new Date().toISOString(), ...auditEntry(event) };
    this.logger.info({ message: 'audit', entry });
  }

  /** Flushes pending lines to the file and closes it (bounded wait). */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.transport.once('finish', () => {
        clearTimeout(timer);
        resolve();
      });
      this.logger.end();
    });
  }
}

export function openAuditLog(dataDir: string, options?: FileAuditLogOptions): FileAuditLog {
  return FileAuditLog.open(dataDir, options);
}
