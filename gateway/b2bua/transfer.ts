/**
 * A blind transfer (RFC 5589 §6) the REFER of a user asked for (refer.ts): the trunk party on the
 * other leg (the transferee) is connected to the target, over the trunks the dial plan picked for
 * it, and the transferor's leg leaves the call.
 *
 * The new leg is set up as RFC 3725 §4.1 (flow I) has a controller do it, so the media engine only
 * ever sees two legs per engine call:
 *
 *   target C              gateway                          transferee P       transferor U
 *                            ◄──────────────────────────────────────────────────── REFER
 *                            ── 202, NOTIFY "100 Trying" ─────────────────────────►
 *     ◄── INVITE (no SDP) ───
 *     ── 200 (offer C) ─────►  new engine call: offer(C) → SDP for P
 *                            ── re-INVITE (SDP for P) ──────►
 *                            ◄── 200 (answer P) ────────────  answer(P) → SDP for C
 *                            ── ACK ────────────────────────►
 *     ◄── ACK (answer) ──────  old engine call deleted
 *                            ── NOTIFY "200 OK" ──────────────────────────────────►
 *                            ◄──────────────────────────────────────────────────── BYE
 *
 * Failover to the next trunk is as for calls (503, timeout, transport error); the target's final
 * refusal, no answer within calls.ringTimeoutSec, or the transferee refusing the new media end the
 * transfer with a NOTIFY of that status, and the call between transferor and transferee goes on
 * as it was (RFC 5589 §6: the transferor keeps the call). On success the transferor gets the final
 * NOTIFY and is expected to hang up (§6); the gateway sends the BYE itself after a short grace.
 *
 * The transferor may hang up as soon as its REFER is accepted: the transfer goes on, and a failure
 * then ends the transferee's call too (it would be alone).
 *
 * What the target's trunk is told (identity, Referred-By) is transfer-invite.ts.
 */
import type { IncomingRequest } from '../sip/core/ua-core';
import { uacOutcome } from '../sip/dialog/session-timer';
import type { SipResponse } from '../sip/message/message';
import { isLocalResponse } from '../sip/transaction/transaction';
import type { Trunk } from '../trunk/types';
import { MediaEngineError } from '../../media/engine/errors';
import type { TransferHandle } from './call';
import { mapTrunkFailure } from './failure';
import { dialogOf, Fork, type ForkUser } from './fork';
import { exchange, learnFromSuccess } from './in-dialog';
import type { Leg } from './leg';
import { originVersion, sdpOf } from './media';
import { ReferSubscription } from './refer-notify';
import { targetInvite, transfereeName, type TransferInit } from './transfer-invite';
import { transferMediaId, TransferredMedia } from './transfer-media';
import type { LegPath } from './types';

/** How often, and how many times, the transferee's dialog is checked for another offer/answer to finish. */
const IDLE_POLL_MS = 100;
const IDLE_POLLS = 50;
/** Time the transferor has to send its own BYE after the final NOTIFY (RFC 5589 §6) before the gateway does. */
export const TRANSFEROR_BYE_GRACE_MS = 2000;

type Phase = 'inviting' | 'connecting' | 'done' | 'failed';

let transfers = 0;

function failureStatus(err: unknown): number {
  return err instanceof MediaEngineError ? err.status ?? 500 : 500;
}

export class Transfer implements TransferHandle {
  private phase: Phase = 'inviting';
  private readonly sub: ReferSubscription;
  private readonly queue: Trunk[];
  private fork: Fork | undefined;
  /** The target's leg once it answered, and the CSeq its 2xx answered. */
  private target: Leg | undefined;
  private targetSeq = 0;
  private targetAcked = false;
  private targetLeft = false;
  private transferorLeft = false;
  private media: TransferredMedia | undefined;
  private lastStatus = 503;
  private forks = 0;
  private ringTimer: NodeJS.Timeout | undefined;
  private byeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: TransferInit) {
    this.queue = [...o.trunks];
    // The subscription lasts at most the ringing and one INVITE transaction (64*T1) more.
    this.sub = new ReferSubscription(o.transferor, o.refer.cseq.seq, o.call.ctx.settings.ringTimeoutSec + 64);
  }

  /** After the 202: NOTIFY 100, then the INVITE to the first trunk. */
  start(): void {
    void this.sub.trying();
    this.ringTimer = setTimeout(() => this.noAnswer(), this.o.call.ctx.settings.ringTimeoutSec * 1000);
    this.ringTimer.unref();
    this.nextTrunk();
  }

  intercept(leg: Leg, r: IncomingRequest): boolean {
    if (leg === this.o.transferor) {
      if (r.request.method === 'BYE') {
        this.transferorBye(r);
        return true;
      }
      if (this.phase !== 'done') return false;
      r.reply(481, 'Call/Transaction Does Not Exist');
      return true;
    }
    if (leg === this.o.transferee && this.transferorLeft && this.phase !== 'done' && r.request.method !== 'BYE') {
      // Nobody is at the other end until the target joins: no offer nor INFO can be relayed.
      r.reply(491, 'Request Pending');
      return true;
    }
    if (leg !== this.target || this.phase !== 'connecting') return false;
    // The target answered but is not joined yet: it may hang up; anything else waits.
    if (r.request.method === 'BYE') {
      r.reply(200, 'OK');
      leg.close();
      this.targetLeft = true;
    } else {
      r.reply(491, 'Request Pending');
    }
    return true;
  }

  abort(): void {
    if (this.phase === 'done') this.releaseTransferor(true);
    else this.fail(487, 'call-ended');
  }

  // ---- the new leg ------------------------------------------------------------------------------

  private nextTrunk(): void {
    const trunk = this.queue.shift();
    if (trunk === undefined) return this.fail(this.lastStatus, 'trunks-failed');
    const path: LegPath = { hop: trunk.target, local: trunk.local, protocol: trunk.transport };
    this.fork = new Fork(`t${++this.forks}`, { kind: 'trunk', trunk }, path, targetInvite(this.o, trunk), this.o.call.ctx, this.forkUser);
    this.fork.start();
  }

  private readonly forkUser: ForkUser = {
    // The transferor hears of the target's ringing only through the final NOTIFY.
    onProvisional: () => undefined,
    onSuccess: (fork, res) => void this.answered(fork, res),
    onRetransmission: (fork, res) => {
      if (fork === this.fork && this.target !== undefined) this.target.reAck(res.cseq.seq);
      else this.ackAndBye(fork, res, true);
    },
    onFailure: (fork, res) => this.refused(fork, res),
    // The INVITE has no SDP: a retry after 401/407/422 has no offer to renew.
    reoffer: () => Promise.resolve(null),
  };

  private refused(fork: Fork, res: SipResponse): void {
    if (fork !== this.fork || this.phase !== 'inviting') return;
    const trunk = fork.trunk;
    const trunks = this.o.call.ctx.trunkService;
    if (trunk !== undefined && trunks !== undefined && trunks.isFailover(res)) {
      trunks.reportFailure(trunk, !isLocalResponse(res) ? 'service-unavailable' : res.status === 408 ? 'timeout' : 'transport-error');
      this.lastStatus = res.status === 408 ? 408 : 503;
      return this.nextTrunk();
    }
    this.fail(mapTrunkFailure(res.status), 'rejected');
  }

  private noAnswer(): void {
    this.ringTimer = undefined;
    if (this.phase === 'inviting') this.fail(408, 'no-answer');
  }

  /** A 2xx nobody wants (a late one, a second dialog's): ACK, then BYE unless `ackOnly` (dial.ts does the same). */
  private ackAndBye(fork: Fork, res: SipResponse, ackOnly = false): void {
    const sameDialog = fork.dialog !== undefined && fork.dialog.remoteTag === res.to.params.get('tag');
    const dialog = sameDialog ? fork.dialog! : dialogOf(fork.invite, res, fork.path.protocol === 'TLS');
    const leg = fork.toLeg(this.o.call.ctx, { onRefresh: () => undefined, onExpire: () => undefined }, dialog);
    leg.ack(res.cseq.seq);
    if (!ackOnly) void leg.bye('SIP;cause=200;text="Call completed elsewhere"');
  }

  // ---- joining the target and the transferee ------------------------------------------------------

  private async answered(fork: Fork, res: SipResponse): Promise<void> {
    if (fork !== this.fork || this.phase !== 'inviting') return this.ackAndBye(fork, res);
    this.phase = 'connecting';
    this.clearRing();
    const call = this.o.call;
    const leg = fork.toLeg(call.ctx, call.timerCallbacks(() => leg));
    leg.learnAllow(res);
    this.target = leg;
    this.targetSeq = res.cseq.seq;
    // Bound at once: a BYE from the target before it is joined reaches intercept().
    call.ctx.bind(leg, call);
    const offer = sdpOf(res);
    if (offer === undefined) return this.fail(488, 'no-offer');
    const idle = await this.transfereeIdle();
    if (this.phase !== 'connecting') return;
    if (!idle) return this.fail(491, 'glare');
    call.offerInProgress = true;
    try {
      await this.bridge(leg, res, offer);
    } finally {
      call.offerInProgress = false;
    }
  }

  /** RFC 3261 §14.1: the transferee's dialog must be free of another offer/answer; bounded wait. */
  private async transfereeIdle(): Promise<boolean> {
    const { call, transferee } = this.o;
    for (let i = 0; i < IDLE_POLLS && this.phase === 'connecting'; i++) {
      if (!transferee.inviteInProgress && !call.offerInProgress && call.pendingAnswer === undefined) return true;
      await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
    }
    return false;
  }

  /** RFC 3725 §4.1: the target's offer to the transferee through a new engine call, the answer back in the target's ACK. */
  private async bridge(target: Leg, res: SipResponse, offer: string): Promise<void> {
    const { call, transferee } = this.o;
    const settings = call.ctx.settings;
    const media = new TransferredMedia(call.ctx.engine, transferMediaId(call.id, ++transfers), settings.requireSrtp, settings.transcode, transferee.tag, transferee.sdpSent);
    this.media = media;
    let forTransferee: string;
    try {
      forTransferee = await media.offer(target.tag, target.media, transferee.media, offer);
    } catch (err) {
      return this.fail(failureStatus(err), 'media');
    }
    if (this.phase !== 'connecting') return;
    const reply = await exchange(call, transferee, 'INVITE', forTransferee);
    if (reply.status >= 300) {
      if (this.phase !== 'connecting') return;
      this.fail(mapTrunkFailure(reply.status), 'transferee-refused');
      // RFC 5057 §5.2: 481/408, the transferee's dialog is gone; any other refusal leaves its session as it was (RFC 3261 §14.1).
      if (reply.status === 481 || reply.status === 408) {
        call.end({ status: 200, endedBy: 'gateway', cause: 'dialog-gone', reason: `SIP;cause=${reply.status};text="Other leg gone"` });
      }
      return;
    }
    const answerSdp = sdpOf(reply);
    let forTarget: string;
    try {
      if (answerSdp === undefined) throw new MediaEngineError('bad-sdp', '2xx without answer');
      forTarget = await media.answer(target.tag, transferee.tag, transferee.media, answerSdp);
    } catch (err) {
      transferee.ack(reply.cseq.seq);
      if (this.phase !== 'connecting') return;
      // The transferee took the new offer: its old session is gone, and there is nothing to join it to.
      this.fail(failureStatus(err), 'media');
      call.end({ status: 200, endedBy: 'gateway', cause: 'media', reason: 'SIP;cause=488;text="Media refused"' });
      return;
    }
    transferee.ack(reply.cseq.seq);
    if (this.phase !== 'connecting') return;
    learnFromSuccess(call, transferee, reply);
    transferee.sdpSent = forTransferee;
    transferee.sdpReceivedVersion = originVersion(answerSdp!);
    target.sdpSent = forTarget;
    target.sdpReceivedVersion = originVersion(offer);
    target.ack(this.targetSeq, forTarget);
    this.targetAcked = true;
    const outcome = uacOutcome(res.headers);
    if (outcome !== undefined && settings.sessionTimer.enabled && !this.targetLeft) target.timer.start(outcome.intervalSec, outcome.refresher === 'uac');
    this.succeed(target);
  }

  // ---- the end ----------------------------------------------------------------------------------

  private succeed(target: Leg): void {
    const { call, transferor, transferee } = this.o;
    this.phase = 'done';
    const previous = call.media;
    const trunk = target.peer.kind === 'trunk' ? target.peer.trunk : call.trunk!;
    call.transferred(transferor, target, {
      media: this.media!,
      slot: this.o.slot,
      trunk,
      transfer: {
        transferor: call.roleOf(transferor),
        transferredBy: this.o.user.name,
        caller: transfereeName(call, transferee),
        callee: this.o.route.number,
        trunk: trunk.name,
      },
    });
    transferor.timer.stop();
    void previous.close().catch((err: unknown) => call.ctx.log.warn('media not released', { error: err instanceof Error ? err.message : String(err) }));
    if (this.targetLeft) {
      call.end({ status: 200, endedBy: 'callee', cause: 'bye', from: target });
      return;
    }
    void this.sub.final(200).then(() => this.releaseTransferor(false));
  }

  /** The transfer did not happen: NOTIFY the status; the transferor keeps its call (RFC 5589 §6). */
  private fail(status: number, cause: string): void {
    if (this.phase === 'done' || this.phase === 'failed') return;
    this.phase = 'failed';
    this.clearRing();
    this.dropTarget(status);
    const media = this.media;
    this.media = undefined;
    const call = this.o.call;
    void media?.close().catch(() => undefined);
    this.o.slot.release();
    if (call.transfer === this) call.transfer = undefined;
    call.ctx.log.debug('transfer failed', { call: call.id, status, cause });
    void this.sub.final(status);
    if (this.transferorLeft) {
      call.end({ status: 200, endedBy: 'gateway', cause: 'transfer-failed', reason: `SIP;cause=${status};text="Transfer failed"` });
    }
  }

  /** CANCEL the pending INVITE, or ACK (if not yet) and BYE the target's answered leg. */
  private dropTarget(status: number): void {
    const leg = this.target;
    this.target = undefined;
    if (leg === undefined) {
      this.fork?.cancel();
      return;
    }
    if (!this.targetAcked) leg.ack(this.targetSeq);
    const ctx = this.o.call.ctx;
    void leg.bye(`SIP;cause=${status};text="Transfer failed"`).finally(() => ctx.unbind(leg));
  }

  private transferorBye(r: IncomingRequest): void {
    r.reply(200, 'OK');
    const leg = this.o.transferor;
    this.transferorLeft = true;
    if (this.byeTimer !== undefined) clearTimeout(this.byeTimer);
    leg.close();
    this.o.call.ctx.unbind(leg);
  }

  /**
   * RFC 5589 §6: after the final NOTIFY the transferor hangs up; the gateway sends the BYE when it
   * has not within TRANSFEROR_BYE_GRACE_MS (`now`: at once, the call is ending).
   */
  private releaseTransferor(now: boolean): void {
    if (this.transferorLeft) return;
    const bye = (): void => {
      if (this.byeTimer !== undefined) clearTimeout(this.byeTimer);
      if (this.transferorLeft) return;
      this.transferorLeft = true;
      const leg = this.o.transferor;
      const ctx = this.o.call.ctx;
      void leg.bye('SIP;cause=200;text="Call transferred"').finally(() => ctx.unbind(leg));
    };
    if (now) return bye();
    if (this.byeTimer === undefined) {
      this.byeTimer = setTimeout(bye, TRANSFEROR_BYE_GRACE_MS);
      this.byeTimer.unref();
    }
  }

  private clearRing(): void {
    if (this.ringTimer !== undefined) clearTimeout(this.ringTimer);
    this.ringTimer = undefined;
  }
}
