/**
 * SIP requests and responses (RFC 3261 §7).
 *
 * The headers every element routes on (Via, From, To, Call-ID, CSeq, Max-Forwards, Contact) are
 * parsed eagerly into typed fields, because validating them is what decides between a normal answer
 * and a 400 (RFC 4475 §3.1.2). Every other header is kept as text in a `HeaderList`, in received
 * order, and parsed only by the layer that needs it.
 */
import type { ContactList, CSeq, NameAddr, Uri, Via } from './types';

/** Ordered list of header fields that are not held in typed fields. Names are canonical (long form). */
export class HeaderList {
  /** [name as written, value, lower-cased name]: the key is computed once, not on every lookup. */
  private readonly entries: Array<[string, string, string]> = [];

  get(name: string): string | undefined {
    const k = name.toLowerCase();
    for (const e of this.entries) if (e[2] === k) return e[1];
    return undefined;
  }

  getAll(name: string): string[] {
    const k = name.toLowerCase();
    const out: string[] = [];
    for (const e of this.entries) if (e[2] === k) out.push(e[1]);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Appends a field (after any existing fields of the same name). */
  add(name: string, value: string): void {
    this.entries.push([name, value, name.toLowerCase()]);
  }

  /** Puts a field before every other field of that name (e.g. a new Record-Route). */
  prepend(name: string, value: string): void {
    const k = name.toLowerCase();
    const i = this.entries.findIndex((e) => e[2] === k);
    if (i < 0) this.entries.push([name, value, k]);
    else this.entries.splice(i, 0, [name, value, k]);
  }

  /** Replaces every field of that name by one. */
  set(name: string, value: string): void {
    this.remove(name);
    this.add(name, value);
  }

  remove(name: string): void {
    const k = name.toLowerCase();
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i][2] === k) this.entries.splice(i, 1);
    }
  }

  /** All fields, in order, as [name, value]. */
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (const e of this.entries) yield [e[0], e[1]];
  }

  get size(): number {
    return this.entries.length;
  }

  clone(): HeaderList {
    const h = new HeaderList();
    for (const e of this.entries) h.entries.push([e[0], e[1], e[2]]);
    return h;
  }
}

/** Fields shared by requests and responses. */
export interface SipMessageFields {
  via: Via[];
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: CSeq;
  maxForwards?: number;
  contact?: ContactList;
  headers: HeaderList;
  body: Buffer;
}

/** What building a message takes: the typed fields; headers and body default to empty. */
export type SipMessageInit = Omit<SipMessageFields, 'headers' | 'body'> & Partial<Pick<SipMessageFields, 'headers' | 'body'>>;

/** The fields requests and responses share, set once for both (RFC 3261 §7). */
abstract class SipMessageBase implements SipMessageFields {
  via: Via[];
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: CSeq;
  maxForwards?: number;
  contact?: ContactList;
  headers: HeaderList;
  body: Buffer;

  protected constructor(init: SipMessageInit) {
    this.via = init.via;
    this.from = init.from;
    this.to = init.to;
    this.callId = init.callId;
    this.cseq = init.cseq;
    this.maxForwards = init.maxForwards;
    this.contact = init.contact;
    this.headers = init.headers ?? new HeaderList();
    this.body = init.body ?? Buffer.alloc(0);
  }
}

export class SipRequest extends SipMessageBase {
  readonly kind = 'request' as const;
  method: string;
  uri: Uri;

  constructor(init: { method: string; uri: Uri } & SipMessageInit) {
    super(init);
    this.method = init.method;
    this.uri = init.uri;
  }
}

export class SipResponse extends SipMessageBase {
  readonly kind = 'response' as const;
  status: number;
  reason: string;

  constructor(init: { status: number; reason: string } & SipMessageInit) {
    super(init);
    this.status = init.status;
    this.reason = init.reason;
  }
}

export type SipMessage = SipRequest | SipResponse;

/** The tag parameter of a From or To value (RFC 3261 §19.3). */
export function tagOf(addr: NameAddr): string | undefined {
  const t = addr.params.get('tag');
  return t === null ? undefined : t;
}

/** The branch of the top Via (RFC 3261 §17.2.3), if any. */
export function topBranch(msg: SipMessage): string | undefined {
  const b = msg.via[0]?.params.get('branch');
  return b === null ? undefined : b;
}

/**
 * Builds a response to a request per RFC 3261 §8.2.6.2: Via, From, To, Call-ID and CSeq copied;
 * a To tag added by the caller when the response creates or belongs to a dialog.
 */
export function makeResponse(req: SipRequest, status: number, reason: string, toTag?: string): SipResponse {
  const toParams = new Map(req.to.params);
  if (toTag !== undefined && !toParams.has('tag')) toParams.set('tag', toTag);
  return new SipResponse({
    status,
    reason,
    via: req.via.map((v) => ({ ...v, params: new Map(v.params) })),
    from: req.from,
    to: { ...req.to, params: toParams },
    callId: req.callId,
    cseq: { ...req.cseq },
  });
}
