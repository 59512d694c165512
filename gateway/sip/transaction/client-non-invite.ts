/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2).
 *
 *   Trying --1xx--> Proceeding --200-699--> Completed --Timer K--> Terminated
 *   Trying --200-699--> Completed
 *   Trying/Proceeding --Timer F / transport error--> Terminated   (TU gets a synthesized 408 / 503)
 */
import type { SipMessage, SipRequest, SipResponse } from '../message/message';
import type { SendTarget, TransportError } from '../transport/types';
import { TransactionStateError } from './errors';
import { isProvisional, synthesizeResponse, Transaction } from './transaction';
import type { TransactionContext, TransactionUser } from './types';

export interface NonInviteClientTransactionUser extends TransactionUser {
  /** Provisional responses, the first final response, or a synthesized 408 (Timer F) / 503 (transport error). */
  onResponse(response: SipResponse, tx: NonInviteClientTransaction): void;
}

export class NonInviteClientTransaction extends Transaction<NonInviteClientTransactionUser> {
  get kind(): 'nict' {
    return 'nict';
  }

  private started = false;

  constructor(ctx: TransactionContext, request: SipRequest, target: SendTarget, user: NonInviteClientTransactionUser) {
    super(ctx, request, target, user, 'Trying');
  }

  /** Sends the request and arms Timer E (unreliable transports only) and Timer F (§17.1.2.2). */
  start(): void {
    if (this.started) throw new TransactionStateError(this.id, this.state, 'start');
    this.started = true;
    const timers = this.ctx.timers;
    this.transmit(this.request);
    if (!this.reliable) this.armTimerE(timers.timerE);
    this.startTimer('F', timers.timerF, () => this.timerFFired());
  }

  /** A response matched to this transaction by the layer (§17.1.3). */
  receiveResponse(response: SipResponse): void {
    if (this.state !== 'Trying' && this.state !== 'Proceeding') return; // Completed absorbs retransmissions
    if (isProvisional(response)) {
      this.setState('Proceeding');
      this.deliver(response);
      return;
    }
    this.stopTimer('E', 'F');
    this.setState('Completed');
    this.deliver(response);
    this.terminateAfter('K', this.ctx.timers.timerK(this.reliable));
  }

  protected override onTransportFailure(_error: TransportError, _message: SipMessage): void {
    if (this.state !== 'Trying' && this.state !== 'Proceeding') return;
    // §17.1.2.2 + §8.1.3.1: the TU sees the failure as a 503.
    this.setState('Terminated');
    this.deliver(synthesizeResponse(this.request, 503, 'Service Unavailable'));
  }

  /** Timer E: Trying doubles the interval up to T2, Proceeding retransmits every T2 (§17.1.2.2). */
  private armTimerE(interval: number): void {
    this.startTimer('E', interval, () => {
      if (this.state !== 'Trying' && this.state !== 'Proceeding') return;
      this.transmit(this.request);
      this.armTimerE(this.ctx.timers.nextTimerE(interval, this.state === 'Proceeding'));
    });
  }

  /** Timer F: §17.1.2.2 "the client transaction SHOULD inform the TU about the timeout". */
  private timerFFired(): void {
    if (this.state !== 'Trying' && this.state !== 'Proceeding') return;
    this.setState('Terminated');
    this.deliver(synthesizeResponse(this.request, 408, 'Request Timeout'));
  }

  private deliver(response: SipResponse): void {
    this.notify(() => this.user.onResponse(response, this));
  }
}
