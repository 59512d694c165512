/**
 * A Leg: one side of a Call, a dialog of its own (RFC 3261 §12) with the gateway as one end. The
 * caller's leg is the gateway as UAS, the callee's the gateway as UAC; each has its own Call-ID,
 * tags, CSeq, Contact and Via, so nothing of one leg's routing reaches the other.
 *
 * The leg builds and sends requests inside its dialog (BYE, re-INVITE, UPDATE, INFO, the ACK for a
 * 2xx). A device's leg sends them over the device's own TLS flow (RFC 5626 §5.3: baresip cannot
 * accept a connection). A trunk's leg sends them where the dialog says (RFC 3261 §8.1.2, §12.2.1.1:
 * the first route, else the PBX's Contact; next-hop.ts), with the trunk's credentials when the PBX
 * challenges (trunk/types.ts); the trunk's configured address is only the fallback.
 */
import type { Logger } from '../log/logger';
import { Dialog } from '../sip/dialog/dialog';
import { SessionTimer, type SessionTimerCallbacks } from '../sip/dialog/session-timer';
import type { SipRequest, SipResponse } from '../sip/message/message';
import type { NameAddr, Params, Via } from '../sip/message/types';
import type { TransactionLayer } from '../sip/transaction/manager';
import { synthesizeResponse } from '../sip/transaction/transaction';
import type { ReceivedInfo, SendTarget } from '../sip/transport/types';
import type { TrunkService } from '../trunk/types';
import { NextHopRouter, type HostLookup } from './next-hop';
import type { LegPath, LegPeer, MediaProfile } from './types';

/** What legs share: the stack, the trunks, our product token and capabilities. */
export interface LegContext {
  readonly transactions: Pick<TransactionLayer, 'sendInvite' | 'sendNonInvite' | 'sendStateless' | 'cancel' | 'timers'>;
  readonly trunks?: Pick<TrunkService, 'authorize' | 'answerChallenge' | 'sendRequest'>;
  /** User-Agent value. */
  readonly product: string;
  /** Allow value of our requests and 2xx (RFC 3261 §20.5). */
  readonly allow: string;
  readonly log: Logger;
  /** Resolves host names of trunk dialogs' next hops (default node:dns lookup; tests inject one). */
  readonly lookup?: HostLookup;
}

/** Credentials of a request (RFC 3261 §22): what the ACK for a 2xx copies from its INVITE. */
const CREDENTIALS = ['Authorization', 'Proxy-Authorization'] as const;

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
  /** Our last (re-)INVITE as sent, after a 401/407 retry: its ACK copies its credentials (§13.2.2.4). */
  private lastInvite: SipRequest | undefined;
  /** Trunk legs only: where the dialog leads (devices are reached over their flow). */
  private readonly router: NextHopRouter | undefined;

  constructor(
    /** The media engine's tag for this leg (internal, never on the wire). */
    readonly tag: string,
    readonly role: LegRole,
    readonly peer: LegPeer,
    readonly dialog: Dialog,
    public path: LegPath,
    private readonly ctx: LegContext,
    timerCallbacks: SessionTimerCallbacks,
    /** The INVITE that created a callee leg's dialog, as sent last (fork.ts): the ACK of its 2xx copies its credentials. */
    invite?: SipRequest,
  ) {
    this.timer = new SessionTimer(timerCallbacks);
    this.lastInvite = invite;
    if (peer.kind === 'trunk') {
      this.router = new NextHopRouter({ ...(ctx.lookup !== undefined && { lookup: ctx.lookup }), log: ctx.log });
    }
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
   * the peer's, or a local 408 (Timer F) / 503 (transport error, §8.1.3.1; or a next hop that must
   * not be used). Trunk requests go through the trunk service, which answers one 401/407 with the
   * trunk's credentials, to the dialog's next hop.
   */
  sendNonInvite(request: SipRequest): Promise<SipResponse> {
    return new Promise((resolve) => {
      const failed = (): void => resolve(synthesizeResponse(request, 503, 'Service Unavailable'));
      this.withNextHop((hop) => {
        if (this.peer.kind === 'trunk' && this.ctx.trunks !== undefined) {
          this.ctx.trunks.sendRequest(this.peer.trunk, request, hop).then(resolve, failed);
          return;
        }
        this.ctx.transactions.sendNonInvite(request, hop, {
          onResponse: (res) => {
            if (res.status >= 200) resolve(res);
          },
        });
      }, failed);
    });
  }

  /**
   * Sends a re-INVITE (§14.1); `onResponse` sees every response, like the INVITE client
   * transaction's user (2xx retransmissions included). A trunk's 401/407 is answered once, to the
   * same next hop.
   */
  sendInvite(request: SipRequest, onResponse: (res: SipResponse) => void): void {
    const trunks = this.ctx.trunks;
    const trunk = this.peer.kind === 'trunk' ? this.peer.trunk : undefined;
    if (trunk !== undefined && trunks !== undefined) trunks.authorize(trunk, request);
    let challenged = false;
    const send = (req: SipRequest, hop: SendTarget): void => {
      this.lastInvite = req;
      try {
        this.ctx.transactions.sendInvite(req, hop, {
          onResponse: (res) => {
            if ((res.status === 401 || res.status === 407) && !challenged && trunk !== undefined && trunks !== undefined) {
              challenged = true;
              const retry = trunks.answerChallenge(trunk, req, res);
              if (retry !== undefined) {
                // The retry consumed a CSeq number of the dialog (§22.2 / trunk contract: CSeq+1).
                this.dialog.localSeq = Math.max(this.dialog.localSeq, retry.cseq.seq);
                send(retry, hop);
                return;
              }
            }
            onResponse(res);
          },
        });
      } catch {
        onResponse(synthesizeResponse(req, 503, 'Service Unavailable'));
      }
    };
    this.withNextHop((hop) => send(request, hop), () => onResponse(synthesizeResponse(request, 503, 'Service Unavailable')));
  }

  /**
   * The ACK for a 2xx to our (re-)INVITE with CSeq `seq` (§13.2.2.4), with an SDP answer when the
   * 2xx held the offer. It carries the credentials of the INVITE it acknowledges, as sent last
   * (after a 401/407 retry), not new ones (§13.2.2.4, §22.1): the PBX matches them to that INVITE.
   */
  ack(seq: number, sdp?: string): void {
    const ack = this.dialog.createAck(seq, {
      via: viaFor(this.path),
      headers: [['User-Agent', this.ctx.product]],
      ...(sdp !== undefined && { body: Buffer.from(sdp), contentType: 'application/sdp' }),
    });
    const invite = this.lastInvite?.cseq.seq === seq ? this.lastInvite : undefined;
    for (const name of CREDENTIALS) {
      for (const value of invite?.headers.getAll(name) ?? []) ack.headers.add(name, value);
    }
    this.lastAck = ack;
    this.sendAck(ack);
  }

  /** A retransmitted 2xx (§13.2.2.4): the same ACK again, if it was for that INVITE. */
  reAck(seq: number): void {
    if (this.lastAck !== undefined && this.lastAck.cseq.seq === seq) this.sendAck(this.lastAck);
  }

  private sendAck(ack: SipRequest): void {
    const failed = (err: unknown): void => this.ctx.log.debug('ACK not sent', { error: err instanceof Error ? err.message : String(err) });
    this.withNextHop((hop) => {
      this.ctx.transactions.sendStateless(ack, hop).catch(failed);
    }, failed);
  }

  /**
   * Runs `send` with the hop of this leg's requests: a device's flow (its path), or for a trunk the
   * dialog's next hop (next-hop.ts: at once, or after a host name lookup, in the order asked).
   * `fail` when the hop must not be used (a SIPS dialog on a clear-text leg) or `send` throws.
   */
  private withNextHop(send: (hop: SendTarget) => void, fail: (err: unknown) => void): void {
    const go = (hop: SendTarget): void => {
      try {
        send(hop);
      } catch (err) {
        fail(err);
      }
    };
    if (this.router === undefined) return go(this.path.hop);
    let hop: SendTarget | Promise<SendTarget>;
    try {
      hop = this.router.route(this.dialog, this.path.hop, this.path.local);
    } catch (err) {
      const trunk = this.peer.kind === 'trunk' ? this.peer.trunk.name : undefined;
      this.ctx.log.warn('in-dialog request not sent', { trunk, error: err instanceof Error ? err.message : String(err) });
      fail(err);
      return;
    }
    if (hop instanceof Promise) void hop.then(go);
    else go(hop);
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
