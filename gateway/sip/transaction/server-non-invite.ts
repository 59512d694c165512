/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2).
 *
 *   Trying --1xx from TU--> Proceeding --200-699 from TU--> Completed --Timer J--> Terminated
 *   Trying --200-699 from TU--> Completed
 *
 * No automatic 100 Trying: RFC 4320 §4.1 says a non-INVITE 100 only helps once the client's Timer E
 * has reached T2, which is the TU's call to make.
 */
import type { SipMessage, SipRequest, SipResponse } from '../message/message';
import type { SendTarget, TransportError } from '../transport/types';
import { TransactionError } from './errors';
import { isProvisional, Transaction } from './transaction';
import type { TransactionContext, TransactionUser } from './types';

export type NonInviteServerTransactionUser = TransactionUser;

export class NonInviteServerTransaction extends Transaction<NonInviteServerTransactionUser> {
  get kind(): 'nist' {
    return 'nist';
  }

  private lastProvisional: SipResponse | undefined;
  private final: SipResponse | undefined;

  constructor(ctx: TransactionContext, request: SipRequest, target: SendTarget, user: NonInviteServerTransactionUser) {
    super(ctx, request, target, user, 'Trying');
  }

  /** The final response sent, if any. */
  get finalResponse(): SipResponse | undefined {
    return this.final;
  }

  /**
   * A response from the TU (§17.2.2). Returns false, sending nothing, once a final response was
   * sent ("any other final responses ... MUST be discarded while in the Completed state").
   * Throws TransactionError for a status outside 100-699.
   */
  respond(response: SipResponse): boolean {
    if (!Number.isInteger(response.status) || response.status < 100 || response.status > 699) {
      throw new TransactionError(`status ${response.status} is not a SIP status code`);
    }
    if (this.state !== 'Trying' && this.state !== 'Proceeding') return false;
    this.transmit(response);
    if (isProvisional(response)) {
      this.lastProvisional = response;
      this.setState('Proceeding');
      return true;
    }
    this.final = response;
    this.setState('Completed');
    this.terminateAfter('J', this.ctx.timers.timerJ(this.reliable));
    return true;
  }

  /** A retransmission of the request (§17.2.2). */
  receiveRequest(_retransmission: SipRequest): void {
    if (this.state === 'Proceeding' && this.lastProvisional !== undefined) this.transmit(this.lastProvisional);
    else if (this.state === 'Completed' && this.final !== undefined) this.transmit(this.final);
    // Trying: "any further request retransmissions are discarded" (§17.2.2).
  }

  /** RFC 6026 §8.8 (updating §17.2.4): tell the TU (done by the base class) and stay in the current state. */
  protected override onTransportFailure(_error: TransportError, _message: SipMessage): void {}
}
