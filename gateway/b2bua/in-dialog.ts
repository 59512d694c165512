/**
 * Requests inside an established call (RFC 3261 §12.2.2, §14, §15; RFC 3311; RFC 6086; RFC 4028):
 *
 * - BYE ends the call: 200 to the sender, BYE to the other leg.
 * - re-INVITE and UPDATE carry a new offer (hold/resume, codec change): it goes through the media
 *   engine and on to the other leg, whose answer comes back the same way. A re-offer whose SDP
 *   version did not change (RFC 3264 §8: a session refresh) is answered here with our last SDP and
 *   does not disturb the other leg. A re-INVITE without SDP asks the other leg for an offer, which
 *   comes back in its 2xx; the answer then arrives in the ACK (call.ts `ack`).
 * - INFO passes through with its body (DTMF relay, RFC 6086 packages).
 * - PRACK acknowledges a reliable 18x of ours (RFC 3262, reliable.ts).
 * - REFER from a user on a call with a trunk party is a blind transfer (refer.ts, transfer.ts);
 *   otherwise, or with calls.transfer off, 501.
 * - Session timers: each leg negotiates its own (RFC 4028 §9 as UAS, §7 as UAC); when we are a
 *   leg's refresher we send an UPDATE (or a re-INVITE with the same SDP) at half the interval.
 */
import type { IncomingRequest } from '../sip/core/ua-core';
import { negotiateAsUas, uacOutcome, type SessionTimerPolicy, type UasDecision } from '../sip/dialog/session-timer';
import { serializeNameAddr } from '../sip/message/grammar';
import type { SipResponse } from '../sip/message/message';
import { MediaEngineError } from '../../media/engine/errors';
import type { Call } from './call';
import { reasonPhrase } from './failure';
import { infoHeaders } from './headers';
import { contactFor, type Leg } from './leg';
import { originVersion, sdpOf } from './media';
import { handleRefer } from './refer';

const REFRESH_RETRY_MS = 4000;
const MAX_REFRESH_FAILURES = 3;

/** A request for one of the call's dialogs (the B2BUA found it by Call-ID and tags). */
export async function handleInDialog(call: Call, leg: Leg, r: IncomingRequest): Promise<void> {
  const req = r.request;
  if (!leg.acceptsTransport(r.info)) {
    r.reply(403, 'Forbidden - Wrong Transport');
    return;
  }
  leg.learnFlow(r.info);
  if (!leg.dialog.receiveRequest(req)) {
    // §12.2.2: a CSeq lower than the last one is out of order.
    r.reply(500, 'Server Internal Error - CSeq Out of Order', { headers: [['Retry-After', '1']] });
    return;
  }
  if (call.transfer !== undefined && call.transfer.intercept(leg, r)) return;
  if (leg !== call.caller && leg !== call.callee) {
    // A leg that left the call (a transfer target given up, BYE crossing ours): only BYE is answered.
    if (req.method === 'BYE') {
      r.reply(200, 'OK');
      leg.close();
    } else {
      r.reply(481, 'Call/Transaction Does Not Exist');
    }
    return;
  }
  if (req.method === 'BYE') return bye(call, leg, r);
  if (call.state === 'ending' || call.state === 'ended') {
    r.reply(481, 'Call/Transaction Does Not Exist');
    return;
  }
  switch (req.method) {
    case 'INVITE':
      return reinvite(call, leg, r);
    case 'UPDATE':
      return update(call, leg, r);
    case 'INFO':
      return info(call, leg, r);
    case 'REFER':
      return handleRefer(call, leg, r);
    case 'PRACK':
      return prack(call, leg, r);
    default:
      r.reply(405, 'Method Not Allowed', { headers: [['Allow', call.ctx.allow]] });
  }
}

function bye(call: Call, leg: Leg, r: IncomingRequest): void {
  r.reply(200, 'OK');
  if (call.state === 'ending' || call.state === 'ended') return;
  // A BYE from the caller before the answer is a cancellation (§15: it should have sent CANCEL).
  const answered = call.state === 'confirmed';
  call.end({ status: answered ? 200 : 487, endedBy: call.roleOf(leg), cause: 'bye', from: leg });
}

/**
 * RFC 3262 §3: a PRACK for a reliable 18x we sent the caller gets 200; one that acknowledges
 * nothing outstanding gets 481. An offer in a PRACK (§5, after an 18x with our answer) is answered
 * with the session as it stands: the SDP of that 18x.
 */
function prack(call: Call, leg: Leg, r: IncomingRequest): void {
  const acknowledged = leg === call.caller ? call.reliable?.prack(r.request) : undefined;
  if (acknowledged === undefined) {
    r.reply(481, 'Call/Transaction Does Not Exist');
    return;
  }
  const answer = sdpOf(r.request) !== undefined && acknowledged.body.length > 0 ? acknowledged.body : undefined;
  r.reply(200, 'OK', answer === undefined ? {} : { body: answer, contentType: 'application/sdp' });
}

function policy(call: Call): SessionTimerPolicy {
  return call.ctx.settings.sessionTimer;
}

/** RFC 4028 §9 for a refresh or re-offer received on `leg`; undefined when the reply was a 422. */
function timerDecision(call: Call, r: IncomingRequest): UasDecision | undefined {
  if (!call.ctx.settings.sessionTimer.enabled) return { kind: 'none' };
  let decision: UasDecision;
  try {
    decision = negotiateAsUas(r.request.headers, policy(call));
  } catch {
    r.reply(400, 'Bad Request - Malformed Session-Expires');
    return undefined;
  }
  if (decision.kind === 'too-small') {
    r.reply(422, 'Session Interval Too Small', { headers: [['Min-SE', String(decision.minSe)]] });
    return undefined;
  }
  return decision;
}

function applyTimer(leg: Leg, d: UasDecision): void {
  if (d.kind === 'timer') leg.timer.start(d.intervalSec, d.refresher === 'uas');
  else leg.timer.stop();
}

/** 2xx to a re-INVITE or UPDATE on `leg`: our Contact (target refresh), Allow, timer headers, SDP. */
function replyOk(call: Call, leg: Leg, r: IncomingRequest, d: UasDecision, sdp?: string): void {
  const headers: Array<[string, string]> = [['Contact', serializeNameAddr(contactFor(leg.path))], ['Allow', call.ctx.allow]];
  if (call.ctx.settings.sessionTimer.enabled) headers.push(['Supported', 'timer']);
  if (d.kind === 'timer') headers.push(...d.headers);
  leg.dialog.refreshTarget(r.request);
  r.reply(200, 'OK', { headers, ...(sdp !== undefined && { body: Buffer.from(sdp), contentType: 'application/sdp' }) });
  applyTimer(leg, d);
}

function unchanged(leg: Leg, sdp: string): boolean {
  return leg.sdpSent !== undefined && leg.sdpReceivedVersion !== undefined && originVersion(sdp) === leg.sdpReceivedVersion;
}

async function reinvite(call: Call, leg: Leg, r: IncomingRequest): Promise<void> {
  const other = call.other(leg);
  if (call.state !== 'confirmed' || other === undefined) {
    r.reply(491, 'Request Pending');
    return;
  }
  // §14.2 glare: one INVITE transaction at a time per dialog, one offer/answer at a time per call.
  if (leg.inviteInProgress || other.inviteInProgress || call.offerInProgress || call.pendingAnswer !== undefined) {
    r.reply(491, 'Request Pending');
    return;
  }
  const decision = timerDecision(call, r);
  if (decision === undefined) return;
  const sdp = sdpOf(r.request);
  if (sdp !== undefined && unchanged(leg, sdp)) {
    replyOk(call, leg, r, decision, leg.sdpSent);
    return;
  }
  call.offerInProgress = true;
  leg.inviteInProgress = true;
  try {
    if (sdp !== undefined) await relayOffer(call, leg, other, r, decision, sdp, 'INVITE');
    else await askOffer(call, leg, other, r, decision);
  } finally {
    call.offerInProgress = false;
    leg.inviteInProgress = false;
  }
}

async function update(call: Call, leg: Leg, r: IncomingRequest): Promise<void> {
  const decision = timerDecision(call, r);
  if (decision === undefined) return;
  const sdp = sdpOf(r.request);
  const other = call.other(leg);
  if (sdp === undefined || unchanged(leg, sdp)) {
    // RFC 3311 §5.2 / RFC 4028 §7.4: a refresh without a new offer is answered here.
    replyOk(call, leg, r, decision, sdp === undefined ? undefined : leg.sdpSent);
    return;
  }
  if (call.state !== 'confirmed' || other === undefined || call.offerInProgress || call.pendingAnswer !== undefined || other.inviteInProgress) {
    r.reply(491, 'Request Pending');
    return;
  }
  call.offerInProgress = true;
  try {
    await relayOffer(call, leg, other, r, decision, sdp, other.allowsUpdate ? 'UPDATE' : 'INVITE');
  } finally {
    call.offerInProgress = false;
  }
}

/** The headers of a re-INVITE/UPDATE we send on `leg` (RFC 4028 §7.1, §7.4: we keep refreshing what we refreshed). */
function timerRequestHeaders(call: Call, leg: Leg): Array<[string, string]> {
  const st = call.ctx.settings.sessionTimer;
  if (!st.enabled) return [];
  const interval = leg.timer.intervalSec > 0 ? leg.timer.intervalSec : st.intervalSec;
  const refresher = leg.timer.intervalSec > 0 ? (leg.timer.weRefresh ? ';refresher=uac' : ';refresher=uas') : '';
  return [['Supported', 'timer'], ['Session-Expires', `${interval}${refresher}`], ['Min-SE', String(st.minSeSec)]];
}

/**
 * Sends a re-INVITE or UPDATE on `leg` and resolves with its final response. The 2xx of a
 * re-INVITE is not ACKed here (the caller decides what the ACK carries); later 2xx
 * retransmissions get the ACK sent for it (Leg.reAck).
 */
export function exchange(call: Call, leg: Leg, method: 'INVITE' | 'UPDATE', sdp?: string): Promise<SipResponse> {
  const request = leg.createRequest(method, {
    headers: timerRequestHeaders(call, leg),
    ...(sdp !== undefined && { body: Buffer.from(sdp), contentType: 'application/sdp' }),
  });
  if (method === 'UPDATE') return leg.sendNonInvite(request);
  leg.inviteInProgress = true;
  return new Promise((resolve) => {
    let final = false;
    leg.sendInvite(request, (res) => {
      if (res.status < 200) return;
      if (!final) {
        final = true;
        leg.inviteInProgress = false;
        resolve(res);
      } else if (res.status < 300) {
        leg.reAck(res.cseq.seq);
      }
    });
  });
}

/** After a 2xx on `leg` as UAC: the peer's target, Allow and session timer (RFC 4028 §7.2). */
export function learnFromSuccess(call: Call, leg: Leg, res: SipResponse): void {
  leg.dialog.refreshTarget(res);
  leg.learnAllow(res);
  if (!call.ctx.settings.sessionTimer.enabled) return;
  const outcome = uacOutcome(res.headers);
  if (outcome !== undefined) leg.timer.start(outcome.intervalSec, outcome.refresher === 'uac');
  else if (leg.timer.weRefresh && leg.timer.intervalSec > 0) leg.timer.start(leg.timer.intervalSec, true);
}

/** A failed re-offer: 481/408 mean the other dialog is gone (RFC 5057 §5.2), which ends the call. */
function relayFailure(call: Call, r: IncomingRequest, res: SipResponse): void {
  const status = res.status === 401 || res.status === 407 ? 500 : res.status;
  r.reply(status, reasonPhrase(status));
  if (res.status === 481 || res.status === 408) {
    call.end({ status: 200, endedBy: 'gateway', cause: 'dialog-gone', reason: `SIP;cause=${res.status};text="Other leg gone"` });
  }
}

/** A new offer from `leg` through the engine to `other`, whose answer goes back (re-INVITE or UPDATE on `other`). */
async function relayOffer(call: Call, leg: Leg, other: Leg, r: IncomingRequest, d: UasDecision, sdp: string, method: 'INVITE' | 'UPDATE'): Promise<void> {
  let offer: string;
  try {
    offer = await call.media.offer(leg.tag, leg.media, other.media, sdp);
  } catch (err) {
    const e = err instanceof MediaEngineError ? err : undefined;
    r.reply(e?.status ?? 500, e?.reason ?? 'Server Internal Error');
    return;
  }
  const res = await exchange(call, other, method, offer);
  if (res.status >= 300) return relayFailure(call, r, res);
  const answerSdp = sdpOf(res);
  let answer: string | undefined;
  try {
    if (answerSdp === undefined) throw new MediaEngineError('bad-sdp', '2xx without answer');
    answer = await call.media.answer(leg.tag, other.tag, other.media, answerSdp);
  } catch (err) {
    if (method === 'INVITE') other.ack(res.cseq.seq);
    const e = err instanceof MediaEngineError ? err : undefined;
    r.reply(e?.status ?? 500, e?.reason ?? 'Server Internal Error');
    return;
  }
  if (method === 'INVITE') other.ack(res.cseq.seq);
  learnFromSuccess(call, other, res);
  other.sdpSent = offer;
  other.sdpReceivedVersion = originVersion(answerSdp!);
  leg.sdpReceivedVersion = originVersion(sdp);
  leg.sdpSent = answer;
  if (call.state === 'confirmed') replyOk(call, leg, r, d, answer);
}

/** A re-INVITE without SDP (§14.1): the other leg is asked for an offer, which goes to `leg` in our 2xx; its ACK answers. */
async function askOffer(call: Call, leg: Leg, other: Leg, r: IncomingRequest, d: UasDecision): Promise<void> {
  const res = await exchange(call, other, 'INVITE');
  if (res.status >= 300) return relayFailure(call, r, res);
  const offerSdp = sdpOf(res);
  let offer: string;
  try {
    if (offerSdp === undefined) throw new MediaEngineError('bad-sdp', '2xx without offer');
    offer = await call.media.offer(other.tag, other.media, leg.media, offerSdp);
  } catch (err) {
    other.ack(res.cseq.seq, other.sdpSent);
    const e = err instanceof MediaEngineError ? err : undefined;
    r.reply(e?.status ?? 500, e?.reason ?? 'Server Internal Error');
    return;
  }
  learnFromSuccess(call, other, res);
  other.sdpReceivedVersion = originVersion(offerSdp!);
  leg.sdpSent = offer;
  call.pendingAnswer = { from: other, to: leg, seq: res.cseq.seq };
  if (call.state === 'confirmed') replyOk(call, leg, r, d, offer);
}

async function info(call: Call, leg: Leg, r: IncomingRequest): Promise<void> {
  const other = call.other(leg);
  if (call.state !== 'confirmed' || other === undefined) {
    r.reply(491, 'Request Pending');
    return;
  }
  const req = r.request;
  const contentType = req.headers.get('Content-Type');
  const forward = other.createRequest('INFO', {
    headers: infoHeaders(req.headers),
    ...(req.body.length > 0 && { body: req.body, contentType: contentType ?? 'application/octet-stream' }),
  });
  const res = await other.sendNonInvite(forward);
  const status = res.status >= 200 && res.status < 300 ? 200 : res.status === 401 || res.status === 407 ? 500 : res.status;
  r.reply(status, reasonPhrase(status));
}

/** We are `leg`'s refresher and half the interval passed (RFC 4028 §10): UPDATE if allowed, else re-INVITE. */
export async function refreshSession(call: Call, leg: Leg, failures = 0): Promise<void> {
  if (call.state !== 'confirmed' || leg.dialog.state === 'terminated') return;
  const retry = (): void => {
    if (failures + 1 >= MAX_REFRESH_FAILURES) {
      call.end({ status: 200, endedBy: 'gateway', cause: 'session-refresh-failed', reason: 'SIP;cause=408;text="Session refresh failed"' });
      return;
    }
    const t = setTimeout(() => void refreshSession(call, leg, failures + 1), REFRESH_RETRY_MS);
    t.unref();
  };
  if (leg.inviteInProgress || call.offerInProgress || call.pendingAnswer !== undefined) return retry();
  const useUpdate = leg.allowsUpdate;
  const res = await exchange(call, leg, useUpdate ? 'UPDATE' : 'INVITE', useUpdate ? undefined : leg.sdpSent);
  if (res.status >= 200 && res.status < 300) {
    if (!useUpdate) leg.ack(res.cseq.seq);
    learnFromSuccess(call, leg, res);
    if (!leg.timer.running) leg.timer.start(leg.timer.intervalSec, true);
    return;
  }
  if (res.status === 481 || res.status === 408) {
    call.end({ status: 200, endedBy: 'gateway', cause: 'session-refresh-failed', reason: `SIP;cause=${res.status};text="Session refresh failed"` });
    return;
  }
  retry();
}
