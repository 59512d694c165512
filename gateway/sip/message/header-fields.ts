/**
 * The header fields of one message being parsed: typed fields for the headers every element
 * routes on (RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards, Via; and Contact), a
 * HeaderList for the rest, and the first fault found.
 *
 * For a request, a fault does not stop the parse: the fields a 400 copies (RFC 3261 §8.2.6.2)
 * may come after the faulty one (RFC 4475 §3.1.2.17 mismatch01 has CSeq before Via). For a
 * response, the first fault throws at once: a response is never answered.
 */
import { parseDecimal } from './chars';
import { type ResponsePartial, SipParseError } from './errors';
import { isCallId, parseCSeq, salvageCSeq, serializeCSeq, splitList } from './grammar';
import { LIST_HEADERS, NAME_ADDR_LIST_HEADERS, SINGLE_HEADERS } from './headers';
import { HeaderList, type SipMessageFields } from './message';
import { parseNameAddr, parseNameAddrAt, salvageNameAddr } from './nameaddr';
import { cursor } from './params';
import type { ParserLimits } from './parser';
import type { CSeq, ContactList, NameAddr, Via } from './types';
import { parseViaAt, salvageVia } from './via';

/** The typed fields of a complete, valid message (everything but the body). */
export type ParsedFields = Omit<SipMessageFields, 'body'>;

const FROM = 1;
const TO = 2;
const CALL_ID = 4;
const CSEQ = 8;
const MAX_FORWARDS = 16;
const CONTENT_LENGTH = 32;

function isParseError(e: unknown): e is SipParseError {
  return e instanceof SipParseError;
}

export class HeaderFields {
  readonly headers = new HeaderList();
  readonly via: Via[] = [];
  from?: NameAddr;
  to?: NameAddr;
  callId?: string;
  cseq?: CSeq;
  maxForwards?: number;
  contact?: ContactList;
  contentLength = -1;
  private seen = 0;
  private viaBroken = false;
  private contactCount = 0;
  private listCounts?: Map<string, number>;
  /** Single-valued untyped fields seen (SINGLE_HEADERS), to refuse a second copy. */
  private singles?: Set<string>;
  private firstFault?: { status: number; reason: string };
  /** A CSeq whose number is out of range, kept to address the 400. */
  private cseqSalvage?: { value: string; method: string };

  constructor(
    private readonly isRequest: boolean,
    private readonly limits: Readonly<ParserLimits>,
  ) {}

  /** Records a fault (the first one wins). For a response, throws at once. */
  fault(status: number, reason: string): void {
    if (!this.isRequest) throw new SipParseError(status, reason);
    if (this.firstFault === undefined) this.firstFault = { status, reason };
  }

  /**
   * The error to throw now that a hard limit was hit: the first fault if there was one, else this
   * one, addressed with what was read so far.
   */
  error(status: number, reason: string): SipParseError {
    const f = this.firstFault ?? { status, reason };
    return new SipParseError(f.status, f.reason, this.partial());
  }

  /** The error for the first fault recorded, if any. */
  failure(): SipParseError | undefined {
    const f = this.firstFault;
    return f === undefined ? undefined : new SipParseError(f.status, f.reason, this.partial());
  }

  private partial(): ResponsePartial | undefined {
    if (!this.isRequest || this.via.length === 0) return undefined;
    const cseq = this.cseq !== undefined ? { value: serializeCSeq(this.cseq), method: this.cseq.method } : this.cseqSalvage;
    if (cseq === undefined) return undefined;
    const p: ResponsePartial = { via: this.via, cseq: cseq.value, method: cseq.method };
    if (this.from !== undefined) p.from = this.from;
    if (this.to !== undefined) p.to = this.to;
    if (this.callId !== undefined) p.callId = this.callId;
    return p;
  }

  /** A field that may appear once: the second copy is a fault (RFC 4475 §3.3.8, §3.3.9). */
  private once(bit: number, name: string): boolean {
    if ((this.seen & bit) !== 0) {
      this.fault(400, `Bad Request - Duplicate ${name}`);
      return false;
    }
    this.seen |= bit;
    return true;
  }

  /** Adds a field; `name` must already be canonical (see canonicalName). */
  add(name: string, value: string): void {
    switch (name) {
      case 'Via':
        return this.addVia(value);
      case 'From':
      case 'To': {
        if (!this.once(name === 'From' ? FROM : TO, name)) return;
        let addr: NameAddr | undefined;
        try {
          addr = parseNameAddr(value);
        } catch (e) {
          if (!isParseError(e)) throw e;
          this.fault(400, `Bad Request - Malformed ${name}`);
          addr = salvageNameAddr(value);
        }
        if (name === 'From') this.from = addr;
        else this.to = addr;
        return;
      }
      case 'Call-ID':
        if (!this.once(CALL_ID, name)) return;
        if (isCallId(value)) this.callId = value;
        else this.fault(400, 'Bad Request - Malformed Call-ID');
        return;
      case 'CSeq':
        if (!this.once(CSEQ, name)) return;
        try {
          this.cseq = parseCSeq(value);
        } catch (e) {
          if (!isParseError(e)) throw e;
          this.fault(400, 'Bad Request - Malformed CSeq');
          this.cseqSalvage = salvageCSeq(value);
        }
        return;
      case 'Max-Forwards': {
        if (!this.once(MAX_FORWARDS, name)) return;
        // RFC 3261 §20.22: 0..255 (RFC 4475 §3.1.2.4 scalar02 sends 300).
        const v = parseDecimal(value, 0, value.length, 255);
        if (v < 0) this.fault(400, 'Bad Request - Malformed Max-Forwards');
        else this.maxForwards = v;
        return;
      }
      case 'Content-Length': {
        if (!this.once(CONTENT_LENGTH, name)) return;
        const v = parseDecimal(value, 0, value.length, this.limits.maxMessageSize);
        if (v < 0) this.fault(400, 'Bad Request - Malformed Content-Length');
        else this.contentLength = v;
        return;
      }
      case 'Contact':
        return this.addContact(value);
      default:
        if (LIST_HEADERS.has(name)) return this.addList(name, value);
        if (SINGLE_HEADERS.has(name)) {
          const seen = (this.singles ??= new Set());
          if (seen.has(name)) this.fault(400, `Bad Request - Duplicate ${name}`);
          seen.add(name);
        }
        this.headers.add(name, value);
    }
  }

  private addVia(value: string): void {
    if (this.viaBroken) return;
    const c = cursor(value);
    try {
      for (;;) {
        if (this.via.length >= this.limits.maxListValues) {
          this.fault(400, 'Bad Request - Too Many Via Values');
          this.viaBroken = true;
          return;
        }
        this.via.push(parseViaAt(c));
        if (c.i === c.end) return;
        if (value.charCodeAt(c.i) !== 44 /* , */) throw new SipParseError(400, 'Bad Request - Malformed Via');
        c.i++;
      }
    } catch (e) {
      if (!isParseError(e)) throw e;
      this.fault(400, 'Bad Request - Malformed Via');
      // Later Via values would be out of order once one is missing: stop collecting them.
      this.viaBroken = true;
      if (this.via.length === 0) {
        const v = salvageVia(value);
        if (v !== undefined) this.via.push(v);
      }
    }
  }

  /** Contact: "*" alone, or name-addrs (RFC 3261 §20.10); bounded by maxListValues (Contact bombs). */
  private addContact(value: string): void {
    if (value === '*') {
      if (this.contact !== undefined) this.fault(400, 'Bad Request - Malformed Contact');
      else this.contact = '*';
      return;
    }
    if (this.contact === '*' || this.contactCount < 0) {
      if (this.contact === '*') this.fault(400, 'Bad Request - Malformed Contact');
      return;
    }
    const list: NameAddr[] = this.contact ?? [];
    this.contact = list;
    const c = cursor(value);
    try {
      for (;;) {
        if (++this.contactCount > this.limits.maxListValues) {
          this.fault(400, 'Bad Request - Too Many Contact Values');
          this.contactCount = -1;
          return;
        }
        list.push(parseNameAddrAt(c, true));
        if (c.i === c.end) return;
        if (value.charCodeAt(c.i) !== 44) throw new SipParseError(400, 'Bad Request - Malformed Contact');
        c.i++;
      }
    } catch (e) {
      if (!isParseError(e)) throw e;
      this.fault(400, 'Bad Request - Malformed Contact');
      this.contactCount = -1;
    }
  }

  /** A list header split into one entry per element; name-addr lists are validated. */
  private addList(name: string, value: string): void {
    const counts = (this.listCounts ??= new Map());
    const used = counts.get(name) ?? 0;
    if (used < 0) return;
    let elements: string[] | undefined;
    try {
      elements = splitList(value, this.limits.maxListValues - used);
    } catch (e) {
      if (!isParseError(e)) throw e;
      this.fault(400, `Bad Request - Malformed ${name}`);
      return;
    }
    if (elements === undefined) {
      this.fault(400, `Bad Request - Too Many ${name} Values`);
      counts.set(name, -1);
      return;
    }
    counts.set(name, used + elements.length);
    // An empty list (`Supported:`) is still a field: it says "none" (RFC 3261 §20.37).
    if (elements.length === 0) this.headers.add(name, '');
    const addrs = NAME_ADDR_LIST_HEADERS.has(name);
    for (const el of elements) {
      if (addrs) {
        try {
          parseNameAddr(el);
        } catch (e) {
          if (!isParseError(e)) throw e;
          this.fault(400, `Bad Request - Malformed ${name}`);
          return;
        }
      }
      this.headers.add(name, el);
    }
  }

  /**
   * Checks what must hold once every field is read: the mandatory fields (RFC 3261 §8.1.1; a
   * missing Max-Forwards is tolerated, RFC 4475 §3.4.1 inv2543), CSeq method = request method
   * (RFC 3261 §20.16, RFC 4475 §3.1.2.17), and Contact "*" only in REGISTER (§10.2.2).
   */
  finish(method: string | undefined): void {
    if (this.via.length === 0 && !this.viaBroken) this.fault(400, 'Bad Request - Missing Via');
    if ((this.seen & FROM) === 0) this.fault(400, 'Bad Request - Missing From');
    if ((this.seen & TO) === 0) this.fault(400, 'Bad Request - Missing To');
    if ((this.seen & CALL_ID) === 0) this.fault(400, 'Bad Request - Missing Call-ID');
    if ((this.seen & CSEQ) === 0) this.fault(400, 'Bad Request - Missing CSeq');
    if (method !== undefined && this.cseq !== undefined && this.cseq.method !== method) {
      this.fault(400, 'Bad Request - CSeq Method Mismatch');
    }
    if (this.contact === '*' && (method !== 'REGISTER' || !this.isRequest)) this.fault(400, 'Bad Request - Malformed Contact');
  }

  /** The typed fields; only valid when failure() is undefined. */
  complete(): ParsedFields {
    return {
      via: this.via,
      from: this.from!,
      to: this.to!,
      callId: this.callId!,
      cseq: this.cseq!,
      maxForwards: this.maxForwards,
      contact: this.contact,
      headers: this.headers,
    };
  }
}
