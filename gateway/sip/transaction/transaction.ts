/**
 * What the four transaction machines of RFC 3261 §17 share: state, named timers, sending with
 * transport-error reporting, and the hand-off to the owner when Terminated is reached.
 */
import { makeResponse, topBranch, type SipMessage, type SipRequest, type SipResponse } from '../message/message';
import { isReliable, TransportError, type SendTarget } from '../transport/types';
import type { TimerHandle } from './clock';
import type {
  TimerName,
  TransactionContext,
  TransactionKind,
  TransactionState,
  TransactionUser,
} from './types';

const localResponses = new WeakSet<SipResponse>();

/**
 * A response the transaction layer made up instead of receiving it: 408 on Timer B/C/F,
 * 503 on a transport error (RFC 3261 §8.1.3.1, §17.1.1.2, §17.1.2.2).
 */
export function synthesizeResponse(request: SipRequest, status: number, reason: string): SipResponse {
  const res = makeResponse(request, status, reason);
  localResponses.add(res);
  return res;
}

/** True for responses made by synthesizeResponse (the TU may want to log them differently). */
export function isLocalResponse(res: SipResponse): boolean {
  return localResponses.has(res);
}

function asTransportError(error: unknown, target: SendTarget): TransportError {
  if (error instanceof TransportError) return error;
  const message = error instanceof Error ? error.message : 'send failed';
  return new TransportError(message, target);
}

export abstract class Transaction<U extends TransactionUser = TransactionUser> {
  abstract get kind(): TransactionKind;
  /** Whether `target` is a reliable transport (RFC 3261 §18.2.1): retransmission timers are off. */
  readonly reliable: boolean;
  /** The TU. Server TUs usually set it when the layer hands them the request. */
  user: U;
  private current: TransactionState;
  private readonly armed = new Map<TimerName, TimerHandle>();

  protected constructor(
    protected readonly ctx: TransactionContext,
    /** The request that created the transaction. */
    readonly request: SipRequest,
    /** Where the request (client) or the responses (server) go. */
    readonly target: SendTarget,
    user: U,
    initial: TransactionState,
  ) {
    this.user = user;
    this.current = initial;
    this.reliable = isReliable(target.protocol);
  }

  /** For logs: the kind and the branch (or Call-ID/CSeq for RFC 2543 peers). Not a matching key. */
  get id(): string {
    return `${this.kind}:${topBranch(this.request) ?? `${this.request.callId}/${this.request.cseq.seq}`}`;
  }

  get state(): TransactionState {
    return this.current;
  }

  /** Armed timers by name, in arming order (diagnostics and tests). */
  get activeTimers(): TimerName[] {
    return [...this.armed.keys()];
  }

  /**
   * Ends the transaction now: timers cleared, owner told, no more sends. For shutdown, or for a
   * TU that abandons a transaction (RFC 3261 §9.1: a cancelled INVITE that never got a final response).
   */
  terminate(): void {
    this.setState('Terminated');
  }

  /** The subclass reaction to a failed send (after the TU's onTransportError). Not called once Terminated. */
  protected abstract onTransportFailure(error: TransportError, message: SipMessage): void;

  protected setState(next: TransactionState): void {
    const previous = this.current;
    if (previous === next || previous === 'Terminated') return;
    this.current = next;
    if (next === 'Terminated') {
      for (const handle of this.armed.values()) this.ctx.clock.clearTimer(handle);
      this.armed.clear();
      this.ctx.onTerminated?.(this);
    }
    this.notify(() => this.user.onStateChange?.(this, next, previous));
  }

  /** Arms (or re-arms) a named timer. Its callback never runs once the transaction is Terminated. */
  protected startTimer(name: TimerName, delayMs: number, fire: () => void): void {
    this.stopTimer(name);
    const handle = this.ctx.clock.setTimer(() => {
      this.armed.delete(name);
      if (this.current !== 'Terminated') fire();
    }, delayMs);
    this.armed.set(name, handle);
  }

  protected stopTimer(...names: TimerName[]): void {
    for (const name of names) {
      const handle = this.armed.get(name);
      if (handle === undefined) continue;
      this.ctx.clock.clearTimer(handle);
      this.armed.delete(name);
    }
  }

  /**
   * The "wait then Terminated" timers D, I, J, K: a value of 0 (reliable transports) means
   * Terminated at once, with no timer left armed.
   */
  protected terminateAfter(name: TimerName, delayMs: number): void {
    if (delayMs <= 0) this.setState('Terminated');
    else this.startTimer(name, delayMs, () => this.setState('Terminated'));
  }

  /** Hands a message to the sender; a rejection becomes onTransportError + onTransportFailure. */
  protected transmit(message: SipMessage): void {
    let sending: Promise<void>;
    try {
      sending = this.ctx.sender.send(message, this.target);
    } catch (error) {
      sending = Promise.reject(error);
    }
    sending.then(undefined, (error: unknown) => {
      const failure = asTransportError(error, this.target);
      this.notify(() => this.user.onTransportError?.(this, failure));
      if (this.current !== 'Terminated') this.onTransportFailure(failure, message);
    });
  }

  /** Runs a TU callback; its exceptions go to the owner, never into the state machine. */
  protected notify(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      const report = this.ctx.onUserError;
      if (report !== undefined) report(error, this);
      else queueMicrotask(() => {
        throw error;
      });
    }
  }
}

/** Responses to an INVITE or non-INVITE request, by class (RFC 3261 §7.2). */
export function isProvisional(res: SipResponse): boolean {
  return res.status >= 100 && res.status < 200;
}
export function isSuccess(res: SipResponse): boolean {
  return res.status >= 200 && res.status < 300;
}
