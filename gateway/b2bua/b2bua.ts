/**
 * The B2BUA (issue 5): answers every INVITE that does not belong to a dialog, decides who calls
 * (a trunk by its address, else a user by digest), admits the call (limits), asks the router where
 * it goes, and runs it as a Call of two legs. It keeps the table of its dialogs, so requests inside
 * them (BYE, re-INVITE, UPDATE, INFO, REFER, ACK) reach their call, and it ends calls when a user is
 * blocked or their media stops.
 *
 * Order of the checks on a new INVITE, cheapest first: the source's calls-per-second bucket, then
 * who is calling (TLS and digest for users, RFC 3261 §22.3 with 407), RFC 4028 Min-SE, the
 * concurrent-call limits, routing, then the callee's per-user limit.
 */
import { EventEmitter } from 'node:events';
import type { UserService } from '../admin/users';
import type { CdrSink } from '../cdr/types';
import type { Logger } from '../log/logger';
import { MessageAuthenticator } from '../messaging/auth';
import type { Registrar } from '../registrar/registrar';
import type { Binding } from '../registrar/types';
import { userOf } from '../registrar/uri';
import type { CallRouter } from '../routing/types';
import type { IncomingRequest, UaCore } from '../sip/core/ua-core';
import { contactTarget, dialogKey } from '../sip/dialog/dialog';
import { negotiateAsUas, uacRequestHeaders, type UasDecision } from '../sip/dialog/session-timer';
import { tagOf, type SipRequest, type SipResponse } from '../sip/message/message';
import type { TransactionLayer } from '../sip/transaction/manager';
import type { InviteServerTransaction } from '../sip/transaction/server-invite';
import type { ServerTransaction } from '../sip/transaction/types';
import type { ReceivedInfo } from '../sip/transport/types';
import type { Trunk, TrunkService } from '../trunk/types';
import type { MediaEngine, MediaFailedEvent, TimeoutEvent } from '../../media/engine/types';
import { Call, type CallContext } from './call';
import { safeCallerId, trunkTemplate, userTemplate, type TemplateInput } from './identity';
import { HeaderPolicy } from './headers';
import { handleInDialog } from './in-dialog';
import type { Leg } from './leg';
import { callIdOfMedia } from './transfer-media';
import { CallLimiter, type CallSlot } from './limits';
import { hasSdp } from './media';
import { checkCallsSettings, type B2buaStats, type CallEnd, type CallInfo, type CallsSettings, type LegPath, type LegPeer } from './types';

export interface B2buaOptions {
  readonly core: Pick<UaCore, 'handle' | 'support' | 'setDialogHooks'>;
  readonly transactions: Pick<TransactionLayer, 'sendInvite' | 'sendNonInvite' | 'sendStateless' | 'cancel' | 'answerCancelled' | 'timers'>;
  readonly registrar: Pick<Registrar, 'targetFor' | 'authenticator' | 'onUserBlocked'>;
  readonly users: Pick<UserService, 'get'>;
  readonly router: CallRouter;
  readonly trunks?: TrunkService;
  readonly engine: MediaEngine;
  readonly cdr?: CdrSink;
  readonly settings: CallsSettings;
  /** sip.domain: the host of users' AORs (From/To toward devices). */
  readonly domain: string;
  readonly product: string;
  readonly log: Logger;
}

export interface B2buaEvents {
  call: [call: Call];
  callEnded: [info: CallInfo, end: CallEnd];
}

/** Methods the B2BUA answers inside its dialogs; REFER when calls.transfer (refer.ts). */
const ALLOW = 'INVITE, ACK, CANCEL, BYE, UPDATE, INFO, OPTIONS, PRACK';
const ALLOW_WITH_REFER = `${ALLOW}, REFER`;

export class B2bua extends EventEmitter<B2buaEvents> {
  readonly limiter: CallLimiter;
  readonly settings: CallsSettings;
  private readonly calls = new Map<string, Call>();
  private readonly dialogs = new Map<string, { call: Call; leg: Leg }>();
  private readonly byInvite = new Map<ServerTransaction, Call>();
  private readonly auth: MessageAuthenticator;
  private readonly ctx: CallContext;
  private readonly counts: B2buaStats = { invites: 0, answered: 0, failed: 0, rejectedLimits: 0, challenges: 0, active: 0 };
  private readonly allow: string;
  private offBlocked: (() => void) | undefined;
  /**
   * Set while the gateway drains before a stop (gateway/metrics/lifecycle.ts): new INVITEs get
   * 503 with Retry-After (RFC 3261 §21.5.4), requests inside existing dialogs go on as before.
   */
  refusingNewCalls = false;
  private readonly onMediaTimeout = (e: TimeoutEvent): void => {
    // A transferred call's media are an engine call of their own (transfer-media.ts).
    const call = this.calls.get(callIdOfMedia(e.callId));
    if (call?.media.id === e.callId) call.terminate('media-timeout', 'SIP;cause=408;text="Media timeout"', 408);
  };

  /** The engine lost the call's media (a relay thread stopped): a fault of ours, 500 (RFC 3261 §21.5.1). */
  private readonly onMediaFailed = (e: MediaFailedEvent): void => {
    const call = this.calls.get(callIdOfMedia(e.callId));
    if (call?.media.id === e.callId) call.terminate('media-failed', 'SIP;cause=500;text="Media relay failure"', 500);
  };

  constructor(private readonly o: B2buaOptions) {
    super();
    this.settings = checkCallsSettings(o.settings);
    this.limiter = new CallLimiter(this.settings.limits);
    this.auth = new MessageAuthenticator(o.registrar.authenticator);
    this.allow = this.settings.transfer ? ALLOW_WITH_REFER : ALLOW;
    this.ctx = {
      transactions: o.transactions,
      ...(o.trunks !== undefined && { trunks: o.trunks, trunkService: o.trunks }),
      product: o.product,
      allow: this.allow,
      log: o.log,
      settings: this.settings,
      engine: o.engine,
      headerPolicy: new HeaderPolicy(this.settings.passHeaders),
      registrar: o.registrar,
      bind: (leg, call) => this.dialogs.set(leg.dialog.id, { call, leg }),
      unbind: (leg) => {
        if (this.dialogs.get(leg.dialog.id)?.leg === leg) this.dialogs.delete(leg.dialog.id);
      },
      pathFor: (b) => this.pathFor(b),
      ...(this.settings.transfer && {
        transfer: {
          router: o.router,
          users: o.users,
          limiter: this.limiter,
          retryAfterSec: this.settings.limits.retryAfterSec,
          commonHeaders: () => this.commonHeaders(),
        },
      }),
    };
  }

  /** Installs the handlers on the UA core and starts listening for blocks and media timeouts. */
  start(): void {
    const core = this.o.core;
    core.handle('INVITE', (r) => this.invite(r));
    for (const m of ['BYE', 'UPDATE', 'INFO', 'PRACK']) core.handle(m, (r) => this.inDialog(r));
    core.handle('REFER', (r) => this.inDialog(r), { advertise: this.settings.transfer });
    if (this.settings.sessionTimer.enabled) core.support('timer');
    // RFC 3262 as a UAS: a caller may require reliable 18x (reliable.ts).
    core.support('100rel');
    core.setDialogHooks({
      ack: (ack, info) => this.ack(ack, info),
      cancel: (_cancel, ist) => this.cancel(ist),
      ackTimeout: (res) => this.ackTimeout(res),
    });
    this.offBlocked = this.o.registrar.onUserBlocked((name) => this.userBlocked(name));
    this.o.engine.on('timeout', this.onMediaTimeout);
    this.o.engine.on('failed', this.onMediaFailed);
  }

  /** Ends every call (BYE / CANCEL) and waits up to `graceMs` for them to be over. */
  async stop(graceMs = 2000): Promise<void> {
    this.offBlocked?.();
    this.o.engine.off('timeout', this.onMediaTimeout);
    this.o.engine.off('failed', this.onMediaFailed);
    this.o.core.setDialogHooks(undefined);
    const calls = [...this.calls.values()];
    const ended = calls.map((c) => new Promise<void>((resolve) => c.once('ended', () => resolve())));
    for (const c of calls) c.terminate('shutdown', 'SIP;cause=503;text="Gateway shutting down"', 503);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(ended), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    if (timer !== undefined) clearTimeout(timer);
  }

  get stats(): B2buaStats {
    return { ...this.counts, active: this.calls.size };
  }

  /** The calls in progress. */
  list(): CallInfo[] {
    return [...this.calls.values()].map((c) => c.info());
  }

  /** Ends every call a user takes part in at once (issue 5 §5: blocked users). Returns how many. */
  endCallsOf(user: string, cause = 'blocked'): number {
    let n = 0;
    for (const c of this.calls.values()) {
      if (!c.involves(user)) continue;
      c.terminate(cause, 'SIP;cause=403;text="User blocked"', 403);
      n++;
    }
    return n;
  }

  private userBlocked(name: string): void {
    const n = this.endCallsOf(name);
    if (n > 0) this.o.log.info('calls of a blocked user ended', { user: name, calls: n });
  }

  // ---- INVITE outside a dialog --------------------------------------------------------------------

  private async invite(r: IncomingRequest): Promise<void> {
    const { request: req, info } = r;
    if (tagOf(req.to) !== undefined) return this.inDialog(r);
    this.counts.invites++;
    if (this.refusingNewCalls) {
      return void r.reply(503, 'Service Unavailable - Shutting Down', { headers: [['Retry-After', String(this.settings.limits.retryAfterSec)]] });
    }
    if (!this.limiter.admitSource(info.remote.address)) return this.overloaded(r, 'rate');
    const trunk = this.o.trunks?.identify(info);
    let caller: LegPeer;
    let callerUser: Awaited<ReturnType<UserService['get']>>;
    if (trunk !== undefined) {
      const auth = await this.o.trunks!.authenticateInbound(trunk, req, info);
      if (!auth.ok) {
        r.tx.respond(auth.response);
        return;
      }
      caller = { kind: 'trunk', trunk };
    } else {
      if (this.settings.requireTls && info.protocol !== 'TLS') return void r.reply(403, 'Forbidden - TLS Required');
      const auth = await this.auth.authenticate(req, info);
      if (auth.kind === 'challenge') {
        this.counts.challenges++;
        return void r.reply(407, 'Proxy Authentication Required', { headers: auth.headers });
      }
      if (auth.kind === 'refuse') return void r.reply(auth.status, auth.reason);
      if (userOf(req.from.uri) !== auth.user) return void r.reply(403, 'Forbidden - From Does Not Match Credentials');
      callerUser = await this.o.users.get(auth.user);
      if (callerUser === undefined || callerUser.state !== 'active') return void r.reply(403, 'Forbidden');
      caller = { kind: 'user', user: auth.user };
    }
    // §12.1.1: the caller's Contact is the remote target of its dialog; without one there is no call.
    // Checked after authentication, so an RFC 2543 INVITE (RFC 4475 §3.4.1) gets the normal answers first.
    if (contactTarget(req) === undefined) return void r.reply(400, 'Bad Request - Missing Contact');
    if (!this.pending(r)) return;
    const timer = this.timerDecision(r);
    if (timer === undefined) return;
    const slot = this.limiter.acquire(callerUser === undefined ? [] : [callerUser.name]);
    if (typeof slot === 'string') return this.overloaded(r, slot);
    try {
      await this.route(r, caller, callerUser, trunk, slot, timer);
    } catch (err) {
      slot.release();
      throw err;
    }
  }

  private async route(r: IncomingRequest, caller: LegPeer, callerUser: Awaited<ReturnType<UserService['get']>>, fromTrunk: Trunk | undefined, slot: CallSlot, timer: UasDecision): Promise<void> {
    const req = r.request;
    const decision = fromTrunk !== undefined ? await this.o.router.routeInbound(fromTrunk, req.uri) : await this.o.router.route({ caller: callerUser!, requestUri: req.uri });
    if (decision.kind === 'reject') {
      slot.release();
      return void r.reply(decision.status, decision.reason);
    }
    if (!this.pending(r)) return slot.release();
    let held: CallSlot = slot;
    if (decision.kind === 'user') {
      const extended = this.limiter.extend(slot, decision.user.name);
      if (extended === 'user') {
        slot.release();
        return this.overloaded(r, 'user');
      }
      held = extended;
    }
    const callerName = caller.kind === 'user' ? caller.user : safeCallerId(req.from.uri);
    const call = new Call(this.ctx, {
      incoming: r,
      caller,
      callerPath: this.callerPath(caller, r.info),
      direction: fromTrunk !== undefined ? 'inbound' : decision.kind === 'user' ? 'on-net' : 'outbound',
      callerName,
      calleeName: decision.kind === 'user' ? decision.user.name : decision.number,
      slot: held,
      callerTimer: timer,
    });
    this.track(call);
    const input: TemplateInput = {
      req, caller, callerUser, callerName, domain: this.o.domain,
      // 100rel only with an offer: a reliable 18x would then carry the answer, never an offer the
      // PRACK would have to answer (RFC 3262 §5) before the caller has.
      headers: [...this.commonHeaders(hasSdp(req)), ...this.ctx.headerPolicy.pass(req.headers, caller.kind === 'trunk')],
    };
    if (decision.kind === 'user') return call.connectUser(decision.bindings, userTemplate(input, decision.user.name));
    const trunks = this.o.trunks;
    const selected = trunks === undefined ? [] : trunks.select(decision.trunks);
    if (trunks === undefined || selected.length === 0) return call.end({ status: 503, endedBy: 'gateway', cause: 'trunks-down' });
    await call.connectTrunks(selected, (t) => trunkTemplate(input, trunks, t, decision.number));
  }

  /** Our headers of an INVITE to a callee; `reliable`: ask for reliable 18x (RFC 3262 §4, fork.ts). */
  private commonHeaders(reliable = false): Array<[string, string]> {
    const h: Array<[string, string]> = [['User-Agent', this.o.product], ['Allow', this.allow]];
    const supported = [...(reliable ? ['100rel'] : []), ...(this.settings.sessionTimer.enabled ? ['timer'] : [])];
    if (supported.length > 0) h.push(['Supported', supported.join(', ')]);
    if (this.settings.sessionTimer.enabled) h.push(...uacRequestHeaders(this.settings.sessionTimer));
    return h;
  }

  private track(call: Call): void {
    this.calls.set(call.id, call);
    this.byInvite.set(call.setup.incoming.tx, call);
    const cdr = this.o.cdr;
    let cdrId = cdr?.start({ direction: call.direction, caller: call.setup.callerName, callee: call.setup.calleeName, ...(call.trunk !== undefined && { trunk: call.trunk.name }) });
    call.once('answered', () => {
      this.counts.answered++;
      if (cdrId !== undefined) cdr!.answer(cdrId, call.trunk === undefined ? {} : { trunk: call.trunk.name });
    });
    // A blind transfer (transfer.ts): the transferor's call is over for the records; the
    // transferee's call to the target starts its own, answered at once.
    call.on('transferred', (t) => {
      // The CDR of the transferred call names the transferee and the target; the log says which user transferred it.
      this.o.log.info('call transferred', { call: call.id, user: t.transferredBy, transferor: t.transferor, trunk: t.trunk });
      if (cdrId === undefined) return;
      cdr!.end(cdrId, { disposition: 'transferred', status: 200, endedBy: t.transferor });
      cdrId = cdr!.start({ direction: 'outbound', caller: t.caller, callee: t.callee, trunk: t.trunk });
      cdr!.answer(cdrId, { trunk: t.trunk });
    });
    call.once('ended', (end) => {
      this.calls.delete(call.id);
      this.byInvite.delete(call.setup.incoming.tx);
      if (!end.answered) this.counts.failed++;
      if (cdrId !== undefined) cdr!.end(cdrId, { disposition: end.disposition, status: end.status, endedBy: end.endedBy, ...(call.trunk !== undefined && { trunk: call.trunk.name }) });
      this.o.log.debug('call ended', { call: call.id, status: end.status, cause: end.cause });
      this.emit('callEnded', call.info(), end);
    });
    this.emit('call', call);
  }

  /** 503 with Retry-After (RFC 3261 §21.5.4) for a refused admission. */
  private overloaded(r: IncomingRequest, why: 'rate' | 'global' | 'user'): void {
    this.counts.rejectedLimits++;
    const reason = why === 'rate' ? 'Service Unavailable - Call Rate Limit' : why === 'user' ? 'Service Unavailable - Too Many Calls For User' : 'Service Unavailable - Call Limit';
    r.reply(503, reason, { headers: [['Retry-After', String(this.settings.limits.retryAfterSec)]] });
  }

  /** The INVITE still waits for our answer (a CANCEL may have got its 487 while we awaited). */
  private pending(r: IncomingRequest): boolean {
    return r.tx.state === 'Proceeding' || r.tx.state === 'Trying';
  }

  private timerDecision(r: IncomingRequest): UasDecision | undefined {
    if (!this.settings.sessionTimer.enabled) return { kind: 'none' };
    let d: UasDecision;
    try {
      d = negotiateAsUas(r.request.headers, this.settings.sessionTimer);
    } catch {
      r.reply(400, 'Bad Request - Malformed Session-Expires');
      return undefined;
    }
    if (d.kind !== 'too-small') return d;
    r.reply(422, 'Session Interval Too Small', { headers: [['Min-SE', String(d.minSe)]] });
    return undefined;
  }

  private callerPath(caller: LegPeer, info: ReceivedInfo): LegPath {
    if (caller.kind === 'trunk') return { hop: caller.trunk.target, local: caller.trunk.local, protocol: caller.trunk.transport };
    const hop = info.flowId !== undefined
      ? { protocol: info.protocol, remote: { ...info.remote }, flowId: info.flowId, flowOnly: true }
      : { protocol: info.protocol, remote: { ...info.remote }, local: { ...info.local } };
    return { hop, local: { ...info.local }, protocol: info.protocol };
  }

  private pathFor(b: Binding): LegPath {
    const hop = this.o.registrar.targetFor(b);
    const local = b.localAddress !== undefined && b.localPort !== undefined ? { address: b.localAddress, port: b.localPort } : { address: this.o.domain, port: hop.protocol === 'TLS' ? 5061 : 5060 };
    return { hop, local, protocol: b.transport };
  }

  // ---- dialogs ------------------------------------------------------------------------------------

  private find(msg: SipRequest | SipResponse, localTag: string | undefined, remoteTag: string | undefined): { call: Call; leg: Leg } | undefined {
    if (localTag === undefined || remoteTag === undefined) return undefined;
    return this.dialogs.get(dialogKey(msg.callId, localTag, remoteTag));
  }

  private async inDialog(r: IncomingRequest): Promise<void> {
    const req = r.request;
    const found = this.find(req, tagOf(req.to), tagOf(req.from));
    if (found === undefined) {
      if (req.method === 'REFER' && !this.settings.transfer) return void r.reply(501, 'Not Implemented - Call Transfer Not Supported');
      // RFC 3515 allows a REFER outside a dialog; here only a call's own party may transfer it.
      if (req.method === 'REFER' && tagOf(req.to) === undefined) return void r.reply(403, 'Forbidden - REFER Only Inside A Call');
      return void r.reply(481, 'Call/Transaction Does Not Exist');
    }
    await handleInDialog(found.call, found.leg, r);
  }

  private ack(ack: SipRequest, info: ReceivedInfo): void {
    const found = this.find(ack, tagOf(ack.to), tagOf(ack.from));
    if (found === undefined || !found.leg.acceptsTransport(info)) return;
    found.call.ack(ack, found.leg, info).catch((err: unknown) => this.o.log.error('ACK handling failed', { error: err instanceof Error ? err.message : String(err) }));
  }

  private cancel(ist: InviteServerTransaction): void {
    const call = this.byInvite.get(ist);
    if (call !== undefined) call.cancel();
    else this.o.transactions.answerCancelled(ist);
  }

  private ackTimeout(res: SipResponse): void {
    this.find(res, tagOf(res.to), tagOf(res.from))?.call.ackTimedOut();
  }
}
