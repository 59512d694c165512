/**
 * A Leg: one side of a Call, a dialog of its own (RFC 3261 §12) with the gateway as one end. The
 * caller's leg is the gateway as UAS, the callee's the gateway as UAC; each has its own Call-ID,
 * tags, CSeq, Contact and Via, so nothing of one leg's routing reaches the other.
 *
 * The leg builds and sends requests inside its dialog (BYE, re-INVITE, UPDATE, INFO, the ACK for a
 * 2xx) over its path: a device's own TLS flow (RFC 5626 §5.3: baresip cannot accept a connection)
 * or the trunk's address, with the trunk's credentials when the PBX challenges (trunk/types.ts).
 */
import type { Logger } from '../log/logger';
import { Dialog } from '../sip/dialog/dialog';
import { SessionTimer, type SessionTimerCallbacks } from '../sip/dialog/session-timer';
import type { SipRequest, SipResponse } from '../sip/message/message';
import type { NameAddr, Params, Via } from '../sip/message/types';
import type { InviteClientTransaction } from '../sip/transaction/client-invite';
import type { TransactionLayer } from '../sip/transaction/manager';
import { synthesizeResponse } from '../sip/transaction/transaction';
import type { ReceivedInfo } from '../sip/transport/types';
import type { TrunkService } from '../trunk/types';
import type { LegPath, LegPeer, MediaProfile } from './types';

/** What legs share: the stack, the trunks, our product token and capabilities. */
export interface LegContext {
  readonly transactions: Pick<TransactionLayer, 'sendInvite' | 'sendNonInvite' | 'sendStateless' | 'cancel'>;
  readonly trunks?: Pick<TrunkService, 'authorize' | 'answerChallenge' | 'sendRequest'>;
  /** User-Agent value. */
  readonly product: string;
  /** Allow value of our requests and 2xx (RFC 3261 §20.5). */
  readonly allow: string;
  readonly log: Logger;
}

export type LegRole = 'caller' | 'callee';

function hostOf(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/** Our Via for a path (RFC 3261 §8.1.1.7, RFC 3581 rport); the branch comes from the layer. */
export function viaFor(path: LegPath): Via {
  return { protocol: 'SIP/2.0', transport: path.protocol, host: hostOf(path.local.address), port: path.local.port, params: new Map([['rport', null]]) };
}

/** Our Contact for a path (RFC 3261 §8.1.1.8): the address the peer reaches us at, no user part. */
export function contactFor(path: LegPath): NameAddr {
  const params: Params = new Map();
  if (path.protocol !== 'UDP') params.set('transport', path.protocol.toLowerCase());
  return { uri: { scheme: 'sip', host: hostOf(path.local.address), port: path.local.port, params, headers: new Map() }, params: new Map() };
}

export class Leg {
  /** The offer/answer exchanged last on this leg: our SDP, and the version of the peer's (media.ts originVersion). */
  sdpSent: string | undefined;
  sdpReceivedVersion: string | undefined;
  /** The peer said it accepts UPDATE (Allow of its INVITE or 2xx): refreshes use it (RFC 4028 §7.4). */
  allowsUpdate = false;
  /** An INVITE transaction of this dialog (either direction) is in progress (RFC 3261 §14: one at a time). */
  inviteInProgress = false;
  readonly timer: SessionTimer;
  private lastAck: SipRequest | undefined;

  constructor(
    /** The media engine's tag for this leg (internal, never on the wire). */
    readonly tag: string,
    readonly role: LegRole,
    readonly peer: LegPeer,
    readonly dialog: Dialog,
    public path: LegPath,
    private readonly ctx: LegContext,
    timerCallbacks: SessionTimerCallbacks,
  ) {
    this.timer = new SessionTimer(timerCallbacks);
  }

  get media(): MediaProfile {
    return this.peer.kind === 'user' ? { kind: 'user' } : { kind: 'trunk', policy: this.peer.trunk.media };
  }

  /** Local user name of the peer, if it is a user. */
  get user(): string | undefined {
    return this.peer.kind === 'user' ? this.peer.user : undefined;
  }

  /** Reads the peer's Allow (from its INVITE or 2xx). */
  learnAllow(message: SipRequest | SipResponse): void {
    const allow = message.headers.getAll('Allow').join(',').toUpperCase();
    if (allow !== '') this.allowsUpdate = allow.split(',').some((m) => m.trim() === 'UPDATE');
  }

  /**
   * A request from the peer arrived on another flow than the leg's (the device reconnected, RFC
   * 5626 §4.5): later requests follow it. Only a flow of the same transport is taken.
   */
  learnFlow(info: ReceivedInfo): void {
    if (info.flowId === undefined || info.protocol !== this.path.protocol || this.peer.kind !== 'user') return;
    if (this.path.hop.flowId === info.flowId) return;
    this.path = { ...this.path, hop: { protocol: info.protocol, remote: { ...info.remote }, flowId: info.flowId, flowOnly: true }, local: { ...info.local } };
  }

  /** Whether a request received for this leg came the way its peer is reached (no UDP for a TLS leg). */
  acceptsTransport(info: ReceivedInfo): boolean {
    return info.protocol === this.path.protocol;
  }

  /** A new request inside the dialog (§12.2.1.1) with our Via, Contact and User-Agent. */
  createRequest(method: string, o: { headers?: Array<[string, string]>; body?: Buffer; contentType?: string } = {}): SipRequest {
    const headers: Array<[string, string]> = [['User-Agent', this.ctx.product], ...(o.headers ?? [])];
    if (method === 'INVITE' || method === 'UPDATE') headers.push(['Allow', this.ctx.allow]);
    return this.dialog.createRequest(method, {
      via: viaFor(this.path),
      ...(method === 'INVITE' || method === 'UPDATE' ? { contact: contactFor(this.path) } : {}),
      headers,
      ...(o.body !== undefined && { body: o.body }),
      ...(o.contentType !== undefined && { contentType: o.contentType }),
    });
  }

  /**
   * Sends a non-INVITE request in its own client transaction and resolves with the final response:
   * the peer's, or a local 408 (Timer F) / 503 (transport error, §8.1.3.1). Trunk requests go through
   * the trunk service, which answers one 401/407 with the trunk's credentials.
   */
  sendNonInvite(request: SipRequest): Promise<SipResponse> {
    if (this.peer.kind === 'trunk' && this.ctx.trunks !== undefined) return this.ctx.trunks.sendRequest(this.peer.trunk, request);
    return new Promise((resolve) => {
      try {
        this.ctx.transactions.sendNonInvite(request, this.path.hop, {
          onResponse: (res) => {
            if (res.status >= 200) resolve(res);
          },
        });
      } catch {
        resolve(synthesizeResponse(request, 503, 'Service Unavailable'));
      }
    });
  }

  /**
   * Sends a re-INVITE (§14.1); `onResponse` sees every response, like the INVITE client
   * transaction's user (2xx retransmissions included). A trunk's 401/407 is answered once.
   */
  sendInvite(request: SipRequest, onResponse: (res: SipResponse) => void): void {
    const trunks = this.ctx.trunks;
    const trunk = this.peer.kind === 'trunk' ? this.peer.trunk : undefined;
    if (trunk !== undefined && trunks !== undefined) trunks.authorize(trunk, request);
    let challenged = false;
    const send = (req: SipRequest): InviteClientTransaction | undefined => {
      try {
        return this.ctx.transactions.sendInvite(req, this.path.hop, {
          onResponse: (res) => {
            if ((res.status === 401 || res.status === 407) && !challenged && trunk !== undefined && trunks !== undefined) {
              challenged = true;
              const retry = trunks.answerChallenge(trunk, req, res);
              if (retry !== undefined) {
                // The retry consumed a CSeq number of the dialog (§22.2 / trunk contract: CSeq+1).
                this.dialog.localSeq = Math.max(this.dialog.localSeq, retry.cseq.seq);
                send(retry);
                return;
              }
            }
            onResponse(res);
          },
        });
      } catch {
        onResponse(synthesizeResponse(req, 503, 'Service Unavailable'));
        return undefined;
      }
    };
    send(request);
  }

  /** The ACK for a 2xx to our (re-)INVITE with CSeq `seq` (§13.2.2.4), with an SDP answer when the 2xx held the offer. */
  ack(seq: number, sdp?: string): void {
    const ack = this.dialog.createAck(seq, {
      via: viaFor(this.path),
      headers: [['User-Agent', this.ctx.product]],
      ...(sdp !== undefined && { body: Buffer.from(sdp), contentType: 'application/sdp' }),
    });
    if (this.peer.kind === 'trunk' && this.ctx.trunks !== undefined) this.ctx.trunks.authorize(this.peer.trunk, ack);
    this.lastAck = ack;
    this.sendAck(ack);
  }

  /** A retransmitted 2xx (§13.2.2.4): the same ACK again, if it was for that INVITE. */
  reAck(seq: number): void {
    if (this.lastAck !== undefined && this.lastAck.cseq.seq === seq) this.sendAck(this.lastAck);
  }

  private sendAck(ack: SipRequest): void {
    this.ctx.transactions.sendStateless(ack, this.path.hop).catch((err: unknown) => {
      this.ctx.log.debug('ACK not sent', { error: err instanceof Error ? err.message : String(err) });
    });
  }

  /** BYE (§15.1.1), with a Reason (RFC 3326) saying why the gateway ended the call. Resolves with the final response. */
  bye(reason?: string): Promise<SipResponse | undefined> {
    this.timer.stop();
    if (this.dialog.state === 'terminated') return Promise.resolve(undefined);
    const request = this.createRequest('BYE', reason === undefined ? {} : { headers: [['Reason', reason]] });
    this.dialog.terminate();
    return this.sendNonInvite(request);
  }

  /** The dialog is over: no timer, no request any more. */
  close(): void {
    this.timer.stop();
    this.dialog.terminate();
  }
}
