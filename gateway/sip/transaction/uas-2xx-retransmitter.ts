/**
 * 2xx retransmission by the UAS core until the ACK arrives (RFC 3261 §13.3.1.4, RFC 6026 §7.1).
 *
 * The INVITE server transaction sends a 2xx once and moves to Accepted; reliability of the 2xx
 * is end-to-end, so the UAS core re-sends it at T1, 2T1, 4T1 ... capped at T2 (Timer G's schedule),
 * stops at the ACK, and gives up after 64*T1: then "the dialog is confirmed, but the session
 * SHOULD be terminated" (a BYE, which is the TU's job: onAckTimeout).
 *
 * On reliable transports the re-sends are off by default, as in most stacks: the hop cannot lose
 * the message, and an element on an unreliable hop further on retransmits for itself only when it
 * is a UAS. `retransmitOverReliable` restores the literal §13.3.1.4 behaviour (transport-agnostic).
 * The 64*T1 ACK wait runs on every transport, so a missing ACK is always reported.
 */
import type { SipResponse } from '../message/message';
import { isReliable, TransportError, type SendTarget } from '../transport/types';
import type { Clock, TimerHandle } from './clock';
import type { TransactionTimers } from './timers';
import type { MessageSender } from './types';

/** A TU callback must not break the timer chain; its exception surfaces asynchronously instead. */
function guarded(callback: () => void): void {
  try {
    callback();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

export interface Uas2xxRetransmitterUser {
  /** 64*T1 passed without an ACK (§13.3.1.4): the TU SHOULD end the session with a BYE. */
  onAckTimeout?(response: SipResponse): void;
  /** A re-send failed; retransmission goes on until the ACK or the give-up. */
  onTransportError?(error: TransportError, response: SipResponse): void;
}

export interface Uas2xxRetransmitterOptions {
  /** Re-send on TCP/TLS too (literal §13.3.1.4). Default false. */
  retransmitOverReliable?: boolean;
  /** Called once when the retransmitter stops for any reason (ACK, give-up, stop()). */
  onDone?(retransmitter: Uas2xxRetransmitter): void;
}

export class Uas2xxRetransmitter {
  private resendTimer: TimerHandle | undefined;
  private giveUpTimer: TimerHandle | undefined;
  private running = false;
  private done = false;
  private sent = 0;

  constructor(
    private readonly clock: Clock,
    private readonly timers: TransactionTimers,
    private readonly sender: MessageSender,
    /** The 2xx already sent once by the INVITE server transaction. */
    readonly response: SipResponse,
    readonly target: SendTarget,
    private readonly user: Uas2xxRetransmitterUser = {},
    private readonly options: Uas2xxRetransmitterOptions = {},
  ) {}

  /** Whether it is still waiting for the ACK. */
  get active(): boolean {
    return this.running;
  }

  /** How many times the 2xx was re-sent. */
  get retransmissions(): number {
    return this.sent;
  }

  /** Arms the re-send schedule (unless disabled for a reliable target) and the 64*T1 give-up. */
  start(): void {
    if (this.running || this.done) return;
    this.running = true;
    if (!isReliable(this.target.protocol) || this.options.retransmitOverReliable === true) {
      this.armResend(this.timers.timerG);
    }
    this.giveUpTimer = this.clock.setTimer(() => {
      this.giveUpTimer = undefined;
      if (!this.running) return;
      this.finish();
      guarded(() => this.user.onAckTimeout?.(this.response));
    }, this.timers.t1x64);
  }

  /** The ACK for this 2xx arrived: retransmissions cease (§13.3.1.4). */
  acknowledge(): void {
    this.finish();
  }

  /** Stops without telling the TU (shutdown, or the TU ended the dialog). */
  stop(): void {
    this.finish();
  }

  private armResend(interval: number): void {
    this.resendTimer = this.clock.setTimer(() => {
      this.resendTimer = undefined;
      if (!this.running) return;
      this.sent++;
      this.resend();
      this.armResend(this.timers.nextTimerG(interval));
    }, interval);
  }

  private resend(): void {
    let sending: Promise<void>;
    try {
      sending = this.sender.send(this.response, this.target);
    } catch (error) {
      sending = Promise.reject(error);
    }
    sending.then(undefined, (error: unknown) => {
      const failure =
        error instanceof TransportError
          ? error
          : new TransportError(error instanceof Error ? error.message : 'send failed', this.target);
      guarded(() => this.user.onTransportError?.(failure, this.response));
    });
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.running = false;
    if (this.resendTimer !== undefined) this.clock.clearTimer(this.resendTimer);
    if (this.giveUpTimer !== undefined) this.clock.clearTimer(this.giveUpTimer);
    this.resendTimer = undefined;
    this.giveUpTimer = undefined;
    this.options.onDone?.(this);
  }
}
