/**
 * INVITE server transaction (RFC 3261 §17.2.1, as updated by RFC 6026 §7.1, §8.5-8.8).
 *
 *   Proceeding --300-699 from TU--> Completed --ACK--> Confirmed --Timer I--> Terminated
 *        |                              `--Timer H (no ACK)--> Terminated (TU told: onTimeout)
 *        `--2xx from TU--> Accepted --Timer L--> Terminated
 *
 * In Accepted, INVITE retransmissions are absorbed, further 2xx from the TU are sent, and ACKs
 * go up to the TU (RFC 6026 §7.1). Retransmitting the 2xx itself is the UAS core's duty
 * (§13.3.1.4); the layer does it with a Uas2xxRetransmitter, started through `onAccepted`.
 *
 * 100 Trying: sent `trying100DelayMs` after the INVITE unless the TU has sent a provisional or
 * final response by then (§17.2.1 "if the TU will not generate a provisional or final response
 * within 200 ms"). The default is the RFC's 200 ms: an INVITE answered at once (a 401/407
 * challenge, a 486) then costs one message instead of two. An INVITE retransmission received
 * before that sends the 100 at once: the client is already waiting. 0 sends it immediately.
 */
import { makeResponse, type SipMessage, type SipRequest, type SipResponse } from '../message/message';
import type { SendTarget, TransportError } from '../transport/types';
import { TransactionError, TransactionStateError } from './errors';
import { newTag } from './ids';
import { isProvisional, isSuccess, Transaction } from './transaction';
import type { TransactionContext, TransactionUser } from './types';

export interface InviteServerTransactionUser extends TransactionUser {
  /** Timer H fired: the non-2xx final response was never ACKed (§17.2.1 "transaction failure"). */
  onTimeout?(tx: InviteServerTransaction): void;
}

export interface InviteServerTransactionOptions {
  /** Delay of the automatic 100 Trying, ms; 0 = at once. Default 200 (RFC 3261 §17.2.1). */
  trying100DelayMs?: number;
  /** Each 2xx the TU sends (the owner starts the §13.3.1.4 retransmission from here). */
  onAccepted?(tx: InviteServerTransaction, response: SipResponse): void;
}

/** What receiveAck did with an ACK, so the layer knows whether the TU must see it. */
export type AckDisposition = 'confirmed' | 'absorbed' | 'pass-to-tu';

export const DEFAULT_TRYING_100_DELAY_MS = 200;

export class InviteServerTransaction extends Transaction<InviteServerTransactionUser> {
  get kind(): 'ist' {
    return 'ist';
  }

  private lastProvisional: SipResponse | undefined;
  private final: SipResponse | undefined;
  private localTag: string | undefined;
  private started = false;

  constructor(
    ctx: TransactionContext,
    request: SipRequest,
    target: SendTarget,
    user: InviteServerTransactionUser,
    private readonly options: InviteServerTransactionOptions = {},
  ) {
    super(ctx, request, target, user, 'Proceeding');
  }

  /** The final response sent, if any. */
  get finalResponse(): SipResponse | undefined {
    return this.final;
  }

  /** The To tag this UAS answers with, once one is known (from a response or ensureToTag). */
  get toTag(): string | undefined {
    return this.localTag;
  }

  /**
   * The To tag for responses that must carry one (§8.2.6.2); the one of an earlier response when
   * there was one, so the 200 to a CANCEL and the 487 share it (§9.2).
   */
  ensureToTag(): string {
    this.localTag ??= newTag();
    return this.localTag;
  }

  /** Arms the delayed 100 Trying (or sends it now if the delay is 0). */
  start(): void {
    if (this.started) throw new TransactionStateError(this.id, this.state, 'start');
    this.started = true;
    const delay = this.options.trying100DelayMs ?? DEFAULT_TRYING_100_DELAY_MS;
    if (delay <= 0) this.sendTrying();
    else this.startTimer('Trying100', delay, () => {
      if (this.state === 'Proceeding' && this.lastProvisional === undefined) this.sendTrying();
    });
  }

  /**
   * A response from the TU (§17.2.1, RFC 6026 §8.5, §8.7). Returns false, sending nothing, when the
   * state does not take it (a second final response, anything after Terminated): like §17.2.2 for
   * non-INVITE, the transaction discards it. Throws TransactionError for a status outside 100-699.
   */
  respond(response: SipResponse): boolean {
    if (!Number.isInteger(response.status) || response.status < 100 || response.status > 699) {
      throw new TransactionError(`status ${response.status} is not a SIP status code`);
    }
    if (this.state === 'Accepted' && isSuccess(response)) {
      this.transmit(response);
      this.notifyAccepted(response);
      return true;
    }
    if (this.state !== 'Proceeding') return false;
    this.learnTag(response);
    this.stopTimer('Trying100');
    if (isProvisional(response)) {
      // Provisional responses are not retransmitted by the transaction (§17.2.1).
      this.lastProvisional = response;
      this.transmit(response);
      return true;
    }
    this.final = response;
    this.transmit(response);
    const timers = this.ctx.timers;
    if (isSuccess(response)) {
      this.setState('Accepted');
      this.startTimer('L', timers.timerL, () => this.setState('Terminated'));
      this.notifyAccepted(response);
      return true;
    }
    this.setState('Completed');
    if (!this.reliable) this.armTimerG(timers.timerG);
    this.startTimer('H', timers.timerH, () => this.timerHFired());
    return true;
  }

  /**
   * Answers 487 Request Terminated when the INVITE is still Proceeding (§9.2: what the UAS core
   * does when a CANCEL matched). Returns false if a final response was already sent.
   */
  respondCancelled(): boolean {
    if (this.state !== 'Proceeding') return false;
    this.respond(makeResponse(this.request, 487, 'Request Terminated', this.ensureToTag()));
    return true;
  }

  /** A retransmission of the INVITE (§17.2.1). */
  receiveInvite(_retransmission: SipRequest): void {
    switch (this.state) {
      case 'Proceeding':
        if (this.lastProvisional === undefined) this.sendTrying();
        else this.transmit(this.lastProvisional);
        return;
      case 'Completed':
        if (this.final !== undefined) this.transmit(this.final);
        return;
      default:
        return; // Confirmed, Accepted (RFC 6026 §7.1), Terminated: absorbed
    }
  }

  /** An ACK matched to this transaction (§17.2.1; RFC 6026 §7.1 for Accepted). */
  receiveAck(_ack: SipRequest): AckDisposition {
    if (this.state === 'Completed') {
      this.stopTimer('G', 'H');
      this.setState('Confirmed');
      this.terminateAfter('I', this.ctx.timers.timerI(this.reliable));
      return 'confirmed';
    }
    return this.state === 'Accepted' ? 'pass-to-tu' : 'absorbed';
  }

  /** RFC 6026 §8.8: tell the TU (done by the base class) and stay in the current state. */
  protected override onTransportFailure(_error: TransportError, _message: SipMessage): void {}

  private sendTrying(): void {
    const trying = makeResponse(this.request, 100, 'Trying');
    // §8.2.6.1: a Timestamp in the request is copied into the 100.
    for (const ts of this.request.headers.getAll('Timestamp')) trying.headers.add('Timestamp', ts);
    this.stopTimer('Trying100');
    this.lastProvisional = trying;
    this.transmit(trying);
  }

  /** Timer G: the final response again, interval doubling up to T2 (§17.2.1). */
  private armTimerG(interval: number): void {
    this.startTimer('G', interval, () => {
      if (this.state !== 'Completed' || this.final === undefined) return;
      this.transmit(this.final);
      this.armTimerG(this.ctx.timers.nextTimerG(interval));
    });
  }

  private timerHFired(): void {
    if (this.state !== 'Completed') return;
    this.setState('Terminated');
    this.notify(() => this.user.onTimeout?.(this));
  }

  private learnTag(response: SipResponse): void {
    if (this.localTag !== undefined || response.status === 100) return;
    const tag = response.to.params.get('tag');
    if (typeof tag === 'string' && tag !== '') this.localTag = tag;
  }

  private notifyAccepted(response: SipResponse): void {
    const hook = this.options.onAccepted;
    if (hook !== undefined) hook(this, response);
  }
}
