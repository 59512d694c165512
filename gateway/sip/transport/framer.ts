/**
 * Stream framing of SIP messages (RFC 3261 §18.3, §7.5; RFC 5626 §4.4.1).
 *
 * On TCP and TLS a message ends where its Content-Length says, so the framer looks for the end of the
 * header block (the first CRLFCRLF), finds Content-Length by a linear scan of the header lines (no full
 * parse: the parser above does that), then waits for exactly that many body bytes.
 *
 * Memory is bounded by the limits: a header block that does not end within `maxHeaderBytes`, or a
 * message that would exceed `maxMessageBytes`, fails the stream at once instead of buffering on.
 * Content-Length is REQUIRED on streams (RFC 3261 §18.3, §20.14): without it the end of the message
 * is unknowable, so its absence is a framing error, as are non-numeric, negative and duplicate values.
 *
 * Between messages, RFC 3261 §7.5 says CRLFs before a start-line are ignored, and RFC 5626 §4.4.1 makes
 * a double CRLF from the client a keep-alive "ping", to be answered with a single CRLF "pong".
 */

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const CRLF = Buffer.from('\r\n', 'latin1');
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);
/** 10 digits already exceed any sane message; longer values are refused without parsing them. */
const MAX_CONTENT_LENGTH_DIGITS = 10;
/** Room for one socket read beyond the message limit before the store stops growing. */
const MAX_CHUNK_SLACK = 65536;

export type FramingErrorReason =
  | 'missing-content-length'
  | 'invalid-content-length'
  | 'duplicate-content-length'
  | 'header-too-large'
  | 'message-too-large';

/** The peer broke the stream framing rules; the connection has to be closed. */
export class FramingError extends Error {
  constructor(readonly reason: FramingErrorReason, message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

export interface FramerLimits {
  maxHeaderBytes: number;
  maxMessageBytes: number;
}

/**
 * What one chunk produced, in stream order: whole messages, keep-alive pings to answer, and at most
 * one final error (after which the framer accepts nothing more).
 */
export type FramedUnit =
  | { kind: 'message'; data: Buffer }
  | { kind: 'ping' }
  | { kind: 'error'; error: FramingError };

/** RFC 5626 §4.4.1: the pong is a single CRLF. */
export const PONG: Buffer = Buffer.from('\r\n', 'latin1');

export class StreamFramer {
  /** Receive store: the unconsumed bytes are `store[start, end)`, grown geometrically (linear cost). */
  private store: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  /** View of the unconsumed bytes; starts at the current message (or at keep-alive CRLFs). */
  private buf: Buffer = EMPTY;
  /** How far `buf` has already been searched for CRLFCRLF, so no byte is searched twice. */
  private scanned = 0;
  /** Length of the current message once its header block is known, else null. */
  private expected: number | null = null;
  private failure: FramingError | null = null;

  constructor(private readonly limits: FramerLimits) {}

  /** Bytes currently held: never more than the limits plus one chunk. */
  get bufferedBytes(): number {
    return this.buf.length;
  }

  /** Feeds one chunk; returns every unit it completes. */
  push(chunk: Buffer): FramedUnit[] {
    if (this.failure) return [{ kind: 'error', error: this.failure }];
    this.append(chunk);
    const out: FramedUnit[] = [];
    // Each turn consumes bytes or returns, so the loop is bounded by the chunk length.
    for (;;) {
      if (this.expected === null) {
        if (!this.skipKeepAlives(out)) break;
        try {
          const headerEnd = this.findHeaderEnd();
          if (headerEnd < 0) break;
          const bodyLength = contentLength(this.buf, headerEnd);
          if (headerEnd + bodyLength > this.limits.maxMessageBytes) {
            throw new FramingError(
              'message-too-large',
              `message of ${headerEnd + bodyLength} bytes exceeds ${this.limits.maxMessageBytes}`,
            );
          }
          this.expected = headerEnd + bodyLength;
        } catch (e) {
          if (!(e instanceof FramingError)) throw e;
          this.failure = e;
          this.release();
          out.push({ kind: 'error', error: e });
          return out;
        }
      }
      if (this.buf.length < this.expected) break;
      // A copy, so the message handed up does not alias the receive store.
      out.push({ kind: 'message', data: Buffer.from(this.buf.subarray(0, this.expected)) });
      this.consume(this.expected);
      this.expected = null;
      this.scanned = 0;
    }
    return out;
  }

  private append(chunk: Buffer): void {
    if (this.end + chunk.length > this.store.length) {
      const live = this.end - this.start;
      const need = live + chunk.length;
      if (need <= this.store.length) {
        this.store.copy(this.store, 0, this.start, this.end); // compact (copy is memmove-safe)
      } else {
        const ceiling = Math.max(need, this.limits.maxMessageBytes + MAX_CHUNK_SLACK);
        const next = Buffer.allocUnsafe(Math.min(Math.max(need, this.store.length * 2, 4096), ceiling));
        this.store.copy(next, 0, this.start, this.end);
        this.store = next;
      }
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.store, this.end);
    this.end += chunk.length;
    this.buf = this.store.subarray(this.start, this.end);
  }

  private consume(n: number): void {
    this.start += n;
    if (this.start === this.end) this.release();
    else this.buf = this.store.subarray(this.start, this.end);
  }

  /** An idle connection holds no receive memory. */
  private release(): void {
    this.store = EMPTY;
    this.buf = EMPTY;
    this.start = 0;
    this.end = 0;
  }

  /**
   * Consumes CRLFs before a start-line, reporting each CRLFCRLF as a ping.
   * Returns false when more bytes are needed to tell a ping from a lone CRLF.
   */
  private skipKeepAlives(out: FramedUnit[]): boolean {
    const b = this.buf;
    let pos = 0;
    while (pos < b.length && b[pos] === CR) {
      if (b.length - pos < 2) break;
      if (b[pos + 1] !== LF) break; // a bare CR starts a (malformed) message; the parser rejects it
      if (b.length - pos < 4) {
        if (b.length - pos === 3 && b[pos + 2] !== CR) {
          pos += 2;
          continue;
        }
        break; // "\r\n" or "\r\n\r": ping or lone CRLF, not known yet
      }
      if (b[pos + 2] === CR && b[pos + 3] === LF) {
        out.push({ kind: 'ping' });
        pos += 4;
      } else {
        pos += 2;
      }
    }
    if (pos > 0) this.consume(pos);
    // Waiting on a partial keep-alive, or nothing left: nothing to frame yet.
    return this.buf.length > 0 && !(this.buf[0] === CR && (this.buf.length < 2 || this.buf[1] === LF));
  }

  /** Offset just past the header block's CRLFCRLF, or -1 while it has not arrived. */
  private findHeaderEnd(): number {
    const from = Math.max(0, this.scanned - 3);
    const i = this.buf.indexOf(CRLFCRLF, from);
    const max = this.limits.maxHeaderBytes;
    if (i < 0) {
      this.scanned = this.buf.length;
      // The earliest terminator still possible would end past the limit.
      if (this.buf.length >= max) {
        throw new FramingError('header-too-large', `header block exceeds ${max} bytes`);
      }
      return -1;
    }
    if (i + 4 > max) throw new FramingError('header-too-large', `header block exceeds ${max} bytes`);
    return i + 4;
  }
}

/**
 * RFC 3261 §20.14 / §7.3.3: the value of the single Content-Length (compact form `l`) header,
 * found by one pass over the header lines of `buf[0, headerEnd)`. Folded values (§7.3.1) are joined.
 */
export function contentLength(buf: Buffer, headerEnd: number): number {
  const linesEnd = headerEnd - 2; // the last header line's CRLF is the first half of CRLFCRLF
  let lineStart = buf.indexOf(CRLF, 0) + 2; // skip the start-line
  let value: string | null = null;
  let inContentLength = false;
  while (lineStart < linesEnd) {
    const lineEnd = buf.indexOf(CRLF, lineStart);
    const c = buf[lineStart];
    if (c === SP || c === HTAB) {
      if (inContentLength) value += ' ' + buf.toString('latin1', lineStart, lineEnd);
    } else {
      inContentLength = isContentLengthName(buf, lineStart, lineEnd);
      if (inContentLength) {
        if (value !== null) {
          throw new FramingError('duplicate-content-length', 'more than one Content-Length header');
        }
        value = buf.toString('latin1', colonIn(buf, lineStart, lineEnd) + 1, lineEnd);
      }
    }
    lineStart = lineEnd + 2;
  }
  if (value === null) {
    throw new FramingError('missing-content-length', 'Content-Length is required on stream transports');
  }
  return parseContentLength(value);
}

/** True when the line's field name (before the colon, HCOLON allows SP/HTAB) is Content-Length or l. */
function isContentLengthName(buf: Buffer, lineStart: number, lineEnd: number): boolean {
  const colon = colonIn(buf, lineStart, lineEnd);
  if (colon < 0) return false;
  let nameEnd = colon;
  while (nameEnd > lineStart && (buf[nameEnd - 1] === SP || buf[nameEnd - 1] === HTAB)) nameEnd--;
  const length = nameEnd - lineStart;
  if (length !== 1 && length !== 14) return false;
  const name = buf.toString('latin1', lineStart, nameEnd).toLowerCase();
  return name === 'l' || name === 'content-length';
}

/** The first colon of one line, or -1; searching within the line keeps the whole scan linear. */
function colonIn(buf: Buffer, lineStart: number, lineEnd: number): number {
  const i = buf.subarray(lineStart, lineEnd).indexOf(COLON);
  return i < 0 ? -1 : lineStart + i;
}

/** `1*DIGIT` surrounded by optional whitespace; anything else (sign, comma list, junk) is refused. */
function parseContentLength(raw: string): number {
  let start = 0;
  let end = raw.length;
  while (start < end && isWhitespace(raw.charCodeAt(start))) start++;
  while (end > start && isWhitespace(raw.charCodeAt(end - 1))) end--;
  if (start === end || end - start > MAX_CONTENT_LENGTH_DIGITS) {
    throw new FramingError('invalid-content-length', 'Content-Length is not a valid length');
  }
  for (let i = start; i < end; i++) {
    const d = raw.charCodeAt(i);
    if (d < 0x30 || d > 0x39) {
      throw new FramingError('invalid-content-length', 'Content-Length is not a valid length');
    }
  }
  return Number(raw.slice(start, end));
}

function isWhitespace(c: number): boolean {
  return c === SP || c === HTAB;
}
