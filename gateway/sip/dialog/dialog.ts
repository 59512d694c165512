/**
 * A dialog (RFC 3261 §12): the peer-to-peer relationship an INVITE creates between two UAs, and
 * everything needed to send requests inside it (§12.2.1.1) and to check the ones received (§12.2.2).
 *
 * The dialog keeps the state of §12.1: Call-ID, local and remote tags, local and remote URIs, local
 * and remote sequence numbers, the remote target and the route set. It does not send anything: the
 * layer above (the B2BUA's legs) puts the requests it builds on a transaction or on the wire, so the
 * dialog stays a pure, testable state holder.
 */
import { randomInt } from 'node:crypto';
import { serializeNameAddr, parseNameAddrList } from '../message/grammar';
import { HeaderList, SipRequest, tagOf, type SipResponse } from '../message/message';
import { isSipUri, type NameAddr, type SipUri, type Uri, type Via } from '../message/types';
import { newBranch } from '../transaction/ids';
import { DialogCreationError, DialogTerminatedError } from './errors';

export type DialogRole = 'uac' | 'uas';
export type DialogState = 'early' | 'confirmed' | 'terminated';

/** Most Record-Route values a dialog takes over (an attacker's response must not make every request huge). */
export const MAX_ROUTE_SET = 16;

/** What a request inside the dialog carries besides what the dialog decides (§12.2.1.1). */
export interface InDialogRequestOptions {
  /** Top (and only) Via; a branch is generated when it has none. */
  readonly via: Via;
  /** Our Contact: required in target refresh requests (re-INVITE, UPDATE), harmless elsewhere. */
  readonly contact?: NameAddr;
  readonly headers?: Iterable<readonly [string, string]>;
  readonly body?: Buffer;
  readonly contentType?: string;
}

/** The dialog identifier (§12): Call-ID, local tag, remote tag, as one map key. */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\u0000${localTag}\u0000${remoteTag}`;
}

/** The single sip/sips URI of a Contact (§12.1.1, §12.1.2 take the remote target from it). */
export function contactTarget(msg: { contact?: SipRequest['contact'] }): SipUri | undefined {
  const c = msg.contact;
  if (c === undefined || c === '*' || c.length !== 1) return undefined;
  const uri = c[0].uri;
  return isSipUri(uri) ? uri : undefined;
}

/** The Record-Route values of a message in order (§20.30), bounded. */
function recordRoute(headers: HeaderList): NameAddr[] {
  const out: NameAddr[] = [];
  for (const v of headers.getAll('Record-Route')) {
    for (const addr of parseNameAddrList(v, MAX_ROUTE_SET)) {
      if (out.length >= MAX_ROUTE_SET) throw new DialogCreationError('Record-Route too long');
      out.push(addr);
    }
  }
  return out;
}

function withoutTag(addr: NameAddr): NameAddr {
  const params = new Map(addr.params);
  params.delete('tag');
  return { ...addr, params };
}

export interface DialogInit {
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** From (UAC) or To (UAS) of the creating request, without its tag. */
  readonly localUri: NameAddr;
  readonly remoteUri: NameAddr;
  readonly remoteTarget: Uri;
  readonly routeSet: readonly NameAddr[];
  readonly localSeq: number;
  readonly remoteSeq: number | undefined;
  readonly secure: boolean;
  readonly state: DialogState;
}

export class Dialog {
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly localUri: NameAddr;
  readonly remoteUri: NameAddr;
  readonly routeSet: readonly NameAddr[];
  readonly secure: boolean;
  remoteTarget: Uri;
  /** CSeq of the last request we sent (§12.2.1.1: incremented by one for each new request). */
  localSeq: number;
  /** CSeq of the last request received; undefined until the peer sends one (UAC side). */
  remoteSeq: number | undefined;
  private current: DialogState;

  constructor(init: DialogInit) {
    this.role = init.role;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.secure = init.secure;
    this.current = init.state;
  }

  /**
   * RFC 3261 §12.1.2: the UAC's dialog from a 101-199 with a To tag or a 2xx. The route set is the
   * response's Record-Route reversed; the remote target its Contact; the local sequence number the
   * INVITE's CSeq. Throws DialogCreationError when the response cannot create one.
   */
  static asUac(invite: SipRequest, response: SipResponse, options: { overTls?: boolean } = {}): Dialog {
    const remoteTag = tagOf(response.to);
    const localTag = tagOf(invite.from);
    if (remoteTag === undefined || localTag === undefined) throw new DialogCreationError('missing tag');
    const target = contactTarget(response);
    if (target === undefined) throw new DialogCreationError('no usable Contact');
    return new Dialog({
      role: 'uac',
      callId: invite.callId,
      localTag,
      remoteTag,
      localUri: withoutTag(invite.from),
      remoteUri: withoutTag(response.to),
      remoteTarget: target,
      routeSet: recordRoute(response.headers).reverse(),
      localSeq: invite.cseq.seq,
      remoteSeq: undefined,
      secure: options.overTls === true && invite.uri.scheme === 'sips',
      state: response.status >= 200 ? 'confirmed' : 'early',
    });
  }

  /**
   * RFC 3261 §12.1.1: the UAS's dialog from the request it answers with `localTag`. The route set is
   * the request's Record-Route in order, the remote target its Contact, the remote sequence number
   * its CSeq; our own first CSeq is random (§8.1.1.5 allows any value below 2**31).
   */
  static asUas(invite: SipRequest, localTag: string, options: { overTls?: boolean; state?: DialogState } = {}): Dialog {
    const remoteTag = tagOf(invite.from);
    if (remoteTag === undefined) throw new DialogCreationError('missing From tag');
    const target = contactTarget(invite);
    if (target === undefined) throw new DialogCreationError('no usable Contact');
    return new Dialog({
      role: 'uas',
      callId: invite.callId,
      localTag,
      remoteTag,
      localUri: withoutTag(invite.to),
      remoteUri: withoutTag(invite.from),
      remoteTarget: target,
      routeSet: recordRoute(invite.headers),
      localSeq: randomInt(1, 1 << 20),
      remoteSeq: invite.cseq.seq,
      secure: options.overTls === true && invite.uri.scheme === 'sips',
      state: options.state ?? 'early',
    });
  }

  get id(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  get state(): DialogState {
    return this.current;
  }

  /** A 2xx was sent or received for the INVITE (§12.1). */
  confirm(): void {
    if (this.current === 'early') this.current = 'confirmed';
  }

  /** BYE, a failure response, or a dead session (§12.3, §15). Nothing may be sent any more. */
  terminate(): void {
    this.current = 'terminated';
  }

  /**
   * RFC 3261 §12.2.2: a request inside the dialog with a CSeq lower than (or equal to) the last one
   * is out of order and gets 500; ACK and CANCEL do not count (they reuse the INVITE's number).
   * Returns false for such a request; true, after recording the number, otherwise.
   */
  receiveRequest(request: SipRequest): boolean {
    if (request.method === 'ACK' || request.method === 'CANCEL') return true;
    const seq = request.cseq.seq;
    if (this.remoteSeq !== undefined && seq <= this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /**
   * Target refresh (§12.2.1.2, §12.2.2): a re-INVITE, UPDATE (RFC 3311 §5.1) or their 2xx replaces
   * the remote target with its Contact. A message without a usable Contact changes nothing.
   */
  refreshTarget(message: { contact?: SipRequest['contact'] }): void {
    const target = contactTarget(message);
    if (target !== undefined) this.remoteTarget = target;
  }

  /**
   * RFC 3261 §12.2.1.1: a new request inside the dialog. To is the remote URI with the remote tag,
   * From the local URI with the local tag, the Call-ID the dialog's, the CSeq the local sequence
   * number plus one. With an empty route set or a loose first route (`lr`) the Request-URI is the
   * remote target and Route the route set; with a strict first route the Request-URI is that route
   * and the remote target goes last in Route.
   */
  createRequest(method: string, o: InDialogRequestOptions): SipRequest {
    if (this.current === 'terminated') throw new DialogTerminatedError(this.id);
    this.localSeq += 1;
    return this.build(method, this.localSeq, o);
  }

  /**
   * RFC 3261 §13.2.2.4: the ACK for a 2xx, a request of its own (new branch) with the INVITE's CSeq
   * number, routed like any request in the dialog. Allowed while the dialog is terminating: a 2xx
   * must be acknowledged even when a BYE follows at once.
   */
  createAck(inviteSeq: number, o: InDialogRequestOptions): SipRequest {
    return this.build('ACK', inviteSeq, o);
  }

  private build(method: string, seq: number, o: InDialogRequestOptions): SipRequest {
    const headers = new HeaderList();
    let uri: Uri = this.remoteTarget;
    const first = this.routeSet[0];
    if (first !== undefined && isSipUri(first.uri) && !first.uri.params.has('lr')) {
      // Strict routing (RFC 2543 proxies): the first route becomes the Request-URI.
      uri = { ...first.uri, headers: new Map() };
      for (const route of this.routeSet.slice(1)) headers.add('Route', serializeNameAddr(route));
      headers.add('Route', serializeNameAddr({ uri: this.remoteTarget, params: new Map() }));
    } else {
      for (const route of this.routeSet) headers.add('Route', serializeNameAddr(route));
    }
    for (const [name, value] of o.headers ?? []) headers.add(name, value);
    const body = o.body ?? Buffer.alloc(0);
    if (body.length > 0) headers.set('Content-Type', o.contentType ?? 'application/sdp');
    const via: Via = { ...o.via, params: new Map(o.via.params) };
    if (method === 'ACK' && !via.params.has('branch')) via.params.set('branch', newBranch());
    return new SipRequest({
      method,
      uri,
      via: [via],
      from: { ...this.localUri, params: new Map([...this.localUri.params, ['tag', this.localTag]]) },
      to: { ...this.remoteUri, params: new Map([...this.remoteUri.params, ['tag', this.remoteTag]]) },
      callId: this.callId,
      cseq: { seq, method },
      maxForwards: 70,
      ...(o.contact !== undefined && { contact: [o.contact] }),
      headers,
      body,
    });
  }
}
