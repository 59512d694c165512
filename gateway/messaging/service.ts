/**
 * Secure messaging (RFC 3428 MESSAGE) with store-and-forward, groups and confidential mode.
 *
 * The pieces: inbound.ts answers MESSAGE (validation, 407 digest, routing, the answer);
 * dispatch.ts delivers to a recipient's online devices or has the message stored;
 * store-forward.ts carries a stored message from admission to erasure (mailbox.ts in memory,
 * message-store.ts on disk, sealed by envelope.ts, delivered by delivery.ts). This class owns them,
 * listens to the registrar, and offers the administrative operations (erasure, groups, policy).
 */
import { EventEmitter } from 'node:events';
import type { Database } from 'better-sqlite3';
import type { UserService } from '../admin/users';
import type { Logger } from '../log/logger';
import type { Registrar } from '../registrar/registrar';
import type { Binding, UnregisterReason } from '../registrar/types';
import { DomainMatcher } from '../registrar/uri';
import type { IncomingRequest } from '../sip/core/ua-core';
import type { TransactionLayer } from '../sip/transaction/manager';
import type { MasterKey } from '../store/keys';
import { openDatabase } from '../store/sqlite/database';
import { AccountCache } from './accounts';
import { MessageAuthenticator } from './auth';
import { devicesOf, type Device } from './devices';
import { dispatch, type RecipientResult } from './dispatch';
import { EnvelopeSealer } from './envelope';
import { MessagingConfigError } from './errors';
import { GroupStore, PolicyStore } from './groups';
import { processMessage } from './inbound';
import { MessageStore } from './message-store';
import { DeviceSender, type OutgoingMessage } from './outgoing';
import { StoreAndForward, type RemovalReason } from './store-forward';
import { DEFAULT_MESSAGING_LIMITS, type MessagingLimits, type MessagingStats } from './types';

export type { RemovalReason } from './store-forward';

export interface MessagingEvents {
  /** A message was committed for `recipient` (before the 202 went out). */
  stored: [recipient: string, seq: number];
  /** A stored message was erased from the store. */
  removed: [recipient: string, seq: number, reason: RemovalReason];
}

/** What messaging needs of the registrar. */
export type MessagingRegistrar = Pick<Registrar, 'locate' | 'targetFor' | 'aorOf' | 'authenticator' | 'on' | 'off'>;

export interface MessagingServiceOptions {
  readonly core: { handle(method: string, handler: (r: IncomingRequest) => Promise<void>): void };
  readonly transactions: Pick<TransactionLayer, 'sendNonInvite'>;
  readonly registrar: MessagingRegistrar;
  readonly users: Pick<UserService, 'get' | 'getByNumber'>;
  /** A connection to the accounts database (openMessagingDatabase); closed by stop(). */
  readonly db: Database;
  readonly masterKey: MasterKey;
  /** sip.domain: users and groups are sip:NAME@domain. */
  readonly domain: string;
  readonly listenAddresses?: readonly string[];
  /** MESSAGE over UDP/TCP gets 403 (default true, like REGISTER). */
  readonly requireTls?: boolean;
  readonly limits?: Partial<MessagingLimits>;
  readonly log: Logger;
  /** Wall clock (ms) for TTLs; tests pass a fake one. */
  readonly now?: () => number;
}

/** A connection of its own to <dataDir>/ciphergate.db (WAL, synchronous=FULL, secure_delete, migrations). */
export function openMessagingDatabase(dataDir: string): Database {
  return openDatabase(dataDir);
}

export class MessagingService extends EventEmitter<MessagingEvents> {
  readonly limits: MessagingLimits;
  readonly groups: GroupStore;
  readonly policies: PolicyStore;
  private readonly sealer: EnvelopeSealer;
  private readonly sender: DeviceSender;
  private readonly accounts: AccountCache;
  private readonly store: MessageStore;
  private readonly saf: StoreAndForward;
  private readonly now: () => number;
  private readonly counts: MessagingStats = {
    requests: 0, challenges: 0, deliveredOnline: 0, stored: 0, deliveredFromStore: 0, completed: 0, expired: 0, erased: 0,
    confidentialUnavailable: 0, refused: {}, storeFailures: 0,
  };
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onRegistered = (b: Binding): void => void setImmediate(() => this.saf.deviceRegistered(b));
  private readonly onUnregistered = (b: Binding, reason: UnregisterReason): void => this.saf.deviceGone(b, reason);
  private readonly onUserBlocked = (name: string): void => {
    this.accounts.forget(name);
    this.saf.stopUser(name);
  };

  constructor(private readonly o: MessagingServiceOptions) {
    super();
    this.limits = checkLimits({ ...DEFAULT_MESSAGING_LIMITS, ...o.limits });
    this.now = o.now ?? Date.now;
    this.accounts = new AccountCache(o.users);
    this.groups = new GroupStore(o.db);
    this.policies = new PolicyStore(o.db);
    this.sealer = new EnvelopeSealer(o.masterKey);
    this.sender = new DeviceSender({ transactions: o.transactions, targetFor: (b) => o.registrar.targetFor(b), domain: o.domain });
    this.store = new MessageStore(o.db, { log: o.log, onFailure: () => this.counts.storeFailures++ });
    this.saf = new StoreAndForward({
      limits: this.limits,
      store: this.store,
      sealer: this.sealer,
      sender: this.sender,
      counts: this.counts,
      log: o.log,
      now: () => this.now(),
      devicesOf: (user) => this.devicesOf(user),
      account: (name) => o.users.get(name),
      stored: (recipient, seq) => this.emit('stored', recipient, seq),
      removed: (recipient, seq, reason) => this.emit('removed', recipient, seq, reason),
    });
  }

  /** Loads the stored messages, installs the MESSAGE handler and the registrar hooks. */
  start(): void {
    this.saf.load();
    this.saf.sweep();
    const domains = new DomainMatcher(this.o.domain, this.o.listenAddresses ?? []);
    const auth = new MessageAuthenticator(this.o.registrar.authenticator);
    this.o.core.handle('MESSAGE', (r) => processMessage(r, {
      limits: this.limits,
      requireTls: this.o.requireTls ?? true,
      domains,
      auth,
      stats: this.counts,
      account: (name) => this.accounts.get(name),
      accountByNumber: (e164) => this.o.users.getByNumber(e164),
      group: (name) => this.groups.get(name),
      isConfidentialUser: (name) => this.policies.isConfidential(name),
      aorOf: (name) => this.o.registrar.aorOf(name),
      deliver: (recipient, message, storable, group) => this.deliver(recipient, message, storable, group),
    }));
    this.o.registrar.on('registered', this.onRegistered);
    this.o.registrar.on('unregistered', this.onUnregistered);
    this.o.registrar.on('userBlocked', this.onUserBlocked);
    this.sweepTimer = setInterval(() => this.saf.sweep(), this.limits.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  /** Stops delivery, commits pending writes, closes the database connection. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.o.registrar.off('registered', this.onRegistered);
    this.o.registrar.off('unregistered', this.onUnregistered);
    this.o.registrar.off('userBlocked', this.onUserBlocked);
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.saf.close();
    this.sealer.dispose();
  }

  get stats(): MessagingStats {
    return { ...this.counts, refused: { ...this.counts.refused } };
  }

  /** Stored messages waiting, for one recipient or in all. */
  storedCount(user?: string): number {
    return this.saf.count(user);
  }

  /** Delivery queues running (tests, metrics). */
  get activeDeliveries(): number {
    return this.saf.activeQueues;
  }

  /**
   * destroy-keys and account removal: every message waiting for `name` is erased now (zeroed,
   * deleted, WAL truncated). Returns how many.
   */
  eraseUser(name: string): number {
    this.accounts.forget(name);
    this.policies.forget(name);
    return this.saf.erase(name);
  }

  /** Erases the messages whose TTL ran out; returns how many. */
  sweep(): number {
    return this.saf.sweep();
  }

  /** Commits pending store writes now (tests). */
  flush(): void {
    this.store.flush();
  }

  private async deliver(recipient: string, message: OutgoingMessage, storable: boolean, group?: string): Promise<RecipientResult> {
    const result = await dispatch({ recipient, message, storable, ...(group !== undefined && { group }) }, {
      onlineTimeoutMs: this.limits.onlineTimeoutMs,
      account: (name) => this.accounts.get(name),
      devices: (user) => this.devicesOf(user),
      hasBacklog: (user, device) => this.saf.hasBacklog(user, device),
      send: (dev, m, timeoutMs) => this.sender.send(dev.binding, m, timeoutMs),
      store: (r, g, m, rows, tried) => this.saf.admit(r, g, m, rows, tried),
      answeredLate: (meta, device, status) => this.saf.answered(meta, device, status),
    });
    if (result.kind === 'unavailable' && message.confidential) this.counts.confidentialUnavailable++;
    return result;
  }

  private devicesOf(user: string): Device[] {
    return devicesOf(this.o.registrar.locate(this.o.registrar.aorOf(user)));
  }
}

function checkLimits(l: MessagingLimits): MessagingLimits {
  for (const [name, v] of Object.entries(l)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new MessagingConfigError(`messaging limit ${name} must be a positive integer`);
  }
  return l;
}
