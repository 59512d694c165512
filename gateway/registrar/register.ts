/**
 * Processing of one REGISTER, in the order of RFC 3261 §10.3 (with the gateway's policy checks
 * first): transport policy (TLS only by default), step 1 (our domain), step 3 (authentication,
 * authenticator.ts), step 4 (the credentials' user owns the AOR), step 5 (AOR in To), device
 * certificate pinning, steps 6–7 (update.ts), step 8 (200 with every current binding).
 */
import { quote } from '../sip/message/grammar';
import type { SipRequest } from '../sip/message/message';
import { parseUri } from '../sip/message/grammar';
import { isSipUri } from '../sip/message/types';
import type { IncomingRequest } from '../sip/core/ua-core';
import type { ReceivedInfo } from '../sip/transport/types';
import type { AuthOutcome } from './authenticator';
import { readContacts, type ContactsRead } from './contacts';
import type { Binding, RegistrarLimits } from './types';
import { planRegistration, type RegisterPlan } from './update';
import { userOf, uriEquals, type DomainMatcher } from './uri';

/** What the REGISTER processing needs from the registrar. */
export interface RegisterDeps {
  readonly limits: RegistrarLimits;
  readonly requireTls: boolean;
  readonly requireClientCert: boolean;
  readonly flowTimerSec: number | undefined;
  readonly domains: DomainMatcher;
  now(): number;
  aorOf(user: string): string;
  authenticate(req: SipRequest, info: ReceivedInfo): Promise<AuthOutcome>;
  challenge(stale: boolean, info: ReceivedInfo, userAgent: string | undefined): Array<[string, string]>;
  /** The account a verified client certificate is bound to. */
  certOwner(fingerprint: string): Promise<string | undefined>;
  /** A block counter read before authentication, and whether `user` was blocked since. */
  blockEpoch(): number;
  blockedSince(user: string, epoch: number): boolean;
  /** The AOR's bindings that have not expired (expired ones are dropped on the way). */
  current(aor: string): Binding[];
  apply(plan: Extract<RegisterPlan, { kind: 'apply' }>): void;
  authenticated(user: string, info: ReceivedInfo): void;
  count(outcome: 'challenge' | 'accepted' | 'rejected'): void;
}

export async function processRegister(r: IncomingRequest, d: RegisterDeps): Promise<void> {
  const { request: req, info } = r;
  const refuse = (status: number, reason: string, headers: Array<[string, string]> = []): void => {
    d.count('rejected');
    r.log.debug('REGISTER refused', { status, reason, remote: info.remote.address });
    r.reply(status, reason, { headers });
  };

  // Policy: credentials and bindings only over TLS (RFC 3261 §26.2.1; the requirement).
  if (d.requireTls && info.protocol !== 'TLS') return refuse(403, 'Registration Requires TLS');
  // §10.3 step 1: we only hold bindings for our own domain (we are no proxy for others).
  if (!isSipUri(req.uri) || !d.domains.isOurs(req.uri.host, info.local.address)) return refuse(404, 'Not Found');
  const fingerprint = info.peerCertificate?.fingerprint256;
  if (d.requireClientCert && (fingerprint === undefined || fingerprint === '')) {
    return refuse(403, 'Forbidden - Client Certificate Required');
  }

  // §10.3 step 3 (§22.4): every REGISTER is authenticated; nonces may be reused (RFC 7616 §3.4).
  const epoch = d.blockEpoch();
  const auth = await d.authenticate(req, info);
  if (auth.kind === 'challenge') {
    d.count('challenge');
    r.reply(401, 'Unauthorized', { headers: d.challenge(auth.stale, info, req.headers.get('User-Agent')) });
    return;
  }
  if (auth.kind === 'bad-request') return refuse(400, auth.reason);
  if (auth.kind === 'forbidden') return refuse(403, 'Forbidden');
  const user = auth.user;
  // RFC 7616 §3.4.6: the digest-uri names the Request-URI, else the credentials were made for
  // another request (replayed or relayed) and "the server SHOULD return a 400 Bad Request".
  if (!digestUriMatches(auth.digestUri, req)) return refuse(400, 'Bad Request - Digest URI Mismatch');
  // §10.3 step 4: a user may only register its own AOR.
  if (userOf(req.to.uri) !== user) return refuse(403, 'Forbidden');
  // §10.3 step 5: the AOR must belong to the Request-URI's domain (ours).
  if (!isSipUri(req.to.uri) || !d.domains.isOurs(req.to.uri.host, info.local.address)) return refuse(404, 'Not Found');
  // Device certificates: the verified client certificate must be pinned to this very user.
  if (d.requireClientCert && (fingerprint === undefined || (await d.certOwner(fingerprint)) !== user)) {
    return refuse(403, 'Forbidden - Certificate Not Bound to User');
  }
  // The account was blocked while we were verifying it: the block wins.
  if (d.blockedSince(user, epoch)) return refuse(403, 'Forbidden');
  d.authenticated(user, info);

  const read = readContacts(req, d.limits.defaultExpires);
  if (read.kind === 'invalid') return refuse(400, read.reason);
  const outbound = outboundFor(req, read);
  if (outbound === 'first-hop') return refuse(439, 'First Hop Lacks Outbound Support');

  const aor = d.aorOf(user);
  const now = d.now();
  if (read.kind !== 'fetch') {
    const plan = planRegistration(d.current(aor), read, {
      aor,
      user,
      callId: req.callId,
      cseq: req.cseq.seq,
      now,
      limits: d.limits,
      outbound: outbound === 'yes',
      transport: info.protocol,
      remoteAddress: info.remote.address,
      remotePort: info.remote.port,
      localAddress: info.local.address,
      localPort: info.local.port,
      ...(info.flowId !== undefined && { flowId: info.flowId }),
      ...(req.headers.get('User-Agent') !== undefined && { userAgent: req.headers.get('User-Agent') }),
    });
    if (plan.kind === 'reject') return refuse(plan.status, plan.reason, plan.headers);
    d.apply(plan);
  }
  d.count('accepted');
  r.reply(200, 'OK', { headers: okHeaders(d.current(aor), now, outbound === 'yes' ? d.flowTimerSec : undefined, outbound === 'yes') });
}

/** RFC 3261 §10.3 step 8: every current binding with its remaining expiry; Date (SHOULD). */
function okHeaders(bindings: readonly Binding[], now: number, flowTimer: number | undefined, outbound: boolean): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  for (const b of bindings) {
    let v = `<${b.contact}>;expires=${Math.max(0, Math.ceil((b.expiresAt - now) / 1000))}`;
    if (b.qMilli !== undefined) v += `;q=${b.qMilli / 1000}`;
    if (b.instanceId !== undefined && b.regId !== undefined) v += `;+sip.instance=${quote(b.instanceId)};reg-id=${b.regId}`;
    headers.push(['Contact', v]);
  }
  headers.push(['Date', new Date(now).toUTCString()]);
  // RFC 5626 §6: a registrar that applied outbound processing says so with Require: outbound,
  // and may recommend a keep-alive interval below our idle timeout (§4.4.1 Flow-Timer).
  if (outbound) {
    headers.push(['Require', 'outbound']);
    if (flowTimer !== undefined) headers.push(['Flow-Timer', String(flowTimer)]);
  }
  return headers;
}

/**
 * RFC 5626 §6: outbound processing applies when a Contact carries `+sip.instance` and `reg-id`
 * and the UA listed `outbound` in Supported. Through a proxy that did not add a Path (more than
 * one Via), the flow cannot be kept: 439 First Hop Lacks Outbound Support.
 */
function outboundFor(req: SipRequest, read: ContactsRead): 'yes' | 'no' | 'first-hop' {
  if (read.kind !== 'contacts' || !read.contacts.some((c) => c.instanceId !== undefined)) return 'no';
  const supported = req.headers
    .getAll('Supported')
    .flatMap((v) => v.split(','))
    .some((t) => t.trim().toLowerCase() === 'outbound');
  if (!supported) return 'no';
  if (req.via.length > 1 && !req.headers.has('Path')) return 'first-hop';
  return 'yes';
}

function digestUriMatches(digestUri: string, req: SipRequest): boolean {
  let uri;
  try {
    uri = parseUri(digestUri);
  } catch {
    return false;
  }
  return uriEquals(uri, req.uri);
}
