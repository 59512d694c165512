/**
 * The gateway's logger: winston underneath, our own small `Logger` interface on top so no other
 * module imports winston. Every entry passes the redaction in redact.ts before it is formatted.
 *
 * Entries go to stderr by default, one per line: stdout stays free for the CLI's own output
 * ("Ciphergate ready", the certificate fingerprint) so both can be consumed separately.
 *
 * Correlation: `log.child({ cid })` returns a logger that adds the dialog's correlation id to every
 * entry, so one call can be followed across transactions and legs.
 */
import winston from 'winston';
import type { LogFormat, LogLevel } from '../../config/schema';
import { redactValue, type RedactOptions } from './redact';

export type { LogLevel, LogFormat } from '../../config/schema';

/** Structured fields of one entry. Keys named like secrets are redacted (see redact.ts). */
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /** A logger whose entries all carry `fields` (e.g. { cid } for one dialog). */
  child(fields: LogFields): Logger;
  /** Lets callers skip building expensive debug fields (a whole SIP message) when unused. */
  isLevelEnabled(level: LogLevel): boolean;
}

/** The logger createLogger returns: a Logger that can also be flushed and closed at shutdown. */
export interface RootLogger extends Logger {
  /** Flushes pending entries and detaches from the output stream (which is not closed). */
  close(): Promise<void>;
}

export interface LoggerConfig {
  readonly level: LogLevel;
  readonly format: LogFormat;
  readonly debugBodies: boolean;
}

export interface LoggerOptions {
  /** Where lines go; default process.stderr. Tests pass a collecting Writable. */
  stream?: NodeJS.WritableStream;
}

/** winston's info symbols (triple-beam): the formatted line, and the raw splat arguments. */
const MESSAGE = Symbol.for('message');
const SPLAT = Symbol.for('splat');

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** Fields that winston owns; a caller field with one of these names is kept under "_<name>". */
const RESERVED = new Set(['level', 'message', 'timestamp']);

/** `cfg` is the `log` section of Config, or the whole Config. */
export function createLogger(config: LoggerConfig | { readonly log: LoggerConfig }, options: LoggerOptions = {}): RootLogger {
  const cfg = 'log' in config ? config.log : config;
  const redactOptions: RedactOptions = { debugBodies: cfg.debugBodies };
  const w = winston.createLogger({
    levels: LEVELS,
    level: cfg.level,
    exitOnError: false,
    format: winston.format.combine(
      redaction(redactOptions),
      winston.format.timestamp(),
      cfg.format === 'text' ? textFormat() : jsonFormat(),
    ),
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stderr })],
  });
  const root = new WinstonLogger(w);
  return Object.assign(root, {
    close: () => new Promise<void>((resolve) => {
      w.once('finish', () => resolve());
      w.end();
    }),
  });
}

/** A Logger that drops everything: for tests and tools that do not log. */
export const nullLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => nullLogger,
  isLevelEnabled: () => false,
};

/**
 * A child is only a reference to its parent and its own fields: nothing is built until an entry
 * passes the level check. Children are made per request on the signalling path (ua-core), and
 * winston's own child() costs an object graph each time whether or not anything is logged.
 */
class WinstonLogger implements Logger {
  /** Parent's fields and own fields, merged on first use. */
  private merged: Record<string, unknown> | undefined;

  constructor(
    private readonly w: winston.Logger,
    private readonly parent?: WinstonLogger,
    private readonly own?: LogFields,
  ) {}

  error(message: string, fields?: LogFields): void { this.write('error', message, fields); }
  warn(message: string, fields?: LogFields): void { this.write('warn', message, fields); }
  info(message: string, fields?: LogFields): void { this.write('info', message, fields); }
  debug(message: string, fields?: LogFields): void { this.write('debug', message, fields); }

  child(fields: LogFields): Logger {
    return new WinstonLogger(this.w, this, fields);
  }

  isLevelEnabled(level: LogLevel): boolean {
    return this.w.isLevelEnabled(level);
  }

  private base(): Record<string, unknown> {
    if (this.merged === undefined) {
      this.merged = this.parent === undefined ? {} : { ...this.parent.base() };
      if (this.own !== undefined) Object.assign(this.merged, renameReserved(this.own));
    }
    return this.merged;
  }

  private write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (!this.w.isLevelEnabled(level)) return;
    // Object form: winston would otherwise append a `message` field to the text. The entry's own
    // fields override the child's, as with winston's child().
    this.w.log({ ...this.base(), ...renameReserved(fields ?? {}), level, message });
  }
}

function renameReserved(fields: LogFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[RESERVED.has(k) ? `_${k}` : k] = v;
  return out;
}

/** Replaces every field (message included) by its redacted copy; drops winston's raw SPLAT args. */
function redaction(opts: RedactOptions): ReturnType<ReturnType<typeof winston.format>> {
  return winston.format((info) => {
    for (const key of Object.keys(info)) {
      if (key === 'level') continue;
      info[key] = redactValue(info[key], opts, key === 'message' ? undefined : key);
    }
    delete info[SPLAT];
    return info;
  })();
}

/** `{"timestamp":..,"level":..,"message":..,<fields>}` one line per entry. */
const jsonFormat = winston.format((info) => {
  const { level, message, timestamp, ...fields } = info;
  info[MESSAGE] = JSON.stringify({ timestamp, level, message, ...fields });
  return info;
});

/**
 * `2025-01-01T00:00:00.000Z INFO  [cid] message key=value ...`. Control characters are escaped so
 * attacker-chosen text cannot forge log lines; multi-line values (SIP traces) follow the line,
 * every continuation prefixed with "  | ".
 */
const textFormat = winston.format((info) => {
  const { level, message, timestamp, cid, ...fields } = info;
  const blocks: string[] = [];
  const head = [String(timestamp), String(level).toUpperCase().padEnd(5)];
  if (cid !== undefined) head.push(`[${escapeControl(String(cid))}]`);
  head.push(inlineOrBlock('message', String(message), blocks, true));
  for (const [k, v] of Object.entries(fields)) {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    head.push(`${escapeControl(k)}=${inlineOrBlock(k, text ?? 'undefined', blocks, false)}`);
  }
  info[MESSAGE] = [head.join(' '), ...blocks].join('\n');
  return info;
});

function inlineOrBlock(name: string, text: string, blocks: string[], bare: boolean): string {
  if (!text.includes('\n')) {
    if (bare) return escapeControl(text);
    return /^[\w.:/@+\-[\]]*$/.test(text) && text !== '' ? text : JSON.stringify(text);
  }
  blocks.push(`  ${escapeControl(name)}:`);
  for (const line of text.split('\n')) blocks.push(`  | ${escapeControl(line.replace(/\r$/, ''))}`);
  return bare ? '(see below)' : '(below)';
}

/** C0, DEL, C1 controls and Unicode line separators → visible escapes. */
export function escapeControl(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point here
  return s.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}
