/**
 * The trunks of the gateway (TrunkService): built from the `trunks` configuration, each with its
 * keep-alive and optional registration, and the helpers the B2BUA uses on a trunk leg.
 *
 * Failover (RFC 3261 §16.7-like serial search, done by the B2BUA): `select` drops trunks that are
 * down; the next trunk is tried when `isFailover(response)`: a 503 (§21.5.4), or a response the
 * transaction layer made up for a timeout (408, Timer B/F) or a transport error (503, §8.1.3.1).
 * A real 408 from the PBX is the callee not answering: not a reason to try another trunk.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../log/logger';
import { formatNumber as formatForPlan, type NumberingPlan } from '../routing/number';
import type { SipRequest, SipResponse } from '../sip/message/message';
import type { SipUri } from '../sip/message/types';
import { SystemClock, type Clock } from '../sip/transaction/clock';
import type { TransactionLayer } from '../sip/transaction/manager';
import { isLocalResponse } from '../sip/transaction/transaction';
import type { ListeningAddress } from '../sip/transport/options';
import type { Endpoint, ReceivedInfo, SendTarget } from '../sip/transport/types';
import { answerChallenge, authorize } from './auth';
import { buildRequest, sipUri, TrunkClient, uriHost } from './client';
import { checkTrunkConfigs } from './config';
import { InboundAuthenticator } from './inbound-auth';
import { KeepAlive, type ProbeOutcome } from './keepalive';
import { localEndpointFor } from './local-address';
import { TrunkPeer } from './peer';
import { TrunkRegistration } from './registration';
import { UnknownTrunkError, type InboundAuthResult, type Trunk, type TrunkConfig, type TrunkEvents, type TrunkFailure, type TrunkService } from './types';

export interface TrunkManagerOptions {
  readonly trunks: readonly TrunkConfig[];
  readonly transactions: Pick<TransactionLayer, 'sendNonInvite'>;
  /** Our address toward each trunk (see local-address.ts; `TrunkManager.create` resolves it). */
  readonly localFor: (config: TrunkConfig) => Endpoint;
  /** The numbering plan (routing config), for the `national` number format. */
  readonly numbering: NumberingPlan;
  /** Realm of inbound challenges when a trunk's inbound.auth names none (sip.realm). */
  readonly realm: string;
  /** User-Agent of the requests we originate. */
  readonly userAgent: string;
  readonly clock?: Clock;
  /** A keep-alive OPTIONS not answered within this is a failure (default min(interval, 5 s)). */
  readonly keepAliveTimeoutMs?: number;
  /** How long `stop()` waits for un-REGISTERs to be answered (default 2000 ms). */
  readonly unregisterWaitMs?: number;
  readonly log?: Logger;
}

function compatible(trunkTransport: string, protocol: string): boolean {
  // A TLS trunk is identified over TLS only; UDP and TCP trunks over either (RFC 3261 §18.1.1 lets
  // a UDP peer switch to TCP for large requests). Plain source-IP trust is what UDP trunks get.
  return trunkTransport === 'TLS' ? protocol === 'TLS' : protocol !== 'TLS';
}

export class TrunkManager extends EventEmitter<TrunkEvents> implements TrunkService {
  readonly trunks: readonly TrunkPeer[];
  private readonly byName = new Map<string, TrunkPeer>();
  private readonly keepAlives = new Map<TrunkPeer, KeepAlive>();
  private readonly registrations = new Map<TrunkPeer, TrunkRegistration>();
  private readonly client: TrunkClient;
  private readonly inboundAuth = new InboundAuthenticator();
  private readonly clock: Clock;
  private started = false;

  /** Resolves every trunk's local endpoint from the transport layer's listeners, then builds. */
  static async create(options: Omit<TrunkManagerOptions, 'localFor'> & { listening: readonly ListeningAddress[] }): Promise<TrunkManager> {
    checkTrunkConfigs(options.trunks);
    const locals = new Map<string, Endpoint>();
    for (const t of options.trunks) locals.set(t.name, await localEndpointFor(t, options.listening));
    return new TrunkManager({ ...options, localFor: (c) => locals.get(c.name) as Endpoint });
  }

  constructor(private readonly o: TrunkManagerOptions) {
    super();
    checkTrunkConfigs(o.trunks);
    this.clock = o.clock ?? new SystemClock();
    this.client = new TrunkClient(o.transactions);
    this.trunks = o.trunks.map((c) => new TrunkPeer(c, o.localFor(c), o.realm));
    for (const peer of this.trunks) {
      this.byName.set(peer.name, peer);
      this.keepAlives.set(peer, new KeepAlive({
        clock: this.clock,
        intervalMs: peer.keepAliveMs,
        failures: peer.keepAliveFailures,
        ...(o.keepAliveTimeoutMs !== undefined && { timeoutMs: o.keepAliveTimeoutMs }),
        probe: () => this.probe(peer),
        onStatus: (status) => {
          peer.status = status;
          o.log?.info(`trunk ${status}`, { trunk: peer.name });
          if (status === 'up') this.emit('up', peer);
          else if (status === 'down') this.emit('down', peer);
        },
      }));
      if (peer.register !== undefined) {
        this.registrations.set(peer, new TrunkRegistration({
          peer,
          client: this.client,
          clock: this.clock,
          userAgent: o.userAgent,
          onRegistered: (expires) => {
            o.log?.info('trunk registered', { trunk: peer.name, expires });
            this.emit('registered', peer, expires);
          },
          onFailed: (status) => {
            o.log?.warn('trunk registration failed', { trunk: peer.name, status });
            this.emit('registrationFailed', peer, status);
          },
        }));
      }
    }
  }

  /** Starts keep-alives and registrations. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const k of this.keepAlives.values()) k.start();
    for (const r of this.registrations.values()) r.start();
  }

  /** Stops probing and un-REGISTERs (waits at most `unregisterWaitMs`). */
  async stop(): Promise<void> {
    this.started = false;
    for (const k of this.keepAlives.values()) k.stop();
    const unregister = Promise.all([...this.registrations.values()].map((r) => r.stop()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([unregister, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.o.unregisterWaitMs ?? 2000)))]);
    clearTimeout(timer);
  }

  get(name: string): TrunkPeer | undefined {
    return this.byName.get(name);
  }

  select(trunks: readonly Trunk[]): Trunk[] {
    return trunks.filter((t) => t.status !== 'down');
  }

  formatNumber(trunk: Trunk, e164OrShortCode: string): string {
    return formatForPlan(e164OrShortCode, trunk.numberFormat, this.o.numbering);
  }

  requestUriFor(trunk: Trunk, e164OrShortCode: string): SipUri {
    const peer = this.peer(trunk);
    const params: Array<[string, string | null]> = [];
    if (peer.transport !== 'UDP') params.push(['transport', peer.transport.toLowerCase()]);
    // RFC 3261 §19.1.1: user=phone says the user part is a telephone-subscriber.
    params.push(['user', 'phone']);
    // The port belongs to the address; a configured domain name is the PBX's own business.
    const domainIsAddress = peer.domain === uriHost(peer.target.remote.address);
    return sipUri(this.formatNumber(trunk, e164OrShortCode), peer.domain, domainIsAddress ? peer.target.remote.port : undefined, params);
  }

  answerChallenge(trunk: Trunk, request: SipRequest, challenge: SipResponse): SipRequest | undefined {
    return answerChallenge(this.peer(trunk), request, challenge);
  }

  authorize(trunk: Trunk, request: SipRequest): void {
    authorize(this.peer(trunk), request);
  }

  sendRequest(trunk: Trunk, request: SipRequest, target?: SendTarget): Promise<SipResponse> {
    const peer = this.peer(trunk);
    return this.client.send(peer, request, undefined, target ?? peer.target);
  }

  isFailover(response: SipResponse): boolean {
    return response.status === 503 || (response.status === 408 && isLocalResponse(response));
  }

  reportFailure(trunk: Trunk, failure: TrunkFailure): void {
    const peer = this.peer(trunk);
    this.o.log?.debug('trunk attempt failed', { trunk: peer.name, failure });
    this.keepAlives.get(peer)?.reportFailure();
  }

  identify(info: ReceivedInfo): TrunkPeer | undefined {
    return this.trunks.find((p) => compatible(p.transport, info.protocol) && p.hasSource(info.remote.address));
  }

  async authenticateInbound(trunk: Trunk, request: SipRequest, info: ReceivedInfo): Promise<InboundAuthResult> {
    return this.inboundAuth.authenticate(this.peer(trunk), request, info);
  }

  /** The TrunkPeer behind a Trunk handed out by this manager. */
  private peer(trunk: Trunk): TrunkPeer {
    const peer = this.byName.get(trunk.name);
    if (peer === undefined || peer !== trunk) throw new UnknownTrunkError(trunk.name);
    return peer;
  }

  /** RFC 3261 §11.1: OPTIONS to the trunk itself; see keepalive.ts for what counts as alive. */
  private async probe(peer: TrunkPeer): Promise<ProbeOutcome> {
    const target = sipUri(undefined, peer.domain, peer.target.remote.port, peer.transport === 'UDP' ? [] : [['transport', peer.transport.toLowerCase()]]);
    const request = buildRequest(
      peer,
      { method: 'OPTIONS', requestUri: target, from: sipUri('ciphergate', uriHost(peer.local.address)), to: target, headers: [['Accept', 'application/sdp']] },
      this.o.userAgent,
    );
    const res = await this.client.once(peer, request);
    return isLocalResponse(res) || res.status === 503 ? 'failed' : 'alive';
  }
}
