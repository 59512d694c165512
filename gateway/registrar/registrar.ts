/**
 * The registrar (RFC 3261 §10.3) with RFC 5626 flows: it answers REGISTER (register.ts), keeps
 * the bindings (in memory, written behind to the store), tells the B2BUA and messaging where a
 * user can be reached (`locate`, `targetFor`), and cuts a blocked user off (`blockUser`).
 *
 * Flows: a binding remembers the connection its REGISTER came over. Requests to the UA go back
 * over that connection only (`flowOnly`: baresip cannot accept an inbound TLS connection). When
 * it closes, the bindings on it are flagged unreachable (kept, listed, evicted first when the AOR
 * is full, expired normally) and `unreachable` is emitted; re-registering makes them live again.
 */
import { EventEmitter } from 'node:events';
import type { UserService } from '../admin/users';
import type { Logger } from '../log/logger';
import type { Defence } from '../security/defence';
import type { IncomingRequest } from '../sip/core/ua-core';
import { parseUri } from '../sip/message/grammar';
import { isSipUri } from '../sip/message/types';
import type { ReceivedInfo, SendTarget } from '../sip/transport/types';
import type { AccountStore, RegistrationStore } from '../store/types';
import { RegisterAuthenticator } from './authenticator';
import { BindingTable } from './bindings';
import { BindingWriter, worthWriting } from './persistence';
import { processRegister, type RegisterDeps } from './register';
import { checkLimits, DEFAULT_LIMITS, type Binding, type RegistrarEvents, type RegistrarLimits, type RegistrarStats } from './types';
import type { Removal, Upsert } from './update';
import { DomainMatcher } from './uri';

/** What the registrar needs of the transport layer (TransportLayer provides it). */
export interface FlowControl {
  isFlowAlive(flowId: string): boolean;
  /** Closes a TCP/TLS connection at once; false when it is not (or no longer) up. */
  closeFlow(flowId: string): boolean;
  on(event: 'flowClosed', listener: (flowId: string) => void): unknown;
  off(event: 'flowClosed', listener: (flowId: string) => void): unknown;
}

export interface RegistrarOptions {
  /** The UA core the REGISTER handler is installed on. */
  readonly core: { handle(method: string, handler: (r: IncomingRequest) => Promise<void>): void; support(...tags: string[]): void };
  readonly transport: FlowControl;
  readonly store: Pick<AccountStore, 'registrations' | 'secrets' | 'users'>;
  /**
   * Where the bindings are read at start and written behind (default `store.registrations`). The
   * gateway passes a connection of its own with synchronous=NORMAL (SqliteRegistrationStore.open,
   * persistence.ts says why); its owner closes it after `stop()`.
   */
  readonly bindingStore?: RegistrationStore;
  readonly users: Pick<UserService, 'ha1For' | 'userForCert'>;
  /** sip.domain: AORs are sip:<user>@<domain>. */
  readonly domain: string;
  /** Digest realm (sip.realm); the HA1s in the store are computed for it. */
  readonly realm: string;
  /** Configured listen addresses (also accepted as the domain of a Request-URI). */
  readonly listenAddresses?: readonly string[];
  readonly limits?: Partial<RegistrarLimits>;
  /** REGISTER over UDP/TCP gets 403 (default true). */
  readonly requireTls?: boolean;
  /** REGISTER needs a verified client certificate pinned to the user (default false). */
  readonly requireClientCert?: boolean;
  /** Flow-Timer recommended to outbound clients (RFC 5626 §4.4.1); below the idle timeout. */
  readonly flowTimerSec?: number;
  /** See RegisterAuthenticatorOptions.md5OnlyUserAgents. */
  readonly md5OnlyUserAgents?: readonly string[];
  readonly defence?: Defence;
  readonly log: Logger;
  /** Expired bindings are swept this often (default 30 s; the timer does not hold the process). */
  readonly sweepIntervalMs?: number;
  readonly now?: () => number;
}

export class Registrar extends EventEmitter<RegistrarEvents> {
  readonly limits: RegistrarLimits;
  readonly authenticator: RegisterAuthenticator;
  private readonly table = new BindingTable();
  private readonly writer: BindingWriter;
  private readonly bindingStore: RegistrationStore;
  private readonly domains: DomainMatcher;
  private readonly now: () => number;
  private readonly counts: RegistrarStats = {
    requests: 0, challenges: 0, accepted: 0, rejected: 0, bindingsAdded: 0, bindingsRemoved: 0, bindingsExpired: 0, storeFailures: 0,
  };
  /** TCP/TLS flows on which a user authenticated (lockout exemption, blockUser). */
  private readonly authenticatedFlows = new Map<string, string>();
  private epoch = 0;
  private readonly lastBlocked = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly deps: RegisterDeps;
  private readonly onFlowClosed = (flowId: string): void => this.flowClosed(flowId);

  constructor(private readonly o: RegistrarOptions) {
    super();
    this.limits = checkLimits({ ...DEFAULT_LIMITS, ...o.limits });
    this.now = o.now ?? Date.now;
    this.domains = new DomainMatcher(o.domain, o.listenAddresses ?? []);
    this.bindingStore = o.bindingStore ?? o.store.registrations;
    this.writer = new BindingWriter(this.bindingStore, o.log, { onFailure: () => this.counts.storeFailures++ });
    this.authenticator = new RegisterAuthenticator({
      users: o.users,
      store: o.store,
      realm: o.realm,
      log: o.log,
      ...(o.defence !== undefined && { defence: o.defence }),
      trustedFlow: (flowId, user) => this.authenticatedFlows.get(flowId) === user,
      ...(o.md5OnlyUserAgents !== undefined && { md5OnlyUserAgents: o.md5OnlyUserAgents }),
    });
    this.deps = {
      limits: this.limits,
      requireTls: o.requireTls ?? true,
      requireClientCert: o.requireClientCert ?? false,
      flowTimerSec: o.flowTimerSec,
      domains: this.domains,
      now: () => this.now(),
      aorOf: (user) => this.aorOf(user),
      authenticate: (req, info) => this.authenticator.authenticate(req, info),
      challenge: (stale, info, userAgent) => this.authenticator.challenge(stale, info, userAgent),
      certOwner: async (fp) => (await o.users.userForCert(fp))?.name,
      blockEpoch: () => this.epoch,
      blockedSince: (user, epoch) => (this.lastBlocked.get(user) ?? -1) > epoch,
      current: (aor) => this.current(aor),
      apply: (plan) => {
        for (const r of plan.removals) this.remove(r);
        for (const u of plan.upserts) this.upsert(u);
      },
      authenticated: (user, info) => this.trustFlow(user, info),
      count: (outcome) => {
        if (outcome === 'challenge') this.counts.challenges++;
        else if (outcome === 'accepted') this.counts.accepted++;
        else this.counts.rejected++;
      },
    };
  }

  /** Loads the stored bindings (RFC 5626 §5.3: their flows are gone) and starts answering REGISTER. */
  async start(): Promise<void> {
    const now = this.now();
    await this.bindingStore.expire(now);
    for (const stored of await this.bindingStore.list()) {
      let uri;
      try {
        uri = parseUri(stored.contact);
      } catch {
        uri = undefined;
      }
      if (uri === undefined || !isSipUri(uri)) {
        this.writer.remove(stored.aor, stored.contact);
        continue;
      }
      const reachable = stored.transport === 'UDP' || (stored.flowId !== undefined && this.o.transport.isFlowAlive(stored.flowId));
      this.table.set({ ...stored, uri, reachable }, stored.expiresAt);
    }
    // An account for the decoy reads from the first request on (authenticator.ts).
    const someone = (await this.o.store.users.list())[0]?.name;
    if (someone !== undefined) this.authenticator.setDecoyAccount(someone);
    this.o.transport.on('flowClosed', this.onFlowClosed);
    this.o.core.support('outbound');
    this.o.core.handle('REGISTER', (r) => this.handle(r));
    this.sweepTimer = setInterval(() => void this.sweep(), this.o.sweepIntervalMs ?? 30_000);
    this.sweepTimer.unref();
  }

  /** Stops the sweep and writes every pending change. */
  async stop(): Promise<void> {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.o.transport.off('flowClosed', this.onFlowClosed);
    await this.writer.close();
  }

  /** The AOR of an account: sip:<name>@<domain> (RFC 3261 §10.3 step 5, canonical form). */
  aorOf(user: string): string {
    return `sip:${user}@${this.o.domain}`;
  }

  /**
   * The unexpired bindings of an AOR, highest q first (RFC 3261 §16.6: q orders the targets),
   * newest first among equals. Unreachable ones are included with `reachable: false`.
   */
  locate(aor: string): Binding[] {
    return this.current(aor).sort((a, b) => (b.qMilli ?? 1000) - (a.qMilli ?? 1000) || b.updatedAt - a.updatedAt);
  }

  /**
   * Where a request to a binding goes: over its own TCP/TLS flow and nothing else (RFC 5626 §5.3:
   * the send fails with FlowFailedError → 430 when the flow is gone), or, for UDP, back to the
   * address and port the REGISTER came from, from the socket it reached (RFC 3581 §4).
   */
  targetFor(b: Binding): SendTarget {
    const remote = { address: b.remoteAddress, port: b.remotePort };
    if (b.transport === 'UDP') {
      return b.localAddress !== undefined && b.localPort !== undefined
        ? { protocol: 'UDP', remote, local: { address: b.localAddress, port: b.localPort } }
        : { protocol: 'UDP', remote };
    }
    return { protocol: b.transport, remote, ...(b.flowId !== undefined && { flowId: b.flowId }), flowOnly: true };
  }

  /** Current bindings, of one AOR or all (the admin API's RegistrarControl). */
  async registrations(aor?: string): Promise<readonly Binding[]> {
    if (aor !== undefined) return this.locate(aor);
    return [...this.table.aors()].flatMap((a) => this.locate(a));
  }

  /**
   * Cuts a user off at once: removes its bindings (memory and store), closes the connections they
   * lived on (unless another user's bindings share one) and the ones it authenticated on, then
   * emits `userBlocked` for the B2BUA to end its calls. It does not change the account: the
   * caller blocks it in UserService (ha1For then fails, so the next REGISTER gets 403).
   */
  async blockUser(name: string): Promise<void> {
    this.lastBlocked.set(name, ++this.epoch);
    const aor = this.aorOf(name);
    const flows = new Set<string>();
    for (const e of this.table.entries(aor)) {
      if (e.binding.flowId !== undefined) flows.add(e.binding.flowId);
      this.remove({ binding: e.binding, reason: 'blocked' });
    }
    for (const [flowId, user] of this.authenticatedFlows) if (user === name) flows.add(flowId);
    for (const flowId of flows) {
      this.authenticatedFlows.delete(flowId);
      if (this.table.usersOnFlow(flowId).size === 0) this.o.transport.closeFlow(flowId);
    }
    for (const b of await this.bindingStore.list(aor)) this.writer.remove(b.aor, b.contact);
    await this.writer.flush();
    this.emit('userBlocked', name);
  }

  /** Registers a listener for `userBlocked`; returns its removal. */
  onUserBlocked(listener: (name: string) => void): () => void {
    this.on('userBlocked', listener);
    return () => this.off('userBlocked', listener);
  }

  get stats(): RegistrarStats {
    return { ...this.counts };
  }

  /** Bindings held (expired ones until the next sweep included). */
  get bindingCount(): number {
    return this.table.size;
  }

  /** Changes not yet written to the store. */
  get pendingWrites(): number {
    return this.writer.pending;
  }

  /** Writes every pending change now (tests, shutdown). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Removes expired bindings from memory and the store. */
  async sweep(): Promise<void> {
    const now = this.now();
    for (const aor of [...this.table.aors()]) {
      for (const e of this.table.entries(aor)) {
        if (e.binding.expiresAt > now) continue;
        this.table.delete(aor, e.binding.contact);
        this.counts.bindingsExpired++;
        this.emit('unregistered', e.binding, 'expired');
      }
    }
    try {
      await this.bindingStore.expire(now);
    } catch (err) {
      this.counts.storeFailures++;
      this.o.log.error('expired bindings not removed from the store', { error: err instanceof Error ? err.name : 'error' });
    }
  }

  private handle(r: IncomingRequest): Promise<void> {
    this.counts.requests++;
    return processRegister(r, this.deps);
  }

  private trustFlow(user: string, info: ReceivedInfo): void {
    if (info.flowId !== undefined && this.o.transport.isFlowAlive(info.flowId)) this.authenticatedFlows.set(info.flowId, user);
  }

  /** The AOR's unexpired bindings; expired ones are dropped on the way. */
  private current(aor: string): Binding[] {
    const now = this.now();
    const out: Binding[] = [];
    for (const e of this.table.entries(aor)) {
      if (e.binding.expiresAt > now) {
        out.push(e.binding);
      } else {
        this.table.delete(aor, e.binding.contact);
        this.counts.bindingsExpired++;
        this.emit('unregistered', e.binding, 'expired');
      }
    }
    return out;
  }

  private upsert(u: Upsert): void {
    const b = u.binding;
    const entry = this.table.get(b.aor, b.contact);
    const write = entry === undefined || worthWriting(b, u.previous ?? entry.binding, entry.persistedExpiresAt, this.now());
    this.table.set(b, write || entry === undefined ? b.expiresAt : entry.persistedExpiresAt);
    if (write) this.writer.upsert(b);
    if (u.previous === undefined) this.counts.bindingsAdded++;
    this.emit('registered', b, u.previous !== undefined);
  }

  private remove(r: Removal): void {
    if (this.table.delete(r.binding.aor, r.binding.contact) === undefined) return;
    this.writer.remove(r.binding.aor, r.binding.contact);
    this.counts.bindingsRemoved++;
    this.emit('unregistered', r.binding, r.reason);
  }

  /** RFC 5626 §5.3: the bindings on a closed flow are unreachable from now on. */
  private flowClosed(flowId: string): void {
    this.authenticatedFlows.delete(flowId);
    for (const e of this.table.takeFlow(flowId)) {
      const b: Binding = { ...e.binding, reachable: false };
      this.table.set(b, e.persistedExpiresAt);
      this.emit('unreachable', b);
    }
  }
}
