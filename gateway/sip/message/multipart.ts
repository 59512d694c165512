/**
 * multipart/* bodies (RFC 2046 §5.1; SIP use in RFC 3261 §7.4, RFC 5621; RFC 4475 §3.1.1.11).
 *
 * The body is searched as bytes (parts may be binary, e.g. S/MIME). Each part's headers are
 * parsed with the SIP header rules (folding, case-insensitive names) into a HeaderList; nested
 * multiparts are left to the caller (call parseMultipart again on the part).
 */
import { isToken } from './chars';
import { SipParseError } from './errors';
import { parseMediaType, unquote } from './grammar';
import { HeaderList } from './message';

export interface MimePart {
  headers: HeaderList;
  body: Buffer;
}

/** At most this many parts are read; a body with more is refused. */
export const MAX_MIME_PARTS = 64;

const CRLF = Buffer.from('\r\n', 'latin1');
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

function bad(): SipParseError {
  return new SipParseError(400, 'Bad Request - Malformed Multipart Body');
}

/**
 * boundary := 0*69<bchars> bcharsnospace (RFC 2046 §5.1.1). Returns the boundary parameter of a
 * multipart Content-Type, unquoted.
 */
export function multipartBoundary(contentType: string): string {
  const mt = parseMediaType(contentType);
  const raw = mt.params.get('boundary');
  if (mt.type !== 'multipart' || raw === undefined || raw === null) throw bad();
  const b = raw.charCodeAt(0) === 34 ? unquote(raw) : raw;
  if (b.length === 0 || b.length > 70 || b.charCodeAt(b.length - 1) === 32) throw bad();
  for (let i = 0; i < b.length; i++) {
    const c = b.charCodeAt(i);
    // bchars = DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," / "-" / "." / "/" / ":" / "=" / "?" / SP
    const ok = (c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || "'()+_,-./=? ".includes(b[i]);
    if (!ok) throw bad();
  }
  return b;
}

/** Parses the header block of one part (folded lines allowed). */
function partHeaders(text: string): HeaderList {
  const headers = new HeaderList();
  const lines = text.split('\r\n');
  let name = '';
  let value = '';
  const flush = (): void => {
    if (name !== '') headers.add(name, value.trim());
  };
  for (const line of lines) {
    if (line === '') continue;
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) {
      if (name === '') throw bad();
      value += ' ' + line.trim();
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) throw bad();
    name = line.slice(0, colon).trimEnd();
    if (!isToken(name)) throw bad();
    value = line.slice(colon + 1);
  }
  flush();
  return headers;
}

/**
 * Splits a multipart body into its parts. `contentType` is the message's Content-Type value
 * (it carries the boundary). The preamble and epilogue are ignored (RFC 2046 §5.1.1).
 */
export function parseMultipart(body: Buffer, contentType: string): MimePart[] {
  const delimiter = Buffer.from('--' + multipartBoundary(contentType), 'latin1');
  const inner = Buffer.concat([CRLF, delimiter]);
  // The first delimiter is at the very start or after a CRLF (the preamble ends with it).
  let at = body.subarray(0, delimiter.length).equals(delimiter) ? 0 : body.indexOf(inner);
  if (at < 0) throw bad();
  if (at > 0) at += 2;
  const parts: MimePart[] = [];
  for (;;) {
    let i = at + delimiter.length;
    if (body[i] === 45 && body[i + 1] === 45) return parts; // close-delimiter "--boundary--"
    while (body[i] === 32 || body[i] === 9) i++; // transport-padding
    if (body[i] !== 13 || body[i + 1] !== 10) throw bad();
    const partStart = i + 2;
    const next = body.indexOf(inner, partStart - 2);
    if (next < 0 || parts.length >= MAX_MIME_PARTS) throw bad();
    const part = body.subarray(partStart, Math.max(partStart, next));
    let headers: HeaderList;
    let content: Buffer;
    if (part[0] === 13 && part[1] === 10) {
      headers = new HeaderList();
      content = part.subarray(2);
    } else {
      const sep = part.indexOf(CRLFCRLF);
      if (sep < 0) throw bad();
      headers = partHeaders(part.toString('utf8', 0, sep));
      content = part.subarray(sep + 4);
    }
    parts.push({ headers, body: Buffer.from(content) });
    at = next + 2;
  }
}
