/**
 * Transaction keys (RFC 3261 §17.1.3, §17.2.3, §9.2). Keys are strings over fields that the
 * parser has already validated; they never leave the process.
 */
import { tagOf, topBranch, type SipRequest } from '../message/message';
import { BRANCH_MAGIC_COOKIE, isSipUri, isTelUri, type Params, type Uri, type Via } from '../message/types';
import { defaultPort } from './via';

/** A branch made by an RFC 3261 element: the magic cookie and something after it (§8.1.1.7). */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.length > BRANCH_MAGIC_COOKIE.length && branch.startsWith(BRANCH_MAGIC_COOKIE);
}

/** §17.1.3: a response matches the client transaction with its top branch and its CSeq method. */
export function clientKey(branch: string, cseqMethod: string): string {
  return `c\u0000${branch}\u0000${cseqMethod}`;
}

/** The keys of a received request, for matching it to a server transaction. */
export interface ServerKeys {
  /** True when the top branch carries the magic cookie (§17.2.3 first procedure). */
  rfc3261: boolean;
  /**
   * The transaction the request belongs to (a retransmission) or creates. For an ACK with an
   * RFC 3261 branch: the INVITE's transaction.
   */
  primary: string;
  /**
   * The request as the target of a CANCEL (§9.2): the same fields without the method (and, for
   * RFC 2543, without the To tag and CSeq method). A CANCEL looks up its own `cancelTarget`; an
   * RFC 2543 ACK does too, then checks the To tag of the final response.
   */
  cancelTarget: string;
}

function sentBy(via: Via): string {
  const port = via.port ?? defaultPort(via.transport);
  return `${via.host.toLowerCase()}:${port}`;
}

function paramsKey(params: Params, skip: readonly string[] = []): string {
  const entries: string[] = [];
  for (const [name, value] of params) {
    const n = name.toLowerCase();
    if (!skip.includes(n)) entries.push(value === null ? n : `${n}=${value}`);
  }
  return entries.sort().join(';');
}

function uriKey(uri: Uri): string {
  if (isSipUri(uri)) {
    return `${uri.scheme}:${uri.user ?? ''}@${uri.host.toLowerCase()}:${uri.port ?? ''};${paramsKey(uri.params)}`;
  }
  if (isTelUri(uri)) return `tel:${uri.number};${paramsKey(uri.params)}`;
  return `${uri.scheme.toLowerCase()}:${uri.opaque}`;
}

/** The top Via for RFC 2543 matching; our own received/rport stamps are left out (§18.2.1). */
function viaKey(via: Via): string {
  return `${via.protocol}/${via.transport}|${sentBy(via)}|${paramsKey(via.params, ['received', 'rport'])}`;
}

/**
 * §17.2.3 keys of a request with a top Via (the caller checks there is one).
 * - RFC 3261 branch: branch + sent-by + method, ACK counting as INVITE.
 * - Otherwise (RFC 2543): Request-URI, To tag, From tag, Call-ID, CSeq and top Via.
 */
export function serverKeys(request: SipRequest): ServerKeys {
  const via = request.via[0];
  const branch = topBranch(request);
  const method = request.method === 'ACK' ? 'INVITE' : request.method;
  if (via !== undefined && isRfc3261Branch(branch)) {
    const base = `${branch}\u0000${sentBy(via)}`;
    return { rfc3261: true, primary: `s\u0000${base}\u0000${method}`, cancelTarget: `x\u0000${base}` };
  }
  const shared = [
    uriKey(request.uri),
    tagOf(request.from) ?? '',
    request.callId,
    String(request.cseq.seq),
    via === undefined ? '' : viaKey(via),
  ];
  return {
    rfc3261: false,
    primary: ['s2543', tagOf(request.to) ?? '', method, ...shared].join('\u0000'),
    cancelTarget: ['x2543', ...shared].join('\u0000'),
  };
}

/**
 * The dialog-level identity of a 2xx and of its ACK (RFC 3261 §13.2.2.4: the ACK has the CSeq
 * number of the INVITE, the dialog's Call-ID and tags), used to stop 2xx retransmissions.
 */
export function ackKey(callId: string, cseqNumber: number, fromTag: string | undefined, toTag: string | undefined): string {
  return [callId, String(cseqNumber), fromTag ?? '', toTag ?? ''].join('\u0000');
}
