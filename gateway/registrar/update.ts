/**
 * RFC 3261 §10.3 steps 6 and 7 as one pure function: given an AOR's current bindings and what a
 * REGISTER asks for, either a rejection or the complete set of changes. Nothing is applied until
 * every Contact has passed (§10.3 step 7: "The binding updates MUST be committed ... if and only if
 * all binding updates and additions succeed").
 */
import type { TransportProtocol } from '../sip/transport/types';
import type { ContactsRead, RequestedContact } from './contacts';
import type { Binding, RegistrarLimits, UnregisterReason } from './types';

/** Where the REGISTER came from and who sent it (RFC 5626 §5.2: the flow requests go back on). */
export interface RegisterContext {
  readonly aor: string;
  readonly user: string;
  readonly callId: string;
  readonly cseq: number;
  readonly now: number;
  readonly limits: RegistrarLimits;
  /** RFC 5626 §6: keep `+sip.instance`/`reg-id` and replace bindings of the same pair. */
  readonly outbound: boolean;
  readonly transport: TransportProtocol;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly flowId?: string;
  readonly userAgent?: string;
}

export interface Upsert {
  readonly binding: Binding;
  /** The binding with that Contact it replaces, if any (a refresh). */
  readonly previous?: Binding;
}

export interface Removal {
  readonly binding: Binding;
  readonly reason: UnregisterReason;
}

export type RegisterPlan =
  | { readonly kind: 'reject'; readonly status: number; readonly reason: string; readonly headers: Array<[string, string]> }
  | { readonly kind: 'apply'; readonly upserts: readonly Upsert[]; readonly removals: readonly Removal[] };

/** Longest User-Agent kept with a binding. */
const MAX_USER_AGENT = 256;

const reject = (status: number, reason: string, headers: Array<[string, string]> = []): RegisterPlan => ({
  kind: 'reject', status, reason, headers,
});

/**
 * §10.3 step 7: with the same Call-ID, a request whose CSeq is not higher than the binding's is
 * out of order and "the update MUST be aborted and the request fails". The RFC names no status
 * for it; 500 is the failure status that section uses for an update that cannot be committed, and
 * a UA that gets it re-registers with a new CSeq (RFC 3261 §21.5.1).
 */
function outOfOrder(b: Binding, ctx: RegisterContext): boolean {
  return b.callId === ctx.callId && ctx.cseq <= b.cseq;
}
const OUT_OF_ORDER = 'Server Internal Error - Out-of-Order CSeq';

/** `existing`: the AOR's bindings that have not expired. `read` must not be 'invalid' or 'fetch'. */
export function planRegistration(
  existing: readonly Binding[],
  read: Exclude<ContactsRead, { kind: 'invalid' } | { kind: 'fetch' }>,
  ctx: RegisterContext,
): RegisterPlan {
  if (read.kind === 'wildcard') {
    // §10.3 step 6: "*" is only valid with Expires: 0 (the parser already refused other Contacts).
    if (read.expires !== 0) return reject(400, 'Bad Request - Wildcard Contact Requires Expires: 0');
    if (existing.some((b) => outOfOrder(b, ctx))) return reject(500, OUT_OF_ORDER);
    return { kind: 'apply', upserts: [], removals: existing.map((binding) => ({ binding, reason: 'removed' as const })) };
  }

  const { minExpires, maxExpires } = ctx.limits;
  // §10.3 step 7: 423 only for a non-zero interval below both one hour and our minimum.
  if (read.contacts.some((c) => c.expires > 0 && c.expires < minExpires && c.expires < 3600)) {
    return reject(423, 'Interval Too Brief', [['Min-Expires', String(minExpires)]]);
  }

  const byContact = new Map(existing.map((b) => [b.contact, b]));
  const result = new Map(byContact);
  const upserts: Upsert[] = [];
  const removals: Removal[] = [];
  for (const c of read.contacts) {
    const previous = byContact.get(c.contact);
    // RFC 5626 §6 step 3: same instance and reg-id = same flow; the new Contact replaces the old one.
    const sameFlow = ctx.outbound && c.instanceId !== undefined
      ? existing.filter((b) => b.instanceId === c.instanceId && b.regId === c.regId && b.contact !== c.contact)
      : [];
    if ((previous !== undefined && outOfOrder(previous, ctx)) || sameFlow.some((b) => outOfOrder(b, ctx))) {
      return reject(500, OUT_OF_ORDER);
    }
    if (c.expires === 0) {
      if (previous !== undefined && result.has(c.contact)) {
        removals.push({ binding: previous, reason: 'removed' });
        result.delete(c.contact);
      }
      continue;
    }
    const binding = makeBinding(c, Math.min(c.expires, maxExpires), previous, ctx);
    upserts.push(previous === undefined ? { binding } : { binding, previous });
    result.set(c.contact, binding);
    for (const s of sameFlow) {
      if (!result.has(s.contact)) continue;
      removals.push({ binding: s, reason: 'replaced' });
      result.delete(s.contact);
    }
  }

  // The per-AOR limit: bindings nobody can reach any more (their flow closed) make room first,
  // oldest first; live bindings are never dropped silently, the request is refused instead.
  if (result.size > ctx.limits.maxContacts) {
    const touched = new Set(upserts.map((u) => u.binding.contact));
    const evictable = [...result.values()]
      .filter((b) => !b.reachable && !touched.has(b.contact))
      .sort((a, b) => a.updatedAt - b.updatedAt);
    for (const b of evictable) {
      if (result.size <= ctx.limits.maxContacts) break;
      removals.push({ binding: b, reason: 'evicted' });
      result.delete(b.contact);
    }
    if (result.size > ctx.limits.maxContacts) return reject(403, 'Forbidden - Too Many Contacts');
  }
  return { kind: 'apply', upserts, removals };
}

function makeBinding(c: RequestedContact, seconds: number, previous: Binding | undefined, ctx: RegisterContext): Binding {
  const ua = ctx.userAgent;
  return {
    aor: ctx.aor,
    contact: c.contact,
    uri: c.uri,
    user: ctx.user,
    callId: ctx.callId,
    cseq: ctx.cseq,
    expiresAt: ctx.now + seconds * 1000,
    ...(c.qMilli !== undefined && { qMilli: c.qMilli }),
    ...(ctx.outbound && c.instanceId !== undefined && c.regId !== undefined && { instanceId: c.instanceId, regId: c.regId }),
    transport: ctx.transport,
    remoteAddress: ctx.remoteAddress,
    remotePort: ctx.remotePort,
    localAddress: ctx.localAddress,
    localPort: ctx.localPort,
    ...(ctx.flowId !== undefined && { flowId: ctx.flowId }),
    path: [],
    ...(ua !== undefined && { userAgent: ua.length > MAX_USER_AGENT ? ua.slice(0, MAX_USER_AGENT) : ua }),
    registeredAt: previous?.registeredAt ?? ctx.now,
    updatedAt: ctx.now,
    reachable: true,
  };
}
