/**
 * The gateway's Prometheus metrics (prom-client, text exposition format 0.0.4) on a registry of
 * its own (never prom-client's global one). Every value is read from the counters the parts of
 * the gateway already keep, in collect() callbacks at scrape time: nothing is added to the
 * per-packet or per-message paths. The only event listener is on call ends (once per call), to
 * count outcomes by final status code.
 *
 * Rates (calls per second, registrations per second) are for PromQL: rate(ciphergate_calls_total[1m]).
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { B2bua, CallEnd, CallInfo } from '../b2bua';
import type { MessagingService } from '../messaging';
import type { Registrar } from '../registrar/registrar';
import type { Defence } from '../security/defence';
import type { SipStack } from '../sip/stack';
import type { TransportLayer } from '../sip/transport/transport-layer';
import type { Trunk } from '../trunk/types';
import type { MediaEngine } from '../../media/engine/types';
import { MediaTally } from './media-tally';
import { registerHistogram } from './histogram';

/** What the metrics read: the running gateway's parts (narrowed, so tests can pass fakes). */
export interface MetricSources {
  readonly stack: Pick<SipStack, 'stats'>;
  readonly transport: Pick<TransportLayer, 'counters' | 'flowCount'>;
  readonly registrar: Pick<Registrar, 'stats' | 'bindingCount'>;
  readonly defence: Pick<Defence, 'counters'>;
  readonly messaging: Pick<MessagingService, 'stats'>;
  readonly trunks: { readonly trunks: readonly Pick<Trunk, 'name' | 'status'>[] };
  readonly b2bua: Pick<B2bua, 'stats' | 'list' | 'on' | 'off'>;
  readonly media: Pick<MediaEngine, 'query' | 'queueDelay' | 'relayBusy'>;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Removes the call-end listener (the gateway stops). */
  dispose(): void;
}

export const METRIC_PREFIX = 'ciphergate_';

/** Sets a counter to a snapshot value: the sources keep monotonic totals, prom-client only adds. */
function setCounter(c: Counter<string>, value: number, labels?: Record<string, string>): void {
  if (labels === undefined) c.inc(Math.max(0, value));
  else c.inc(labels, Math.max(0, value));
}

export function createGatewayMetrics(src: MetricSources): GatewayMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const p = METRIC_PREFIX;

  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({ name: p + name, help, registers, collect() { this.reset(); setCounter(this, read()); } });
  };
  const labelled = (name: string, help: string, label: string, read: () => Record<string, number>): void => {
    new Counter({
      name: p + name, help, labelNames: [label], registers,
      collect() {
        this.reset();
        for (const [value, n] of Object.entries(read())) setCounter(this, n, { [label]: value });
      },
    });
  };
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name: p + name, help, registers, collect() { this.set(read()); } });
  };

  // ---- SIP (RFC 3261 §18, §7) --------------------------------------------------------------------
  labelled('sip_messages_total', 'SIP messages received and sent by the transport layer.', 'direction', () => {
    const c = src.transport.counters;
    return { in: c.messagesIn, out: c.messagesOut };
  });
  labelled('sip_parse_errors_total', 'SIP messages the parser refused, by the status it answered (400, 505, 513...).', 'status',
    () => ({ ...src.stack.stats.parseErrors }));
  gauge('sip_flows', 'Open SIP connections (TCP/TLS flows).', () => src.transport.flowCount);

  // ---- Registrar (RFC 3261 §10) --------------------------------------------------------------------
  gauge('registrations', 'Contact bindings currently registered.', () => src.registrar.bindingCount);
  labelled('register_responses_total', 'REGISTER requests by outcome: accepted (200), challenged (401), rejected (other 4xx/5xx).', 'result', () => {
    const s = src.registrar.stats;
    return { accepted: s.accepted, challenged: s.challenges, rejected: s.rejected };
  });

  // ---- Security (gateway/security) -----------------------------------------------------------------
  counter('auth_failures_total', 'Digest responses that did not verify (SIP REGISTER, INVITE, MESSAGE).', () => src.defence.counters.authFailures);
  counter('account_lockouts_total', 'Accounts locked after repeated authentication failures.', () => src.defence.counters.lockouts);
  counter('locked_attempts_total', 'Requests refused because their account was locked.', () => src.defence.counters.lockedAttempts);
  labelled('source_bans_total', 'Source addresses banned, by reason (rate, auth, other).', 'reason', () => {
    const c = src.defence.counters;
    return { rate: c.rateBans, auth: c.authBans, other: c.bans - c.rateBans - c.authBans };
  });
  labelled('dropped_messages_total', 'SIP messages dropped unanswered: source banned, or a known scanner.', 'reason', () => {
    const c = src.defence.counters;
    return { banned: c.bannedDrops, scanner: c.scannerDrops };
  });

  // ---- Calls (gateway/b2bua) -------------------------------------------------------------------------
  gauge('calls_active', 'Calls in progress (set up, ringing or answered).', () => src.b2bua.stats.active);
  counter('call_invites_total', 'INVITEs outside a dialog received (challenged and refused ones included).', () => src.b2bua.stats.invites);
  counter('calls_answered_total', 'Calls answered (2xx relayed to the caller).', () => src.b2bua.stats.answered);
  counter('call_admission_refusals_total', 'INVITEs refused 503 by the call limits (rate, concurrency, per user).', () => src.b2bua.stats.rejectedLimits);
  const started = new Counter({ name: `${p}calls_total`, help: 'Calls admitted and routed (rate() of it is the calls per second).', registers });
  const ended = new Counter({
    name: `${p}calls_ended_total`, help: 'Calls ended, by final status of the call setup (200 answered, 487 cancelled, 486, 503...).',
    labelNames: ['code'], registers,
  });
  const onCall = (): void => started.inc();
  const onEnded = (_info: CallInfo, end: CallEnd): void => ended.inc({ code: String(end.status) });
  src.b2bua.on('call', onCall);
  src.b2bua.on('callEnded', onEnded);

  // ---- Media (media/engine) ------------------------------------------------------------------------
  const tally = new MediaTally({ engine: src.media, callIds: () => src.b2bua.list().map((c) => c.mediaId) });
  const mediaCounter = (name: string, help: string, labels: string[], fill: (c: Counter<string>, t: Awaited<ReturnType<MediaTally['refresh']>>) => void): void => {
    new Counter({ name: p + name, help, labelNames: labels, registers, async collect() { this.reset(); fill(this, await tally.refresh()); } });
  };
  mediaCounter('media_packets_total', 'RTP/SRTP packets the relay received from and sent to the endpoints.', ['direction'], (c, t) => {
    setCounter(c, t.rxPackets, { direction: 'rx' });
    setCounter(c, t.txPackets, { direction: 'tx' });
  });
  mediaCounter('media_fast_path_packets_total', 'Of the RTP/SRTP packets received, those the native fast path relayed (media.fastPath).', [], (c, t) => setCounter(c, t.fastPackets));
  mediaCounter('media_packets_lost_total', 'RTP packets lost on the way to the relay (sequence gaps).', [], (c, t) => setCounter(c, t.lost));
  const queueDelay = src.media.queueDelay?.bind(src.media);
  if (queueDelay !== undefined) {
    registerHistogram(
      registry,
      `${p}media_relay_queue_delay_seconds`,
      'Time relayed packets waited in a relay socket before a relay thread read them (kernel receive timestamp to read): the latency the media relay adds when busy. Batched socket I/O only.',
      queueDelay,
    );
  }
  const relayBusy = src.media.relayBusy?.bind(src.media);
  if (relayBusy !== undefined) {
    new Counter({
      name: `${p}media_relay_busy_seconds_total`,
      help: 'Time each media relay worker thread was busy (its event loop not waiting for packets or timers): rate() of it is the thread\'s load; above ~0.5 the queue delay grows.',
      labelNames: ['thread'], registers,
      async collect() {
        this.reset();
        for (const t of await relayBusy().catch(() => [])) setCounter(this, t.busySec, { thread: String(t.thread) });
      },
    });
  }
  mediaCounter('media_srtp_auth_failures_total', 'SRTP/SRTCP packets whose authentication tag did not verify (RFC 3711 §3.4).', [], (c, t) => setCounter(c, t.srtpAuthFailures));

  // ---- Messaging (gateway/messaging) ---------------------------------------------------------------
  counter('messages_stored_total', 'SIP MESSAGEs written to the store for a recipient that was offline (202).', () => src.messaging.stats.stored);
  labelled('messages_delivered_total', 'SIP MESSAGEs delivered: online (while the sender waited) or later from the store (per device).', 'path', () => {
    const s = src.messaging.stats;
    return { online: s.deliveredOnline, store: s.deliveredFromStore };
  });
  counter('messages_expired_total', 'Stored messages erased undelivered at the end of their time to live.', () => src.messaging.stats.expired);

  // ---- Trunks (gateway/trunk) ------------------------------------------------------------------------
  new Gauge({
    name: `${p}trunk_up`, help: 'Trunk state: 1 usable (up, or unknown when keep-alives are off), 0 down.', labelNames: ['trunk'], registers,
    collect() {
      this.reset();
      for (const t of src.trunks.trunks) this.set({ trunk: t.name }, t.status === 'down' ? 0 : 1);
    },
  });

  return {
    registry,
    dispose() {
      src.b2bua.off('call', onCall);
      src.b2bua.off('callEnded', onEnded);
    },
  };
}
