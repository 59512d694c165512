/**
 * The implicit subscription a REFER creates (RFC 3515 §2.4.4, RFC 6665): the gateway tells the
 * transferor how the new call goes with NOTIFYs in the transferor's dialog, Event `refer` with the
 * REFER's CSeq as id (§2.4.6), a message/sipfrag body (RFC 3420) holding the status line of the
 * new INVITE: "SIP/2.0 100 Trying" at once, then the final one, which terminates the subscription
 * (Subscription-State: terminated;reason=noresource, RFC 6665 §4.1.3).
 *
 * The status line is ours, never the target's: its reason phrase is RFC 3261's for the status, as
 * for every final response the gateway relays (failure.ts). NOTIFYs leave one at a time, in order;
 * none is sent once the transferor's dialog is over (it hung up: nobody listens any more).
 */
import type { SipResponse } from '../sip/message/message';
import { reasonPhrase } from './failure';
import { contactFor, type Leg } from './leg';

/** RFC 3420 §2: a sipfrag of a status line only. */
export function sipfrag(status: number): string {
  return `SIP/2.0 ${status} ${status === 100 ? 'Trying' : reasonPhrase(status)}\r\n`;
}

export class ReferSubscription {
  private chain: Promise<unknown> = Promise.resolve();
  private terminated = false;

  constructor(
    private readonly leg: Leg,
    /** CSeq number of the REFER: the subscription's id (RFC 3515 §2.4.6). */
    private readonly referSeq: number,
    /** Seconds announced in Subscription-State while active (the transfer ends well before). */
    private readonly expiresSec: number,
  ) {}

  /** Whether NOTIFYs can still be sent (the subscription and the transferor's dialog are alive). */
  get open(): boolean {
    return !this.terminated && this.leg.dialog.state !== 'terminated';
  }

  /** "SIP/2.0 100 Trying": the new INVITE left. */
  trying(): Promise<SipResponse | undefined> {
    return this.notify(100, false);
  }

  /** The final status of the transfer; the subscription ends. Resolves when the NOTIFY was answered. */
  final(status: number): Promise<SipResponse | undefined> {
    const sent = this.notify(status, true);
    this.terminated = true;
    return sent;
  }

  private notify(status: number, last: boolean): Promise<SipResponse | undefined> {
    if (!this.open) return Promise.resolve(undefined);
    const send = (): Promise<SipResponse | undefined> => {
      if (this.leg.dialog.state === 'terminated') return Promise.resolve(undefined);
      const request = this.leg.createRequest('NOTIFY', {
        headers: [
          ['Event', `refer;id=${this.referSeq}`],
          ['Subscription-State', last ? 'terminated;reason=noresource' : `active;expires=${this.expiresSec}`],
        ],
        body: Buffer.from(sipfrag(status)),
        contentType: 'message/sipfrag;version=2.0',
      });
      // RFC 6665 §4.1.3: a NOTIFY carries the notifier's Contact (it is a target refresh request).
      request.contact = [contactFor(this.leg.path)];
      return this.leg.sendNonInvite(request);
    };
    const next = this.chain.then(send, send);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
