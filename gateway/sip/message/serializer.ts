/**
 * The SIP message serializer (RFC 3261 §7).
 *
 * Start line, the typed header fields, the HeaderList in order, then a Content-Length computed
 * from the body (always written: RFC 3261 §20.14 requires it on streams and it costs nothing on
 * datagrams). The serializer is the last line against header injection: no element may carry a CR
 * or LF, whatever code built the message.
 */
import { SipSerializeError } from './errors';
import { isToken, serializeCSeq, serializeNameAddr, serializeUri, serializeVia } from './grammar';
import { KNOWN_NAMES, LIST_HEADERS } from './headers';
import type { SipMessage } from './message';

/**
 * Header injection guard. Every line the serializer writes ends in exactly one CR LF, so a head
 * with more CRs or LFs than lines has a line break inside a value, which would split a header
 * line: the message is refused. Counting once on the finished head (native indexOf) is cheaper
 * than testing each element.
 */
function count(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i >= 0; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

/** Serializes a request or response to wire bytes. Throws SipSerializeError on an unwritable message. */
export function serializeMessage(msg: SipMessage): Buffer {
  // Plain concatenation: V8 builds a rope and flattens it once (cheaper than Array.join here).
  let head: string;
  if (msg.kind === 'request') {
    if (!isToken(msg.method)) throw new SipSerializeError('method is not a token');
    const uri = serializeUri(msg.uri);
    if (uri.indexOf(' ') >= 0) throw new SipSerializeError('unwritable Request-URI');
    head = msg.method + ' ' + uri + ' SIP/2.0\r\n';
  } else {
    if (!Number.isInteger(msg.status) || msg.status < 100 || msg.status > 699) throw new SipSerializeError('status out of range');
    head = 'SIP/2.0 ' + msg.status + ' ' + msg.reason + '\r\n';
  }
  // Lines written: start line, From, To, Call-ID, CSeq, Content-Length, the empty line, + the rest.
  let lines = 7 + msg.via.length;
  for (const via of msg.via) head += 'Via: ' + serializeVia(via) + '\r\n';
  if (msg.maxForwards !== undefined) {
    head += 'Max-Forwards: ' + msg.maxForwards + '\r\n';
    lines++;
  }
  head +=
    'From: ' + serializeNameAddr(msg.from) +
    '\r\nTo: ' + serializeNameAddr(msg.to) +
    '\r\nCall-ID: ' + msg.callId +
    '\r\nCSeq: ' + serializeCSeq(msg.cseq) + '\r\n';
  const contact = msg.contact;
  if (contact === '*') {
    head += 'Contact: *\r\n';
    lines++;
  } else if (contact !== undefined) {
    for (const addr of contact) head += 'Contact: ' + serializeNameAddr(addr) + '\r\n';
    lines += contact.length;
  }
  // Consecutive elements of a list header go back on one line (RFC 3261 §7.3.1 makes the forms
  // equivalent), so a message splits and joins back to the same number of lines. An empty element
  // (`Supported:`) keeps its own line.
  let listName = '';
  for (const [name, value] of msg.headers) {
    if (name.length === 14 && name.toLowerCase() === 'content-length') continue;
    if (listName !== '' && name === listName && value !== '') {
      head += ', ' + value;
      continue;
    }
    if (listName !== '') head += '\r\n';
    if (!KNOWN_NAMES.has(name) && !isToken(name)) throw new SipSerializeError('header name is not a token');
    lines++;
    if (value !== '' && LIST_HEADERS.has(name)) {
      head += name + ': ' + value;
      listName = name;
    } else {
      head += name + ': ' + value + '\r\n';
      listName = '';
    }
  }
  if (listName !== '') head += '\r\n';
  const body = msg.body;
  head += 'Content-Length: ' + body.length + '\r\n\r\n';
  if (count(head, '\n') !== lines || count(head, '\r') !== lines) {
    throw new SipSerializeError('line break inside a header value');
  }
  // Mostly ASCII: then latin1 encoding is a plain copy, cheaper than UTF-8 encoding.
  const headLength = Buffer.byteLength(head, 'utf8');
  const encoding = headLength === head.length ? 'latin1' : 'utf8';
  if (body.length === 0) return Buffer.from(head, encoding);
  const wire = Buffer.allocUnsafe(headLength + body.length);
  wire.write(head, 0, headLength, encoding);
  body.copy(wire, headLength);
  return wire;
}
