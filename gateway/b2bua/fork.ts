/**
 * One outgoing INVITE of a call (RFC 3261 §13.2): to one device of the callee (parallel forking,
 * §16.6 done by the B2BUA itself) or to one trunk (serial failover). Each fork is a dialog of its
 * own to be: a fresh Call-ID, From tag and CSeq.
 *
 * The fork retries by itself where the RFCs say the UAC does: once after 422 Session Interval Too
 * Small with the peer's Min-SE (RFC 4028 §7.3), and once after a trunk's 401/407 with the trunk's
 * credentials (§22.2). It PRACKs reliable provisionals (RFC 3262 §4). Everything else goes to the
 * Call: provisionals, the 2xx (and its retransmissions, which need the ACK again, §13.2.2.4), and
 * the final refusal.
 */
import { randomInt } from 'node:crypto';
import { contactTarget, Dialog } from '../sip/dialog/dialog';
import { parseMinSe } from '../sip/dialog/session-timer';
import { HeaderList, SipRequest, type SipResponse } from '../sip/message/message';
import type { NameAddr, Uri } from '../sip/message/types';
import type { InviteClientTransaction } from '../sip/transaction/client-invite';
import { newCallId, newTag } from '../sip/transaction/ids';
import { synthesizeResponse } from '../sip/transaction/transaction';
import type { Trunk } from '../trunk/types';
import type { SessionTimerCallbacks } from '../sip/dialog/session-timer';
import { contactFor, Leg, viaFor, type LegContext } from './leg';
import { requires100rel } from './reliable';
import type { LegPath, LegPeer } from './types';

/** Early dialogs one fork keeps PRACKing in (a device or trunk makes one, a forking proxy a few). */
const MAX_EARLY_DIALOGS = 16;

/** What the INVITE says besides what each fork decides (Call-ID, tags, Via, Contact). */
export interface InviteSpec {
  readonly requestUri: Uri;
  /** From without tag. */
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly sdp: string | undefined;
  readonly maxForwards: number;
}

export interface ForkUser {
  /** 101-199 from the fork (100 is hop-by-hop and not passed). */
  onProvisional(fork: Fork, response: SipResponse): void;
  /** The fork's first 2xx, or a 2xx of a second dialog (`fork.answered` already true). */
  onSuccess(fork: Fork, response: SipResponse): void;
  /** A 2xx retransmission of the dialog already answered: the ACK must go again. */
  onRetransmission(fork: Fork, response: SipResponse): void;
  /** The final non-2xx (after the fork's own retries). */
  onFailure(fork: Fork, response: SipResponse): void;
  /**
   * A fresh SDP offer for a retry of this fork's INVITE, so that no key offered in a refused INVITE
   * is offered again (RFC 4568 §6.1); null: the call is over, do not retry.
   */
  reoffer(fork: Fork): Promise<string | null>;
}

export type ForkState = 'calling' | 'proceeding' | 'answered' | 'failed';

export class Fork {
  state: ForkState = 'calling';
  /** The INVITE sent last (a retry replaces it). */
  invite: SipRequest;
  /** The dialog of the 2xx that answered this fork. */
  dialog: Dialog | undefined;
  private ict: InviteClientTransaction | undefined;
  private cancelled = false;
  private retriedTimer = false;
  private retriedAuth = false;
  /** Early dialogs that sent reliable 18x (RFC 3262 §4), by remote tag: the leg PRACKs go on, the last RSeq. */
  private readonly early = new Map<string, { readonly leg: Leg; rseq: number | undefined }>();

  constructor(
    /** The media engine's tag for this fork's leg. */
    readonly tag: string,
    readonly peer: LegPeer,
    readonly path: LegPath,
    spec: InviteSpec,
    private readonly ctx: LegContext,
    private readonly user: ForkUser,
  ) {
    this.invite = this.build(spec);
  }

  get trunk(): Trunk | undefined {
    return this.peer.kind === 'trunk' ? this.peer.trunk : undefined;
  }

  get pending(): boolean {
    return this.state === 'calling' || this.state === 'proceeding';
  }

  start(): void {
    if (this.trunk !== undefined) this.ctx.trunks?.authorize(this.trunk, this.invite);
    this.send(this.invite);
  }

  /** CANCEL (§9.1): sent once a provisional arrived; the fork then ends with 487 (or a 2xx to ACK and BYE). */
  cancel(): void {
    this.cancelled = true;
    if (this.ict !== undefined && this.pending) this.ctx.transactions.cancel(this.ict);
  }

  /** The leg this fork's dialog becomes once it answered. */
  toLeg(ctx: LegContext, timer: SessionTimerCallbacks, dialog: Dialog = this.dialog!): Leg {
    return new Leg(this.tag, 'callee', this.peer, dialog, { ...this.path }, ctx, timer, this.invite);
  }

  private build(spec: InviteSpec): SipRequest {
    const headers = new HeaderList();
    for (const [n, v] of spec.headers) headers.add(n, v);
    if (spec.sdp !== undefined) headers.add('Content-Type', 'application/sdp');
    return new SipRequest({
      method: 'INVITE',
      uri: spec.requestUri,
      via: [viaFor(this.path)],
      from: { ...spec.from, params: new Map([...spec.from.params, ['tag', newTag()]]) },
      to: spec.to,
      callId: newCallId(),
      // A first CSeq that says nothing about the gateway (§8.1.1.5 only asks for < 2**31).
      cseq: { seq: randomInt(1, 1 << 16), method: 'INVITE' },
      maxForwards: spec.maxForwards,
      contact: [contactFor(this.path)],
      headers,
      ...(spec.sdp !== undefined && { body: Buffer.from(spec.sdp) }),
    });
  }

  private send(invite: SipRequest): void {
    this.invite = invite;
    try {
      this.ict = this.ctx.transactions.sendInvite(invite, this.path.hop, { onResponse: (res) => this.receive(res) });
    } catch {
      this.finish(synthesizeResponse(invite, 503, 'Service Unavailable'));
    }
  }

  private receive(res: SipResponse): void {
    if (res.status < 200) {
      if (res.status === 100 || !this.pending) return;
      if (!this.acknowledge(res)) return;
      this.state = 'proceeding';
      this.user.onProvisional(this, res);
      return;
    }
    if (res.status < 300) {
      if (this.state === 'answered') {
        if (this.dialog !== undefined && res.to.params.get('tag') === this.dialog.remoteTag) this.user.onRetransmission(this, res);
        else this.user.onSuccess(this, res);
        return;
      }
      this.state = 'answered';
      this.dialog = dialogOf(this.invite, res, this.path.protocol === 'TLS');
      // The PRACKs of the early dialog used CSeq numbers of this dialog (RFC 3262 §4, §12.2.1.1).
      const early = this.early.get(this.dialog.remoteTag);
      if (early !== undefined) this.dialog.localSeq = Math.max(this.dialog.localSeq, early.leg.dialog.localSeq);
      this.user.onSuccess(this, res);
      return;
    }
    if (!this.pending) return;
    const retry = this.cancelled ? undefined : this.retryFor(res);
    if (retry === undefined) return this.finish(res);
    void this.freshOffer().then((body) => {
      const next = body === null || this.cancelled ? undefined : retry(this.invite);
      if (next === undefined) return this.finish(res);
      if (body) next.body = body;
      this.send(next);
    });
  }

  /**
   * RFC 3262 §4: a reliable 18x (Require: 100rel, RSeq) gets a PRACK in its early dialog, and is
   * passed on; its retransmissions, and any whose RSeq is not the next of its dialog, are dropped.
   * An ordinary 18x is passed on as it is. False: drop the response.
   */
  private acknowledge(res: SipResponse): boolean {
    const rseqText = res.headers.get('RSeq');
    if (!requires100rel(res) || rseqText === undefined || !/^\d{1,10}$/.test(rseqText.trim())) return true;
    const rseq = Number(rseqText.trim());
    const tag = res.to.params.get('tag');
    if (typeof tag !== 'string' || tag === '' || rseq < 1 || rseq >= 2 ** 31) return true;
    let early = this.early.get(tag);
    if (early === undefined) {
      // Each To tag is a dialog of its own (§12.1): a callee that makes up more is not PRACKed.
      if (this.early.size >= MAX_EARLY_DIALOGS) return false;
      let dialog: Dialog;
      try {
        dialog = Dialog.asUac(this.invite, res, { overTls: this.path.protocol === 'TLS' });
      } catch {
        return true; // no usable Contact: no early dialog to PRACK in
      }
      early = { leg: this.toLeg(this.ctx, { onRefresh: () => undefined, onExpire: () => undefined }, dialog), rseq: undefined };
      this.early.set(tag, early);
    }
    if (early.rseq !== undefined && rseq !== early.rseq + 1) return false;
    early.rseq = rseq;
    const prack = early.leg.createRequest('PRACK', { headers: [['RAck', `${rseq} ${this.invite.cseq.seq} INVITE`]] });
    void early.leg.sendNonInvite(prack);
    return true;
  }

  /**
   * RFC 4028 §7.3 (422) and §22.2 (a trunk's 401/407): how to build the INVITE again (CSeq+1, new
   * branch) from the last one, or undefined when this response is not retried.
   */
  private retryFor(res: SipResponse): ((invite: SipRequest) => SipRequest | undefined) | undefined {
    if (res.status === 422 && !this.retriedTimer) {
      this.retriedTimer = true;
      const minSe = res.headers.get('Min-SE');
      let value: number;
      try {
        value = minSe === undefined ? NaN : parseMinSe(minSe);
      } catch {
        return undefined;
      }
      if (!Number.isFinite(value)) return undefined;
      return (invite) => {
        const next = copyInvite(invite);
        next.headers.set('Session-Expires', String(value));
        next.headers.set('Min-SE', String(value));
        return next;
      };
    }
    const trunk = this.trunk;
    const trunks = this.ctx.trunks;
    if ((res.status === 401 || res.status === 407) && trunk !== undefined && !this.retriedAuth && trunks !== undefined) {
      this.retriedAuth = true;
      return (invite) => trunks.answerChallenge(trunk, invite, res);
    }
    return undefined;
  }

  /**
   * The body of the retry: a fresh offer (undefined: a delayed offer, no body to renew; null: give
   * up). Only qop=auth digests are answered (digest/client.ts), so the body may change after the
   * credentials were computed.
   */
  private async freshOffer(): Promise<Buffer | undefined | null> {
    if (this.invite.body.length === 0) return undefined;
    const sdp = await this.user.reoffer(this).catch(() => null);
    return sdp === null ? null : Buffer.from(sdp);
  }

  private finish(res: SipResponse): void {
    this.state = 'failed';
    this.user.onFailure(this, res);
  }
}

/** The INVITE again with CSeq+1 and no branch (the layer makes one): same Call-ID and tags (§8.1.3.5). */
function copyInvite(invite: SipRequest): SipRequest {
  const via = invite.via[0]!;
  const params = new Map(via.params);
  params.delete('branch');
  return new SipRequest({
    method: 'INVITE',
    uri: invite.uri,
    via: [{ ...via, params }],
    from: invite.from,
    to: invite.to,
    callId: invite.callId,
    cseq: { seq: invite.cseq.seq + 1, method: 'INVITE' },
    maxForwards: invite.maxForwards,
    ...(invite.contact !== undefined && { contact: invite.contact }),
    headers: invite.headers.clone(),
    body: invite.body,
  });
}

/**
 * The UAC dialog of a 2xx (§12.1.2). A 2xx without a usable Contact still has to be ACKed and
 * ended: its dialog then targets the Request-URI the INVITE went to.
 */
export function dialogOf(invite: SipRequest, res: SipResponse, overTls: boolean): Dialog {
  try {
    return Dialog.asUac(invite, res, { overTls });
  } catch {
    const toParams = new Map(res.to.params);
    toParams.delete('tag');
    return new Dialog({
      role: 'uac',
      callId: invite.callId,
      localTag: String(invite.from.params.get('tag') ?? ''),
      remoteTag: String(res.to.params.get('tag') ?? ''),
      localUri: { ...invite.from, params: new Map([...invite.from.params].filter(([k]) => k !== 'tag')) },
      remoteUri: { ...res.to, params: toParams },
      remoteTarget: contactTarget(res) ?? invite.uri,
      routeSet: [],
      localSeq: invite.cseq.seq,
      remoteSeq: undefined,
      secure: false,
      state: 'confirmed',
    });
  }
}
