/**
 * Reliable provisional responses toward the caller (RFC 3262 §3, the UAS side), for a caller whose
 * INVITE says `Require: 100rel`. A caller that only says `Supported: 100rel` gets ordinary 18x
 * (§3 leaves the choice to the UAS). The other side, PRACKing a callee's reliable 18x (§4), is the
 * fork's (fork.ts); docs/DESIGN.md says why the two are not coupled.
 *
 * - Every 18x carries `Require: 100rel` and `RSeq`, starting from a random value below 2**31 and
 *   increasing by one (§3, §7.1).
 * - It is retransmitted at T1, 2·T1, 4·T1 … until its PRACK arrives; after 64·T1 without one the
 *   call is refused with a 5xx (§3).
 * - One at a time: a later 18x waits until the earlier one is acknowledged (§3).
 * - A 2xx waits for the PRACKs of reliable 18x that carried SDP (§3); other finals do not wait.
 * - A PRACK whose RAck (§7.2) names the outstanding response acknowledges it; any other gets 481.
 */
import { randomInt } from 'node:crypto';
import type { SipRequest, SipResponse } from '../sip/message/message';

/** Responses that may queue behind an unacknowledged one; more than a few means a callee gone wild. */
const MAX_QUEUED = 8;

export interface ReliableOptions {
  /** Sends one copy of a provisional on the INVITE server transaction; false when it is over. */
  send(res: SipResponse): boolean;
  /** 64·T1 passed without a PRACK (§3: reject the INVITE with a 5xx). */
  onGiveUp(): void;
  /** RFC 3261 T1, ms. */
  readonly t1Ms: number;
}

interface Outstanding {
  readonly res: SipResponse;
  readonly rseq: number;
  readonly withSdp: boolean;
  timer: NodeJS.Timeout | undefined;
  interval: number;
  elapsed: number;
}

/** Whether an INVITE requires reliable provisionals, or an 18x is one (RFC 3262 §4, §7.1: `Require: 100rel`). */
export function requires100rel(msg: SipRequest | SipResponse): boolean {
  return msg.headers.getAll('Require').some((v) => v.split(',').some((t) => t.trim().toLowerCase() === '100rel'));
}

export class ReliableProvisionals {
  private nextRseq = randomInt(1, 2 ** 31 - 1);
  private outstanding: Outstanding | undefined;
  private readonly queue: SipResponse[] = [];
  private readonly sdpWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly o: ReliableOptions,
    /** CSeq of the INVITE the provisionals answer (RAck's second field). */
    private readonly inviteSeq: number,
  ) {}

  /** Sends (or queues) `res`, a 101–199 response to the INVITE, as a reliable provisional. */
  provisional(res: SipResponse): boolean {
    if (this.closed) return false;
    if (this.outstanding !== undefined) {
      if (this.queue.length >= MAX_QUEUED) this.queue.shift(); // the oldest ringing news is the least worth keeping
      this.queue.push(res);
      return true;
    }
    return this.start(res);
  }

  /**
   * A PRACK: the response its RAck (§7.2: "response-num CSeq-num Method") acknowledges, or
   * undefined when it names none outstanding (the caller then answers 481).
   */
  prack(req: SipRequest): SipResponse | undefined {
    const out = this.outstanding;
    const rack = /^\s*(\d{1,10})\s+(\d{1,10})\s+([A-Za-z]+)\s*$/.exec(req.headers.get('RAck') ?? '');
    if (out === undefined || rack === null) return undefined;
    if (Number(rack[1]) !== out.rseq || Number(rack[2]) !== this.inviteSeq || rack[3] !== 'INVITE') return undefined;
    this.finish(out);
    const next = this.queue.shift();
    if (next !== undefined) this.start(next);
    return out.res;
  }

  /** Resolves once no reliable provisional with SDP waits for its PRACK (a 2xx may then go, §3). */
  sdpAcknowledged(): Promise<void> {
    if (!this.pendingSdp()) return Promise.resolve();
    return new Promise((resolve) => this.sdpWaiters.push(resolve));
  }

  /** A final response went out: nothing more to retransmit, nobody left to wait. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.outstanding !== undefined) this.finish(this.outstanding);
    this.queue.length = 0;
    this.release();
  }

  private start(res: SipResponse): boolean {
    const rseq = this.nextRseq++;
    res.headers.set('Require', '100rel');
    res.headers.set('RSeq', String(rseq));
    const out: Outstanding = { res, rseq, withSdp: res.body.length > 0, timer: undefined, interval: this.o.t1Ms, elapsed: 0 };
    this.outstanding = out;
    if (!this.o.send(res)) {
      this.close();
      return false;
    }
    this.arm(out);
    return true;
  }

  /** §3: retransmit at T1, doubling, until the PRACK; give up once 64·T1 has passed. */
  private arm(out: Outstanding): void {
    const wait = Math.min(out.interval, 64 * this.o.t1Ms - out.elapsed);
    out.timer = setTimeout(() => {
      if (this.outstanding !== out) return;
      out.elapsed += wait;
      if (out.elapsed >= 64 * this.o.t1Ms) {
        this.close();
        this.o.onGiveUp();
        return;
      }
      if (!this.o.send(out.res)) {
        this.close();
        return;
      }
      out.interval *= 2;
      this.arm(out);
    }, wait);
    out.timer.unref();
  }

  private finish(out: Outstanding): void {
    if (out.timer !== undefined) clearTimeout(out.timer);
    this.outstanding = undefined;
    if (!this.pendingSdp()) this.release();
  }

  private pendingSdp(): boolean {
    return this.outstanding?.withSdp === true || this.queue.some((r) => r.body.length > 0);
  }

  private release(): void {
    for (const w of this.sdpWaiters.splice(0)) w();
  }
}
