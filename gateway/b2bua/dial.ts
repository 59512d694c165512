/**
 * The callee side of a call before it is answered (issue 5 §2, §3): one Fork per device of the
 * callee, all at once (RFC 3261 §16.6 done by the B2BUA: the first 2xx wins, the others get
 * CANCEL, a 6xx ends the search, §16.7), or one trunk after the other (failover on 503, timeout or
 * transport error). Early media in provisionals is answered through the engine and relayed.
 */
import type { SipResponse } from '../sip/message/message';
import { isLocalResponse } from '../sip/transaction/transaction';
import type { Registrar } from '../registrar/registrar';
import type { Binding } from '../registrar/types';
import type { Trunk } from '../trunk/types';
import type { CallContext, CallSetup, InviteTemplate } from './call';
import { bestFailure, mapTrunkFailure, mapUserFailure, reasonPhrase } from './failure';
import { dialogOf, Fork, type ForkUser } from './fork';
import type { Leg } from './leg';
import { originVersion, sdpOf, type CallMedia } from './media';
import type { CallEnd, CallState, LegPath, LegPeer, MediaProfile } from './types';

/** What the dialer needs of its Call. */
export interface DialingCall {
  readonly ctx: CallContext & { readonly registrar: Pick<Registrar, 'targetFor'> };
  readonly setup: CallSetup;
  readonly caller: Leg;
  readonly media: CallMedia;
  readonly state: CallState;
  readonly callee: Leg | undefined;
  readonly calleeAcked: boolean;
  trunk: Trunk | undefined;
  /** First 180/183 relayed: the call is ringing. */
  ringingNow(): void;
  respond(status: number, reason: string, o?: { sdp?: string }): boolean;
  end(o: { status: number; endedBy: CallEnd['endedBy']; cause: string; reason?: string }): void;
  failMedia(err: unknown): void;
  /** The winning fork's 2xx: the call takes its leg. */
  connected(fork: Fork, res: SipResponse): Promise<void>;
}

export class Dialer {
  /** The fork whose 2xx won. */
  winner: Fork | undefined;
  /** The caller's offer went through the engine (its INVITE had SDP): the callee's 2xx must answer it. */
  offerSent = false;
  private readonly forks = new Set<Fork>();
  private readonly failures: number[] = [];
  private trunkQueue: Trunk[] = [];
  private lastTrunkStatus = 503;
  private tagCount = 0;

  constructor(private readonly call: DialingCall) {}

  /** Still looking for a callee: not answered, not ending. */
  get ringing(): boolean {
    const s = this.call.state;
    return (s === 'proceeding' || s === 'early') && this.winner === undefined;
  }

  /** Rings every device (bindings) of a user at once. */
  async connectUser(bindings: readonly Binding[], template: InviteTemplate): Promise<void> {
    const peer: LegPeer = { kind: 'user', user: this.call.setup.calleeName };
    // One offer per device: every fork is a leg of its own with SDES keys of its own (RFC 4568
    // §6.1); all are written before any INVITE leaves, so the devices ring together.
    const forks: { tag: string; binding: Binding; sdp: string | undefined }[] = [];
    for (const binding of bindings) {
      const tag = this.nextTag();
      const sdp = await this.offerTo({ kind: 'user' }, tag);
      if (sdp === null || this.call.state !== 'proceeding') return;
      forks.push({ tag, binding, sdp });
    }
    for (const f of forks) {
      const spec = { ...template, requestUri: f.binding.uri, sdp: f.sdp };
      this.start(new Fork(f.tag, peer, this.call.ctx.pathFor(f.binding), spec, this.call.ctx, this.forkUser));
    }
  }

  /** Tries trunks in order; each gets its own offer (its own profile and codecs). */
  async connectTrunks(trunks: readonly Trunk[], template: (trunk: Trunk) => InviteTemplate): Promise<void> {
    this.trunkQueue = [...trunks];
    this.template = template;
    await this.nextTrunk();
  }

  /** CANCEL (§9.1) to every fork still ringing. */
  cancelAll(): void {
    for (const f of this.forks) f.cancel();
    this.forks.clear();
  }

  private template: (trunk: Trunk) => InviteTemplate = () => {
    throw new Error('no trunk template');
  };

  private async nextTrunk(): Promise<void> {
    const trunk = this.trunkQueue.shift();
    if (trunk === undefined) return this.call.end({ status: this.lastTrunkStatus, endedBy: 'callee', cause: 'trunks-failed' });
    this.call.trunk = trunk;
    const tag = this.nextTag();
    const sdp = await this.offerTo({ kind: 'trunk', policy: trunk.media }, tag);
    if (sdp === null || this.call.state !== 'proceeding') return;
    const path: LegPath = { hop: trunk.target, local: trunk.local, protocol: trunk.transport };
    this.start(new Fork(tag, { kind: 'trunk', trunk }, path, { ...this.template(trunk), sdp }, this.call.ctx, this.forkUser));
  }

  /**
   * The caller's SDP offered through the engine toward `callee`, written for the fork `branch`;
   * undefined: delayed offer; null: refused (the call ended).
   */
  private async offerTo(callee: MediaProfile, branch: string): Promise<string | undefined | null> {
    const sdp = sdpOf(this.call.setup.incoming.request);
    if (sdp === undefined) return undefined; // delayed offer: the callee's 2xx will carry the offer
    try {
      const out = await this.call.media.offer(this.call.caller.tag, this.call.caller.media, callee, sdp, branch);
      this.offerSent = true;
      this.call.caller.sdpReceivedVersion = originVersion(sdp);
      return out;
    } catch (err) {
      this.call.failMedia(err);
      return null;
    }
  }

  private start(fork: Fork): void {
    this.forks.add(fork);
    fork.start();
  }

  private nextTag(): string {
    return `b${++this.tagCount}`;
  }

  private readonly forkUser: ForkUser = {
    onProvisional: (fork, res) => void this.provisional(fork, res),
    onSuccess: (fork, res) => this.success(fork, res),
    onRetransmission: (fork, res) => {
      if (fork !== this.winner) this.ackAndBye(fork, res, true);
      else if (this.call.calleeAcked) this.call.callee?.reAck(res.cseq.seq);
    },
    onFailure: (fork, res) => void this.failure(fork, res),
    reoffer: async (fork) => {
      if (!this.ringing || !this.forks.has(fork)) return null;
      const sdp = await this.offerTo(profileOf(fork), fork.tag);
      return typeof sdp === 'string' && this.ringing ? sdp : null;
    },
  };

  /** 180/183 toward the caller; SDP in a provisional is early media, answered through the engine. */
  private async provisional(fork: Fork, res: SipResponse): Promise<void> {
    if (!this.ringing) return;
    const sdp = sdpOf(res);
    let early: string | undefined;
    if (sdp !== undefined && this.offerSent) {
      try {
        early = await this.call.media.answer(this.call.caller.tag, fork.tag, profileOf(fork), sdp);
      } catch {
        early = undefined; // unusable early SDP: ring without it
      }
      if (!this.ringing || !fork.pending) return;
    }
    this.call.ringingNow();
    const status = early === undefined && res.status === 183 ? 180 : res.status;
    this.call.respond(status, reasonPhrase(status), early === undefined ? {} : { sdp: early });
  }

  /** The first 2xx wins; any other 2xx, or one after the call ended, gets ACK and BYE. */
  private success(fork: Fork, res: SipResponse): void {
    if (this.winner !== undefined || !this.ringing) {
      this.ackAndBye(fork, res);
      return;
    }
    this.winner = fork;
    this.forks.delete(fork);
    this.cancelAll();
    void this.call.connected(fork, res);
  }

  /** A 2xx the call does not want (a loser's, a second dialog's, a late one): ACK, then BYE unless `ackOnly`. */
  private ackAndBye(fork: Fork, res: SipResponse, ackOnly = false): void {
    const sameDialog = fork.dialog !== undefined && fork.dialog.remoteTag === res.to.params.get('tag');
    const dialog = sameDialog ? fork.dialog! : dialogOf(fork.invite, res, fork.path.protocol === 'TLS');
    const leg = fork.toLeg(this.call.ctx, { onRefresh: () => undefined, onExpire: () => undefined }, dialog);
    leg.ack(res.cseq.seq);
    if (!ackOnly) void leg.bye('SIP;cause=200;text="Call completed elsewhere"');
  }

  private async failure(fork: Fork, res: SipResponse): Promise<void> {
    this.forks.delete(fork);
    // The engine forgets the fork's offer (its keys) and any early media it answered with; the
    // engine serialises this after an answer still in progress (a 183 racing a 503).
    if (this.winner === undefined && this.offerSent) await this.call.media.forget(fork.tag).catch(() => undefined);
    if (!this.ringing) return;
    const trunk = fork.trunk;
    const trunks = this.call.ctx.trunkService;
    if (trunk !== undefined && trunks !== undefined) {
      if (trunks.isFailover(res)) {
        trunks.reportFailure(trunk, !isLocalResponse(res) ? 'service-unavailable' : res.status === 408 ? 'timeout' : 'transport-error');
        this.lastTrunkStatus = res.status === 408 ? 408 : 503;
        await this.nextTrunk();
        return;
      }
      this.call.end({ status: mapTrunkFailure(res.status), endedBy: 'callee', cause: 'rejected' });
      return;
    }
    this.failures.push(mapUserFailure(res.status));
    // RFC 3261 §16.7 step 6: a 6xx ends the search at once (end() cancels the other devices).
    if (this.forks.size === 0 || res.status >= 600) this.call.end({ status: bestFailure(this.failures), endedBy: 'callee', cause: 'rejected' });
  }
}

function profileOf(fork: Fork): MediaProfile {
  return fork.peer.kind === 'user' ? { kind: 'user' } : { kind: 'trunk', policy: fork.peer.trunk.media };
}
