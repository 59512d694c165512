/** Test fixtures for the transaction layer: a recording MessageSender and message builders. */
import { makeResponse, SipRequest, type SipMessage, type SipResponse } from '../../../gateway/sip/message/message';
import type { NameAddr, SipUri, Via } from '../../../gateway/sip/message/types';
import { TransportError, type ReceivedInfo, type SendTarget } from '../../../gateway/sip/transport/types';
import type { FakeClock } from '../../../gateway/sip/transaction/clock';
import type { MessageSender } from '../../../gateway/sip/transaction/types';

export interface SentRecord {
  msg: SipMessage;
  target: SendTarget;
  at: number;
}

/** Records every send with the fake time; can be told to reject (a transport error). */
export class RecordingSender implements MessageSender {
  readonly sent: SentRecord[] = [];
  /** Reject every send while true. */
  failing = false;

  constructor(private readonly clock?: FakeClock) {}

  send(msg: SipMessage, target: SendTarget): Promise<void> {
    this.sent.push({ msg, target, at: this.clock?.now() ?? 0 });
    return this.failing ? Promise.reject(new TransportError('connection refused', target)) : Promise.resolve();
  }

  /** Sent requests, optionally of one method. */
  requests(method?: string): SentRecord[] {
    return this.sent.filter((r) => r.msg.kind === 'request' && (method === undefined || r.msg.method === method));
  }

  /** Sent responses, optionally with one status. */
  responses(status?: number): SentRecord[] {
    return this.sent.filter((r) => r.msg.kind === 'response' && (status === undefined || r.msg.status === status));
  }

  /** Times (fake ms) of the matching sends. */
  times(records: SentRecord[]): number[] {
    return records.map((r) => r.at);
  }

  clear(): void {
    this.sent.length = 0;
  }
}

/** Lets rejected sends reach their handlers (promise callbacks run after the current job). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function sipUri(user: string | undefined, host: string, port?: number): SipUri {
  const uri: SipUri = { scheme: 'sip', host, params: new Map(), headers: new Map() };
  if (user !== undefined) uri.user = user;
  if (port !== undefined) uri.port = port;
  return uri;
}

function nameAddr(user: string, host: string, tag?: string): NameAddr {
  const params = new Map<string, string | null>();
  if (tag !== undefined) params.set('tag', tag);
  return { uri: sipUri(user, host), params };
}

export interface RequestSpec {
  method?: string;
  /** null: no branch parameter at all. */
  branch?: string | null;
  transport?: string;
  viaHost?: string;
  viaPort?: number;
  rport?: boolean;
  callId?: string;
  seq?: number;
  fromTag?: string;
  toTag?: string;
  cseqMethod?: string;
}

let counter = 0;

/** A request as a peer would send it; defaults make an INVITE over UDP from 192.0.2.10:5060. */
export function request(spec: RequestSpec = {}): SipRequest {
  counter++;
  const method = spec.method ?? 'INVITE';
  const params = new Map<string, string | null>();
  if (spec.branch !== null) params.set('branch', spec.branch ?? `z9hG4bKtest${counter}`);
  if (spec.rport === true) params.set('rport', null);
  const via: Via = { protocol: 'SIP/2.0', transport: spec.transport ?? 'UDP', host: spec.viaHost ?? '192.0.2.10', params };
  if (spec.viaPort !== undefined) via.port = spec.viaPort;
  return new SipRequest({
    method,
    uri: sipUri('bob', 'gw.example.net'),
    via: [via],
    from: nameAddr('alice', 'example.com', spec.fromTag ?? 'fromtag1'),
    to: nameAddr('bob', 'gw.example.net', spec.toTag),
    callId: spec.callId ?? `call-${counter}@192.0.2.10`,
    cseq: { seq: spec.seq ?? 1, method: spec.cseqMethod ?? method },
    maxForwards: 70,
  });
}

/** A copy of a request as a retransmission would parse (new objects, same values). */
export function copyOf(req: SipRequest): SipRequest {
  return new SipRequest({
    method: req.method,
    uri: req.uri,
    via: req.via.map((v) => ({ ...v, params: new Map(v.params) })),
    from: { ...req.from, params: new Map(req.from.params) },
    to: { ...req.to, params: new Map(req.to.params) },
    callId: req.callId,
    cseq: { ...req.cseq },
    maxForwards: req.maxForwards,
    headers: req.headers.clone(),
  });
}

/** A response to `req` as the peer would send it. */
export function response(req: SipRequest, status: number, toTag?: string): SipResponse {
  return makeResponse(req, status, `Status ${status}`, status === 100 ? undefined : toTag ?? 'totag1');
}

export const UDP_TARGET: SendTarget = { protocol: 'UDP', remote: { address: '192.0.2.20', port: 5060 } };
export const TCP_TARGET: SendTarget = { protocol: 'TCP', remote: { address: '192.0.2.20', port: 5060 }, flowId: 'flow-1' };

export const UDP_INFO: ReceivedInfo = {
  protocol: 'UDP',
  remote: { address: '192.0.2.10', port: 5060 },
  local: { address: '192.0.2.1', port: 5060 },
};
export const TCP_INFO: ReceivedInfo = {
  protocol: 'TCP',
  remote: { address: '192.0.2.10', port: 40000 },
  local: { address: '192.0.2.1', port: 5060 },
  flowId: 'flow-7',
};

/** 500 ms: the default T1, used by the tests to spell schedules. */
export const T1 = 500;
export const T2 = 4_000;
export const T4 = 5_000;
