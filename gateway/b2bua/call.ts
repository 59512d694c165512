/**
 * A Call: the caller's leg (the gateway as UAS) and, once a callee answered, the callee's leg (the
 * gateway as UAC), with the media engine between them. This file is the call's state: the answer
 * (the winning fork becomes the callee's leg), CANCEL, the caller's ACK (with the answer of a
 * delayed offer), and the end from either side or from the gateway. Finding the callee (forking,
 * trunk failover, early media) is dial.ts; requests inside the established call are in-dialog.ts.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { dispositionFor } from '../cdr/types';
import type { IncomingRequest } from '../sip/core/ua-core';
import { Dialog } from '../sip/dialog/dialog';
import { uacOutcome, type UasDecision } from '../sip/dialog/session-timer';
import { makeResponse, type SipRequest, type SipResponse } from '../sip/message/message';
import type { InviteServerTransaction } from '../sip/transaction/server-invite';
import type { ReceivedInfo } from '../sip/transport/types';
import type { Trunk, TrunkService } from '../trunk/types';
import type { Registrar } from '../registrar/registrar';
import type { Binding } from '../registrar/types';
import { MediaEngineError } from '../../media/engine/errors';
import type { MediaEngine } from '../../media/engine/types';
import { Dialer } from './dial';
import { reasonPhrase } from './failure';
import type { Fork, InviteSpec } from './fork';
import { refreshSession } from './in-dialog';
import type { HeaderPolicy } from './headers';
import { contactFor, Leg, type LegContext } from './leg';
import type { CallSlot } from './limits';
import { CallMedia, originVersion, sdpOf } from './media';
import type { TransferServices } from './refer';
import { ReliableProvisionals, requires100rel } from './reliable';
import type { CallDirection, CallEnd, CallEvents, CallInfo, CallsSettings, CallState, CallTransfer, LegPath, LegPeer } from './types';

/** What calls share (the B2BUA provides it). */
export interface CallContext extends LegContext {
  readonly settings: CallsSettings;
  readonly engine: MediaEngine;
  readonly headerPolicy: HeaderPolicy;
  readonly trunkService?: TrunkService;
  readonly registrar: Pick<Registrar, 'targetFor'>;
  /** The B2BUA's dialog table. */
  bind(leg: Leg, call: Call): void;
  unbind(leg: Leg): void;
  /** How to reach a device: its flow, and our address on it. */
  pathFor(binding: Binding): LegPath;
  /** What a blind transfer needs (refer.ts); absent when calls.transfer is off. */
  readonly transfer?: TransferServices;
}

/** A blind transfer in progress, or completed and finishing with the transferor (transfer.ts). */
export interface TransferHandle {
  /**
   * Takes a request on a leg the transfer deals with (the transferor's BYE, anything from a leg
   * that left the call or has not joined it yet); false: the call handles it as usual.
   */
  intercept(leg: Leg, r: IncomingRequest): boolean;
  /** The call is ending: whatever the transfer has pending is given up (CANCEL, BYE, NOTIFY). */
  abort(): void;
}

export interface CallSetup {
  readonly incoming: IncomingRequest;
  readonly caller: LegPeer;
  readonly callerPath: LegPath;
  readonly direction: CallDirection;
  readonly callerName: string;
  readonly calleeName: string;
  readonly slot: CallSlot;
  /** RFC 4028 §9 decision for the caller's leg (made before routing: a 422 is answered at once). */
  readonly callerTimer: UasDecision;
}

/** What a call's invite to the callee says, apart from the SDP (one per trunk when failing over). */
export type InviteTemplate = Omit<InviteSpec, 'sdp'>;

export class Call extends EventEmitter<CallEvents> {
  readonly id = randomBytes(12).toString('base64url');
  /** The caller's leg; after a transfer by the caller, the target's (transferred()). */
  caller: Leg;
  callee: Leg | undefined;
  state: CallState = 'proceeding';
  media: CallMedia;
  readonly startedAt = Date.now();
  answeredAt: number | undefined;
  /** The trunk that answered, or the last one tried. */
  trunk: Trunk | undefined;
  /** An offer/answer exchange is in progress (RFC 3264 §4: one at a time); see in-dialog.ts. */
  offerInProgress = false;
  /** An ACK from a leg must carry the answer to the offer we sent it in a 2xx (§13.2.2.4 delayed offer). */
  pendingAnswer: { readonly from: Leg; readonly to: Leg; readonly seq: number } | undefined;
  /** The callee's 2xx was ACKed. */
  calleeAcked = false;
  /** A blind transfer (REFER) in progress, or completed (transfer.ts). */
  transfer: TransferHandle | undefined;
  /** Reliable 18x toward a caller whose INVITE requires 100rel (RFC 3262, reliable.ts). */
  readonly reliable: ReliableProvisionals | undefined;
  /** The admission held (the transferor's share is given back by a transfer). */
  private slot: CallSlot;
  /** After a transfer: who the call is between now, and each leg's part in it (transferee = caller). */
  private transferredView: { readonly caller: string; readonly callee: string; readonly roles: ReadonlyMap<Leg, 'caller' | 'callee'> } | undefined;
  private readonly dialer: Dialer = new Dialer(this);
  private awaitingAck = false;
  private deferredBye: string | undefined | null = null;
  private ringTimer: NodeJS.Timeout | undefined;
  private durationTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly ctx: CallContext,
    readonly setup: CallSetup,
  ) {
    super();
    this.slot = setup.slot;
    const invite = setup.incoming.request;
    const ist = setup.incoming.tx as InviteServerTransaction;
    const dialog = Dialog.asUas(invite, ist.ensureToTag(), { overTls: setup.callerPath.protocol === 'TLS' });
    this.caller = new Leg('a', 'caller', setup.caller, dialog, setup.callerPath, ctx, this.timerCallbacks(() => this.caller));
    this.caller.learnAllow(invite);
    this.media = new CallMedia(ctx.engine, this.id, ctx.settings.requireSrtp, ctx.settings.transcode);
    if (setup.caller.kind === 'trunk') this.trunk = setup.caller.trunk;
    ctx.bind(this.caller, this);
    if (requires100rel(invite)) {
      this.reliable = new ReliableProvisionals({
        send: (res) => ist.respond(res),
        onGiveUp: () => this.end({ status: 500, endedBy: 'gateway', cause: 'no-prack' }),
        t1Ms: ctx.transactions.timers.t1,
      }, invite.cseq.seq);
    }
    this.ringTimer = setTimeout(() => this.ringTimeout(), ctx.settings.ringTimeoutSec * 1000);
    this.ringTimer.unref();
  }

  /** A transferred call is the transferee's call out to the target (transfer.ts). */
  get direction(): CallDirection {
    return this.transferredView !== undefined ? 'outbound' : this.setup.direction;
  }

  /** Our 2xx to the caller still waits for its ACK (§13.3.1.4). */
  get ackPending(): boolean {
    return this.awaitingAck;
  }

  /** A leg's part in the call: its role, or after a transfer the transferee's 'caller' and the target's 'callee'. */
  roleOf(leg: Leg): 'caller' | 'callee' {
    return this.transferredView?.roles.get(leg) ?? leg.role;
  }

  /** The other leg of the call (undefined before a callee answered). */
  other(leg: Leg): Leg | undefined {
    return leg === this.caller ? this.callee : this.caller;
  }

  /** Whether `user` is at either end. */
  involves(user: string): boolean {
    return this.caller.user === user || this.callee?.user === user || (this.transferredView?.callee ?? this.setup.calleeName) === user;
  }

  info(): CallInfo {
    return {
      id: this.id,
      mediaId: this.media.id,
      direction: this.direction,
      caller: this.transferredView?.caller ?? this.setup.callerName,
      callee: this.transferredView?.callee ?? this.setup.calleeName,
      state: this.state,
      ...(this.trunk !== undefined && { trunk: this.trunk.name }),
      startedAt: this.startedAt,
      ...(this.answeredAt !== undefined && { answeredAt: this.answeredAt }),
    };
  }

  // ---- setup ------------------------------------------------------------------------------------

  /** Rings every device (bindings) of a user at once (issue 5 §2 forking). */
  connectUser(bindings: readonly Binding[], template: InviteTemplate): Promise<void> {
    return this.dialer.connectUser(bindings, template);
  }

  /** Tries trunks in order (issue 5 §3 failover: next one on 503, timeout or transport error). */
  connectTrunks(trunks: readonly Trunk[], template: (trunk: Trunk) => InviteTemplate): Promise<void> {
    return this.dialer.connectTrunks(trunks, template);
  }

  /** First 180/183 relayed. */
  ringingNow(): void {
    if (this.state !== 'proceeding') return;
    this.state = 'early';
    this.emit('ringing');
  }

  /** The media engine refused: the call ends with its status (488 mostly) and reason. */
  failMedia(err: unknown): void {
    const e = err instanceof MediaEngineError ? err : undefined;
    this.ctx.log.debug('media refused', { error: e?.code ?? (err instanceof Error ? err.message : String(err)) });
    this.end({ status: e?.status ?? 500, reason: e?.reason, endedBy: 'gateway', cause: 'media' });
  }

  /**
   * The winning fork's 2xx (the dialer already cancelled the others): its dialog becomes the
   * callee's leg, its SDP goes through the engine, the caller gets the 2xx. With a delayed offer
   * the 2xx holds the offer and the callee's ACK waits for the caller's answer.
   */
  async connected(fork: Fork, res: SipResponse): Promise<void> {
    this.clearRingTimer();
    const leg = fork.toLeg(this.ctx, this.timerCallbacks(() => leg));
    this.callee = leg;
    leg.learnAllow(res);
    const sdp = sdpOf(res);
    let forCaller: string;
    try {
      if (this.dialer.offerSent) {
        if (sdp === undefined) throw new MediaEngineError('bad-sdp', '2xx without answer');
        forCaller = await this.media.answer(this.caller.tag, leg.tag, leg.media, sdp);
        // Our offer in the INVITE is the SDP this leg has of us (a transfer continues its o= line).
        leg.sdpSent = fork.invite.body.toString('utf8');
        this.ackCallee(res.cseq.seq);
      } else {
        if (sdp === undefined) throw new MediaEngineError('bad-sdp', 'no offer in INVITE nor 2xx');
        forCaller = await this.media.offer(leg.tag, leg.media, this.caller.media, sdp);
        this.pendingAnswer = { from: leg, to: this.caller, seq: res.cseq.seq };
      }
      leg.sdpReceivedVersion = originVersion(sdp);
    } catch (err) {
      if (this.state === 'ending' || this.state === 'ended') return;
      this.ackCallee(res.cseq.seq);
      this.failMedia(err);
      return;
    }
    if (this.state !== 'proceeding' && this.state !== 'early') return; // cancelled meanwhile: end() sent ACK and BYE
    this.ctx.bind(leg, this);
    const outcome = uacOutcome(res.headers);
    if (outcome !== undefined && this.ctx.settings.sessionTimer.enabled) leg.timer.start(outcome.intervalSec, outcome.refresher === 'uac');
    if (this.reliable !== undefined) {
      // RFC 3262 §3: no 2xx while a reliable 18x with SDP waits for its PRACK.
      await this.reliable.sdpAcknowledged();
      if (this.state !== 'proceeding' && this.state !== 'early') return;
    }
    this.answer(forCaller);
  }

  private ackCallee(seq: number): void {
    if (this.calleeAcked || this.callee === undefined) return;
    this.calleeAcked = true;
    this.callee.ack(seq);
  }

  /** 2xx to the caller (the call is answered); its ACK is awaited (RFC 3261 §13.3.1.4). */
  private answer(sdp: string): void {
    const decision = this.setup.callerTimer;
    const headers = decision.kind === 'timer' ? decision.headers : [];
    this.caller.sdpSent = sdp;
    if (!this.respond(200, 'OK', { sdp, headers })) return;
    this.caller.dialog.confirm();
    this.state = 'confirmed';
    this.awaitingAck = true;
    this.answeredAt = Date.now();
    if (decision.kind === 'timer' && this.ctx.settings.sessionTimer.enabled) this.caller.timer.start(decision.intervalSec, decision.refresher === 'uas');
    const max = this.ctx.settings.maxDurationSec;
    if (max > 0) {
      this.durationTimer = setTimeout(() => this.end({ status: 200, endedBy: 'gateway', cause: 'max-duration', reason: 'SIP;cause=200;text="Maximum call duration reached"' }), max * 1000);
      this.durationTimer.unref();
    }
    this.emit('answered');
  }

  private ringTimeout(): void {
    this.ringTimer = undefined;
    if (this.dialer.ringing) this.end({ status: this.direction === 'outbound' ? 408 : 480, endedBy: 'gateway', cause: 'no-answer' });
  }

  private clearRingTimer(): void {
    if (this.ringTimer !== undefined) clearTimeout(this.ringTimer);
    this.ringTimer = undefined;
  }

  // ---- from the caller --------------------------------------------------------------------------

  /** CANCEL from the caller (RFC 3261 §9.2): 487 to the INVITE, CANCEL to every fork. */
  cancel(): void {
    if (this.state === 'proceeding' || this.state === 'early') this.end({ status: 487, endedBy: 'caller', cause: 'cancel' });
    else (this.setup.incoming.tx as InviteServerTransaction).respondCancelled();
  }

  /** The caller's ACK for our 2xx: confirmed; with a delayed offer, its answer goes to the callee's ACK. */
  async ack(ack: SipRequest, leg: Leg, info: ReceivedInfo): Promise<void> {
    leg.learnFlow(info);
    if (leg === this.caller && this.awaitingAck) {
      this.awaitingAck = false;
      this.sendDeferredBye();
    }
    const pending = this.pendingAnswer;
    if (pending === undefined || pending.to !== leg || ack.cseq.seq !== leg.dialog.remoteSeq) return;
    this.pendingAnswer = undefined;
    const sdp = sdpOf(ack);
    if (sdp === undefined) {
      pending.from.ack(pending.seq);
      this.end({ status: 200, endedBy: 'gateway', cause: 'no-answer-in-ack', reason: 'SIP;cause=488;text="No SDP answer"' });
      return;
    }
    try {
      const answer = await this.media.answer(pending.from.tag, leg.tag, leg.media, sdp);
      leg.sdpReceivedVersion = originVersion(sdp);
      pending.from.sdpSent = answer;
      pending.from.ack(pending.seq, answer);
      if (pending.from === this.callee) this.calleeAcked = true;
    } catch (err) {
      pending.from.ack(pending.seq);
      this.end({ status: 200, endedBy: 'gateway', cause: 'media', reason: `SIP;cause=488;text="${err instanceof MediaEngineError ? 'Media refused' : 'Media failure'}"` });
    }
  }

  /** No ACK came for our 2xx within 64*T1 (§13.3.1.4): the session is ended. */
  ackTimedOut(): void {
    this.awaitingAck = false;
    if (this.sendDeferredBye()) return;
    this.end({ status: 200, endedBy: 'gateway', cause: 'no-ack', reason: 'SIP;cause=408;text="ACK timeout"' });
  }

  /** The caller's BYE held back until its ACK (§15); the caller's dialog is forgotten after it. */
  private sendDeferredBye(): boolean {
    if (this.deferredBye === null) return false;
    const reason = this.deferredBye;
    this.deferredBye = null;
    void this.caller.bye(reason).finally(() => this.ctx.unbind(this.caller));
    return true;
  }

  // ---- the end ------------------------------------------------------------------------------------

  /**
   * Ends the call, once: a final response to the caller if it was not answered yet, CANCEL to
   * pending forks, BYE to every established leg but `from` (the one whose BYE ends the call; the
   * caller's BYE waits for its ACK, §15), the media freed, `ended` emitted.
   */
  end(o: { status: number; endedBy: CallEnd['endedBy']; cause: string; reason?: string; from?: Leg }): void {
    if (this.state === 'ending' || this.state === 'ended') return;
    const answered = this.state === 'confirmed';
    this.state = 'ending';
    this.transfer?.abort();
    this.reliable?.close();
    this.clearRingTimer();
    if (this.durationTimer !== undefined) clearTimeout(this.durationTimer);
    this.dialer.cancelAll();
    // A 2xx whose ACK waited for the other leg's answer is ACKed now (§13.2.2.4), before the BYE.
    const pending = this.pendingAnswer;
    this.pendingAnswer = undefined;
    if (pending !== undefined) {
      pending.from.ack(pending.seq);
      if (pending.from === this.callee) this.calleeAcked = true;
    }
    const byes: Array<Promise<unknown>> = [];
    if (!answered) {
      if (o.status === 487) (this.setup.incoming.tx as InviteServerTransaction).respondCancelled();
      else this.respond(o.status, reasonPhrase(o.status));
      if (this.callee !== undefined) {
        this.ackCallee(this.dialer.winner?.invite.cseq.seq ?? 0);
        byes.push(this.callee.bye(o.reason));
      }
      this.caller.close();
    } else {
      for (const leg of [this.caller, this.callee]) {
        if (leg === undefined || leg === o.from) continue;
        if (leg === this.caller && this.awaitingAck) this.deferredBye = o.reason;
        else byes.push(leg.bye(o.reason));
      }
      o.from?.close();
    }
    const end: CallEnd = { status: answered ? 200 : o.status, disposition: dispositionFor(o.status, answered), endedBy: o.endedBy, cause: o.cause, answered };
    void this.media.close().catch((err: unknown) => this.ctx.log.warn('media not released', { error: err instanceof Error ? err.message : String(err) }));
    this.slot.release();
    this.emit('ended', end);
    // The dialogs stay known until the BYEs are answered: a BYE crossing ours still gets its 200.
    const deferred = this.deferredBye !== null;
    void Promise.allSettled(byes).then(() => {
      this.state = 'ended';
      if (!deferred) this.ctx.unbind(this.caller);
      if (this.callee !== undefined) this.ctx.unbind(this.callee);
    });
  }

  /**
   * A blind transfer completed (transfer.ts, RFC 5589 §6): the target's leg `next` takes the place
   * of the transferor's `prev`, which leaves the call; the media are the new engine call's; the
   * transferor's share of the admission is given back.
   */
  transferred(prev: Leg, next: Leg, o: { media: CallMedia; slot: CallSlot; trunk: Trunk; transfer: CallTransfer }): void {
    const transferee = this.other(prev);
    if (prev === this.caller) this.caller = next;
    else this.callee = next;
    this.media = o.media;
    const held = this.slot;
    this.slot = o.slot;
    held.release();
    this.trunk = o.trunk;
    const roles = new Map<Leg, 'caller' | 'callee'>([[next, 'callee']]);
    if (transferee !== undefined) roles.set(transferee, 'caller');
    this.transferredView = { caller: o.transfer.caller, callee: o.transfer.callee, roles };
    this.ctx.bind(next, this);
    this.emit('transferred', o.transfer);
  }

  /** Ended by the gateway (a blocked user, media timeout, shutdown): BYE both legs / CANCEL. */
  terminate(cause: string, reason: string, status = 480): void {
    this.end({ status, endedBy: 'gateway', cause, reason });
  }

  /** A response to the caller's INVITE, To tag = the caller dialog's (§12.1.1); Contact on 1xx/2xx. */
  respond(status: number, reason: string, o: { sdp?: string; headers?: ReadonlyArray<readonly [string, string]> } = {}): boolean {
    const req = this.setup.incoming.request;
    const res = makeResponse(req, status, reason, this.caller.dialog.localTag);
    res.headers.add('Server', this.ctx.product);
    if (status > 100 && status < 300) res.contact = [contactFor(this.caller.path)];
    if (status >= 200 && status < 300) {
      res.headers.add('Allow', this.ctx.allow);
      if (this.ctx.settings.sessionTimer.enabled) res.headers.add('Supported', 'timer');
    }
    for (const [n, v] of o.headers ?? []) res.headers.add(n, v);
    if (status === 503) res.headers.add('Retry-After', String(this.ctx.settings.limits.retryAfterSec));
    if (o.sdp !== undefined) {
      res.headers.add('Content-Type', 'application/sdp');
      res.body = Buffer.from(o.sdp);
    }
    if (this.reliable !== undefined) {
      if (status > 100 && status < 200) return this.reliable.provisional(res);
      if (status >= 200) this.reliable.close();
    }
    return (this.setup.incoming.tx as InviteServerTransaction).respond(res);
  }

  /** Session timer callbacks of a leg (RFC 4028 §10): refresh, or end the call as dead. */
  timerCallbacks(leg: () => Leg): { onRefresh: () => void; onExpire: () => void } {
    return {
      onRefresh: () => refreshSession(this, leg()),
      onExpire: () => this.end({ status: 200, endedBy: 'gateway', cause: 'session-timer', reason: 'SIP;cause=408;text="Session timer expired"' }),
    };
  }
}
