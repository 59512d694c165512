/**
 * INVITE client transaction (RFC 3261 §17.1.1, as updated by RFC 6026 §7.2 and §8.4).
 *
 *   Calling --1xx--> Proceeding --300-699 / ACK--> Completed --Timer D--> Terminated
 *      |                 |
 *      +------2xx--------+--> Accepted --Timer M--> Terminated   (every 2xx goes up to the TU)
 *   Calling --Timer B / transport error--> Terminated            (TU gets a synthesized 408 / 503)
 */
import { HeaderList, SipRequest, type SipMessage, type SipResponse } from '../message/message';
import type { TransportError, SendTarget } from '../transport/types';
import { isProvisional, isSuccess, synthesizeResponse, Transaction } from './transaction';
import { TransactionStateError } from './errors';
import type { TransactionContext, TransactionUser } from './types';

export interface InviteClientTransactionUser extends TransactionUser {
  /**
   * Provisional responses, EVERY 2xx (retransmissions and forks included: the UAC core ACKs them,
   * RFC 6026 §8.4), the first 300-699, and synthesized 408 (Timer B, Timer C) / 503 (transport error).
   */
  onResponse(response: SipResponse, tx: InviteClientTransaction): void;
}

/**
 * The ACK for a non-2xx final response (RFC 3261 §17.1.1.3): same Request-URI, Call-ID, From,
 * CSeq number and single top Via as the INVITE, the To of the response, the INVITE's Route set.
 */
export function ackForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  const headers = new HeaderList();
  for (const route of invite.headers.getAll('Route')) headers.add('Route', route);
  const topVia = invite.via[0];
  return new SipRequest({
    method: 'ACK',
    uri: invite.uri,
    via: topVia === undefined ? [] : [{ ...topVia, params: new Map(topVia.params) }],
    from: invite.from,
    to: { ...response.to, params: new Map(response.to.params) },
    callId: invite.callId,
    cseq: { seq: invite.cseq.seq, method: 'ACK' },
    maxForwards: 70,
    headers,
  });
}

export class InviteClientTransaction extends Transaction<InviteClientTransactionUser> {
  get kind(): 'ict' {
    return 'ict';
  }

  private started = false;
  /** Built on the first 300-699, re-sent for each retransmission of it (§17.1.1.2). */
  private ack: SipRequest | undefined;
  /** A CANCEL asked for before any provisional arrived (§9.1: it must wait for one). */
  private pendingCancel: (() => void) | undefined;
  private cancelRequested = false;
  /** Timer C fired: the TU has its 408; a late final is ACKed here but a non-2xx is not passed up. */
  private abandoned = false;

  constructor(ctx: TransactionContext, request: SipRequest, target: SendTarget, user: InviteClientTransactionUser) {
    super(ctx, request, target, user, 'Calling');
  }

  /** Sends the INVITE and arms Timer A (unreliable transports only) and Timer B (§17.1.1.2). */
  start(): void {
    if (this.started) throw new TransactionStateError(this.id, this.state, 'start');
    this.started = true;
    const timers = this.ctx.timers;
    this.transmit(this.request);
    if (!this.reliable) this.armTimerA(timers.timerA);
    this.startTimer('B', timers.timerB, () => this.timerBFired());
  }

  /**
   * Asks for `sendCancel` to run once a CANCEL may be sent (RFC 3261 §9.1): now in Proceeding,
   * after the first provisional in Calling; only the first call counts. Returns false when the INVITE already has a final
   * response (or the transaction ended): nothing is left to cancel.
   */
  requestCancel(sendCancel: () => void): boolean {
    if (this.cancelRequested) return this.state === 'Calling' || this.state === 'Proceeding';
    if (this.state === 'Proceeding') {
      this.cancelRequested = true;
      sendCancel();
      return true;
    }
    if (this.state === 'Calling') {
      this.cancelRequested = true;
      this.pendingCancel = sendCancel;
      return true;
    }
    return false;
  }

  /** A response matched to this transaction by the layer (§17.1.3). */
  receiveResponse(response: SipResponse): void {
    switch (this.state) {
      case 'Calling':
      case 'Proceeding':
        if (isProvisional(response)) this.provisional(response);
        else if (isSuccess(response)) this.accepted(response);
        else this.rejected(response);
        return;
      case 'Accepted':
        // RFC 6026 §8.4: 2xx retransmissions and 2xx from other forks go up; no ACK from here.
        if (isSuccess(response)) this.deliver(response);
        return;
      case 'Completed':
        // §17.1.1.2: a retransmitted final response gets the ACK again and is not passed up.
        if (response.status >= 300 && this.ack !== undefined) this.transmit(this.ack);
        return;
      default:
        return;
    }
  }

  protected override onTransportFailure(_error: TransportError, message: SipMessage): void {
    if (this.state === 'Calling' && message === this.request) {
      // §17.1.1.2 + §8.1.3.1: the TU sees the failure as a 503.
      this.setState('Terminated');
      this.deliver(synthesizeResponse(this.request, 503, 'Service Unavailable'));
    } else if (this.state === 'Completed') {
      // The ACK could not be sent: nothing more this transaction can do.
      this.setState('Terminated');
    }
  }

  private armTimerA(interval: number): void {
    this.startTimer('A', interval, () => {
      if (this.state !== 'Calling') return;
      this.transmit(this.request);
      this.armTimerA(this.ctx.timers.nextTimerA(interval));
    });
  }

  /** Timer B: §17.1.1.2 "inform the TU that a timeout has occurred"; no ACK is generated. */
  private timerBFired(): void {
    if (this.state !== 'Calling') return;
    this.setState('Terminated');
    this.deliver(synthesizeResponse(this.request, 408, 'Request Timeout'));
  }

  private provisional(response: SipResponse): void {
    if (this.abandoned) return;
    this.stopTimer('A', 'B');
    this.setState('Proceeding');
    this.armTimerC();
    this.deliver(response);
    const cancel = this.pendingCancel;
    this.pendingCancel = undefined;
    if (cancel !== undefined && this.state === 'Proceeding') cancel();
  }

  private accepted(response: SipResponse): void {
    this.stopTimer('A', 'B', 'C');
    this.pendingCancel = undefined;
    this.setState('Accepted');
    this.startTimer('M', this.ctx.timers.timerM, () => this.setState('Terminated'));
    this.deliver(response);
  }

  private rejected(response: SipResponse): void {
    this.stopTimer('A', 'B', 'C');
    this.pendingCancel = undefined;
    this.ack = ackForNon2xx(this.request, response);
    this.transmit(this.ack);
    this.setState('Completed');
    if (!this.abandoned) this.deliver(response);
    this.terminateAfter('D', this.ctx.timers.timerD(this.reliable));
  }

  /**
   * Timer C (re-armed by each provisional): the peer went silent after a provisional. The TU gets a
   * 408 and should send a CANCEL; the transaction waits 64*T1 more (§9.1) to ACK a late final.
   */
  private armTimerC(): void {
    const timerC = this.ctx.timers.timerC;
    if (timerC <= 0) return;
    this.startTimer('C', timerC, () => {
      if (this.state !== 'Proceeding') return;
      this.abandoned = true;
      this.startTimer('C', this.ctx.timers.t1x64, () => this.setState('Terminated'));
      this.deliver(synthesizeResponse(this.request, 408, 'Request Timeout'));
    });
  }

  private deliver(response: SipResponse): void {
    this.notify(() => this.user.onResponse(response, this));
  }
}
