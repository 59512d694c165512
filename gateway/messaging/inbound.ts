/**
 * Processing of one MESSAGE (RFC 3428 §7 as the proxy/server of the users' domain), in order:
 * dialog and transport policy, our domain (§16.3 we are no open relay), content (type 415, size
 * 413; cheap checks, before any credential work), digest authentication (407), the sender's
 * identity (From must be the authenticated AOR: the gateway vouches for it towards the
 * recipient), the recipient (a user by name or E.164 number, else a group), then delivery
 * (dispatch.ts), one recipient or a group's fan-out, and the answer.
 *
 * Answers: 200 delivered; 202 stored for later delivery (after the commit is on disk); 480 nobody
 * online for a message that may not be stored; 486 the recipient's store quota is full; 503
 * (Retry-After) the store as a whole is full; 403 not a member of the group; 404 no such user or
 * group. Nothing about a body is ever logged; for confidential messages not even its size.
 */
import type { IncomingRequest } from '../sip/core/ua-core';
import { tagOf } from '../sip/message/message';
import { isSipUri } from '../sip/message/types';
import { userOf, type DomainMatcher } from '../registrar/uri';
import type { UserRecord } from '../store/types';
import type { MessageAuthenticator } from './auth';
import { asksConfidential, classify, MESSAGE_CONTENT_TYPES } from './content';
import type { RecipientResult } from './dispatch';
import type { Group } from './groups';
import type { OutgoingMessage } from './outgoing';
import type { MessagingLimits, MessagingStats } from './types';

export interface InboundDeps {
  readonly limits: MessagingLimits;
  readonly requireTls: boolean;
  readonly domains: DomainMatcher;
  readonly auth: MessageAuthenticator;
  readonly stats: MessagingStats;
  account(name: string): Promise<UserRecord | undefined>;
  accountByNumber(e164: string): Promise<UserRecord | undefined>;
  group(name: string): Group | undefined;
  isConfidentialUser(name: string): boolean;
  /** AOR text of an account / a group (sip:name@domain). */
  aorOf(name: string): string;
  deliver(recipient: string, message: OutgoingMessage, storable: boolean, group?: string): Promise<RecipientResult>;
}

const E164 = /^\+[1-9][0-9]{7,14}$/;

export async function processMessage(r: IncomingRequest, d: InboundDeps): Promise<void> {
  const { request: req, info } = r;
  d.stats.requests++;
  const refuse = (status: number, reason: string, headers: Array<[string, string]> = []): void => {
    d.stats.refused[status] = (d.stats.refused[status] ?? 0) + 1;
    r.log.debug('MESSAGE refused', { status, reason });
    r.reply(status, reason, { headers });
  };

  // No dialogs here: a MESSAGE inside one belongs to the B2BUA's dialog (RFC 3428 §4).
  if (tagOf(req.to) !== undefined) return refuse(481, 'Call/Transaction Does Not Exist');
  if (d.requireTls && info.protocol !== 'TLS') return refuse(403, 'Forbidden - TLS Required');
  if (!isSipUri(req.uri) || !d.domains.isOurs(req.uri.host, info.local.address)) return refuse(404, 'Not Found');
  const contentType = req.headers.get('Content-Type');
  const kind = classify(contentType);
  if (req.body.length === 0 || contentType === undefined) return refuse(400, 'Bad Request - MESSAGE Without Body');
  if (kind === undefined) return refuse(415, 'Unsupported Media Type', [['Accept', MESSAGE_CONTENT_TYPES.join(', ')]]);
  if (req.body.length > d.limits.maxBodyBytes) return refuse(413, 'Request Entity Too Large');

  const auth = await d.auth.authenticate(req, info);
  if (auth.kind === 'challenge') {
    d.stats.challenges++;
    r.reply(407, 'Proxy Authentication Required', { headers: auth.headers });
    return;
  }
  if (auth.kind === 'refuse') return refuse(auth.status, auth.reason);
  const sender = auth.user;
  if (userOf(req.from.uri) !== sender || !isSipUri(req.from.uri) || !d.domains.isOurs(req.from.uri.host, info.local.address)) {
    return refuse(403, 'Forbidden - From Does Not Match Credentials');
  }

  const name = userOf(req.uri);
  if (name === undefined) return refuse(404, 'Not Found');
  // Users first: a group never shadows an account (groups.ts refuses to take a user's name).
  const recipient = E164.test(name) ? await d.accountByNumber(name) : await d.account(name);
  const group = recipient === undefined ? d.group(name) : undefined;
  if (recipient === undefined && group === undefined) return refuse(404, 'Not Found');

  const account = await d.account(sender);
  const confidential = asksConfidential(req) || d.isConfidentialUser(sender) || group?.confidential === true;
  const base = {
    sender,
    senderDisplay: account?.displayName ?? '',
    contentType,
    body: req.body,
  };

  let result: RecipientResult;
  if (recipient !== undefined) {
    const c = confidential || d.isConfidentialUser(recipient.name);
    result = await d.deliver(recipient.name, { ...base, target: d.aorOf(recipient.name), confidential: c }, kind === 'message' && !c);
    r.log.debug('MESSAGE handled', c ? { outcome: result.kind } : { outcome: result.kind, bytes: req.body.length });
  } else {
    const g = group!;
    if (!g.members.includes(sender)) return refuse(403, 'Forbidden - Not a Group Member');
    const target = d.aorOf(g.name);
    const results = await Promise.all(g.members.filter((m) => m !== sender).map((member) => {
      const c = confidential || d.isConfidentialUser(member);
      return d.deliver(member, { ...base, target, confidential: c }, kind === 'message' && !c, g.name);
    }));
    result = aggregate(results);
    // Members whose copy could not be delivered nor stored (quota, store) are counted, not named.
    const missed = results.filter((x) => x.kind !== 'stored' && x.kind !== 'delivered').length;
    r.log.debug('group MESSAGE handled', { group: g.name, members: results.length, missed, outcome: result.kind });
  }
  answer(r, result, d.stats, refuse);
}

/** A group's answer: stored anywhere → 202, else delivered anywhere → 200, else the first failure. */
function aggregate(results: readonly RecipientResult[]): RecipientResult {
  if (results.some((x) => x.kind === 'stored')) return { kind: 'stored' };
  if (results.some((x) => x.kind === 'delivered')) return { kind: 'delivered' };
  return results.find((x) => x.kind !== 'unavailable') ?? { kind: 'unavailable' };
}

function answer(r: IncomingRequest, result: RecipientResult, stats: MessagingStats, refuse: (s: number, reason: string, h?: Array<[string, string]>) => void): void {
  switch (result.kind) {
    case 'delivered':
      stats.deliveredOnline++;
      r.reply(200, 'OK');
      return;
    case 'stored':
      r.reply(202, 'Accepted');
      return;
    case 'unavailable':
      return refuse(480, 'Temporarily Unavailable');
    case 'refused':
      return refuse(result.status, 'Refused by Recipient');
    case 'full':
      return refuse(486, 'Busy Here - Message Store Full');
    case 'overloaded':
      return refuse(503, 'Service Unavailable - Message Store Full', [['Retry-After', '300']]);
    case 'failed':
      return refuse(500, 'Server Internal Error');
  }
}
