/**
 * gateway/metrics with stand-ins for the gateway's parts: every metric reads the part's own
 * counters at scrape time, counters never go down, and the registry is not prom-client's global one.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { register as globalRegistry } from 'prom-client';
import type { CallEnd, CallInfo } from '../../gateway/b2bua';
import { createGatewayMetrics, MediaTally, type MetricSources } from '../../gateway/metrics';
import type { MessagingStats } from '../../gateway/messaging';
import type { RegistrarStats } from '../../gateway/registrar/types';
import { newDefenceCounters } from '../../gateway/security/types';
import { newCounters } from '../../gateway/sip/transport/options';
import type { TrunkStatus } from '../../gateway/trunk/types';
import type { CallStats, QueueDelayHistogram } from '../../media/engine/types';
import { sample } from './scrape';

/** Per-call media counters of a fake engine: one leg, one stream. */
interface FakeMedia { rx: number; tx: number; lost: number; auth: number; fast?: number }

function callStats(id: string, m: FakeMedia): CallStats {
  // Only the fields MediaTally reads; the rest of StreamLegStats is irrelevant here.
  const stream = { rx: { packets: m.rx, lost: m.lost, fastPackets: m.fast ?? 0 }, tx: { packets: m.tx }, srtpAuthFailures: m.auth };
  return { callId: id, createdAt: 0, legs: [{ tag: 'a', streams: [stream] }] } as unknown as CallStats;
}

function fakes() {
  const b2bua = Object.assign(new EventEmitter(), {
    stats: { invites: 0, answered: 0, failed: 0, rejectedLimits: 0, challenges: 0, active: 0 },
    calls: [] as string[],
    list(): CallInfo[] { return this.calls.map((id) => ({ id, mediaId: id }) as CallInfo); },
  });
  const media = new Map<string, FakeMedia>();
  const registrarStats: RegistrarStats = { requests: 0, challenges: 0, accepted: 0, rejected: 0, bindingsAdded: 0, bindingsRemoved: 0, bindingsExpired: 0, storeFailures: 0 };
  const messagingStats: MessagingStats = { requests: 0, challenges: 0, deliveredOnline: 0, stored: 0, deliveredFromStore: 0, completed: 0, expired: 0, erased: 0, confidentialUnavailable: 0, refused: {}, storeFailures: 0 };
  const trunks: Array<{ name: string; status: TrunkStatus }> = [{ name: 'pbx', status: 'up' }, { name: 'pbx2', status: 'unknown' }];
  const state = {
    parseErrors: {} as Record<number, number>, bindings: 0, defence: newDefenceCounters(), transport: newCounters(),
    registrarStats, messagingStats, trunks, b2bua, media,
  };
  const sources: MetricSources = {
    stack: { get stats() { return { parseErrors: state.parseErrors, dropped: 0, filtered: 0 }; } },
    transport: { get counters() { return state.transport; }, get flowCount() { return 3; } },
    registrar: { get stats() { return state.registrarStats; }, get bindingCount() { return state.bindings; } },
    defence: { get counters() { return state.defence; } },
    messaging: { get stats() { return state.messagingStats; } },
    trunks: { trunks },
    b2bua: b2bua as unknown as MetricSources['b2bua'],
    media: {
      query: async (id: string) => {
        const m = media.get(id);
        if (m === undefined) throw new Error('unknown-call');
        return callStats(id, m);
      },
    },
  };
  return { state, sources };
}

describe('gateway/metrics: Prometheus registry', () => {
  it('MUST use its own registry, never prom-client\'s global one', async () => {
    const { sources } = fakes();
    const m = createGatewayMetrics(sources);
    assert.notEqual(m.registry, globalRegistry);
    assert.equal(globalRegistry.getSingleMetric('ciphergate_registrations'), undefined);
    assert.ok(m.registry.getSingleMetric('ciphergate_registrations'));
    m.dispose();
  });

  it('MUST read registrations, security and parse-error counters at scrape time', async () => {
    const { state, sources } = fakes();
    const m = createGatewayMetrics(sources);
    state.bindings = 7;
    state.defence.authFailures = 4;
    state.defence.lockouts = 1;
    state.defence.bans = 3;
    state.defence.rateBans = 1;
    state.defence.authBans = 1;
    state.parseErrors[400] = 2;
    state.parseErrors[513] = 1;
    state.registrarStats.challenges = 5;
    const text = await m.registry.metrics();
    assert.equal(sample(text, 'ciphergate_registrations'), 7);
    assert.equal(sample(text, 'ciphergate_auth_failures_total'), 4);
    assert.equal(sample(text, 'ciphergate_account_lockouts_total'), 1);
    assert.equal(sample(text, 'ciphergate_source_bans_total{reason="other"}'), 1);
    assert.equal(sample(text, 'ciphergate_sip_parse_errors_total{status="400"}'), 2);
    assert.equal(sample(text, 'ciphergate_sip_parse_errors_total{status="513"}'), 1);
    assert.equal(sample(text, 'ciphergate_register_responses_total{result="challenged"}'), 5);
    assert.equal(sample(text, 'ciphergate_sip_flows'), 3);
    assert.match(text, /^ciphergate_process_cpu_seconds_total /m, 'process metrics on the same registry');
    state.defence.authFailures = 9;
    assert.equal(sample(await m.registry.metrics(), 'ciphergate_auth_failures_total'), 9, 'a second scrape reads the new value');
    m.dispose();
  });

  it('MUST count calls and their outcomes by final status code from the B2BUA events', async () => {
    const { state, sources } = fakes();
    const m = createGatewayMetrics(sources);
    const end = (status: number): CallEnd => ({ status, disposition: 'answered', endedBy: 'caller', cause: 'bye', answered: status === 200 });
    state.b2bua.emit('call', {});
    state.b2bua.emit('call', {});
    state.b2bua.emit('callEnded', {} as CallInfo, end(200));
    state.b2bua.emit('callEnded', {} as CallInfo, end(486));
    state.b2bua.stats.active = 1;
    const text = await m.registry.metrics();
    assert.equal(sample(text, 'ciphergate_calls_total'), 2);
    assert.equal(sample(text, 'ciphergate_calls_ended_total{code="200"}'), 1);
    assert.equal(sample(text, 'ciphergate_calls_ended_total{code="486"}'), 1);
    assert.equal(sample(text, 'ciphergate_calls_active'), 1);
    m.dispose();
    state.b2bua.emit('call', {});
    assert.equal(sample(await m.registry.metrics(), 'ciphergate_calls_total'), 2, 'dispose() removes the listeners');
  });

  it('MUST expose each trunk as 1 when usable and 0 when down', async () => {
    const { state, sources } = fakes();
    const m = createGatewayMetrics(sources);
    let text = await m.registry.metrics();
    assert.equal(sample(text, 'ciphergate_trunk_up{trunk="pbx"}'), 1);
    assert.equal(sample(text, 'ciphergate_trunk_up{trunk="pbx2"}'), 1, 'unknown (no keep-alive) is routed to: usable');
    state.trunks[0]!.status = 'down';
    text = await m.registry.metrics();
    assert.equal(sample(text, 'ciphergate_trunk_up{trunk="pbx"}'), 0);
    m.dispose();
  });

  it('MUST expose messages stored and delivered', async () => {
    const { state, sources } = fakes();
    const m = createGatewayMetrics(sources);
    state.messagingStats.stored = 3;
    state.messagingStats.deliveredOnline = 5;
    state.messagingStats.deliveredFromStore = 2;
    const text = await m.registry.metrics();
    assert.equal(sample(text, 'ciphergate_messages_stored_total'), 3);
    assert.equal(sample(text, 'ciphergate_messages_delivered_total{path="online"}'), 5);
    assert.equal(sample(text, 'ciphergate_messages_delivered_total{path="store"}'), 2);
    m.dispose();
  });
});

describe('gateway/metrics: media counters (RFC 3550 §6.4 loss, RFC 3711 §3.4 auth failures)', () => {
  it('MUST keep media counters monotonic while calls come and go', async () => {
    const { state, sources } = fakes();
    const m = createGatewayMetrics(sources);
    state.media.set('c1', { rx: 100, tx: 90, lost: 2, auth: 1, fast: 95 });
    state.b2bua.calls = ['c1'];
    let text = await m.registry.metrics();
    assert.equal(sample(text, 'ciphergate_media_packets_total{direction="rx"}'), 100);
    assert.equal(sample(text, 'ciphergate_media_packets_total{direction="tx"}'), 90);
    assert.equal(sample(text, 'ciphergate_media_packets_lost_total'), 2);
    assert.equal(sample(text, 'ciphergate_media_srtp_auth_failures_total'), 1);
    assert.equal(sample(text, 'ciphergate_media_fast_path_packets_total'), 95);
    // c1 ends, c2 starts: c1's packets stay counted.
    state.media.delete('c1');
    state.media.set('c2', { rx: 10, tx: 10, lost: 0, auth: 0 });
    state.b2bua.calls = ['c2'];
    text = await m.registry.metrics();
    assert.equal(sample(text, 'ciphergate_media_packets_total{direction="rx"}'), 110);
    assert.equal(sample(text, 'ciphergate_media_srtp_auth_failures_total'), 1);
    m.dispose();
  });

  it('MUST count a call\'s reset counters as new packets, never subtract', async () => {
    const media = new Map<string, FakeMedia>([['c', { rx: 50, tx: 0, lost: 0, auth: 0 }]]);
    const tally = new MediaTally({ engine: { query: async (id) => callStats(id, media.get(id)!) }, callIds: () => ['c'] });
    assert.equal((await tally.refresh()).rxPackets, 50);
    media.set('c', { rx: 70, tx: 0, lost: 0, auth: 0 });
    assert.equal((await tally.refresh()).rxPackets, 70);
    media.set('c', { rx: 5, tx: 0, lost: 0, auth: 0 }); // a new answerer leg: the engine restarted its counters
    assert.equal((await tally.refresh()).rxPackets, 75);
  });

  it('MUST share one refresh between concurrent scrapes and bound the queries in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    let queries = 0;
    const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const tally = new MediaTally({
      engine: {
        query: async (id) => {
          queries++;
          peak = Math.max(peak, ++inFlight);
          await new Promise((r) => setTimeout(r, 5));
          inFlight--;
          return callStats(id, { rx: 1, tx: 1, lost: 0, auth: 0 });
        },
      },
      callIds: () => ids,
      concurrency: 3,
    });
    const [a, b] = await Promise.all([tally.refresh(), tally.refresh()]);
    assert.equal(queries, 10, 'one refresh for both scrapes');
    assert.ok(peak <= 3, `at most 3 queries in flight (saw ${peak})`);
    assert.equal(a.rxPackets, 10);
    assert.deepEqual(a, b);
  });
});

describe('gateway/metrics: the media relay\'s queue delay (a histogram kept by the relay threads)', () => {
  it('MUST expose cumulative _bucket{le}, +Inf, _sum and _count as the text format requires', async () => {
    const { sources } = fakes();
    const histogram: QueueDelayHistogram = { boundsSec: [0.0001, 0.001, 0.01], counts: [5, 3, 1, 2], sumSec: 0.5 };
    const m = createGatewayMetrics({ ...sources, media: { ...sources.media, queueDelay: async () => histogram } });
    const text = await m.registry.metrics();
    assert.match(text, /# TYPE ciphergate_media_relay_queue_delay_seconds histogram/);
    assert.equal(sample(text, 'ciphergate_media_relay_queue_delay_seconds_bucket{le="0.0001"}'), 5);
    assert.equal(sample(text, 'ciphergate_media_relay_queue_delay_seconds_bucket{le="0.001"}'), 8);
    assert.equal(sample(text, 'ciphergate_media_relay_queue_delay_seconds_bucket{le="0.01"}'), 9);
    assert.equal(sample(text, 'ciphergate_media_relay_queue_delay_seconds_bucket{le="+Inf"}'), 11);
    assert.equal(sample(text, 'ciphergate_media_relay_queue_delay_seconds_sum'), 0.5);
    assert.equal(sample(text, 'ciphergate_media_relay_queue_delay_seconds_count'), 11);
    m.dispose();
  });

  it('MUST expose no series when the engine keeps no histogram or fails to answer, and no metric without the method', async () => {
    const { sources } = fakes();
    let m = createGatewayMetrics({ ...sources, media: { ...sources.media, queueDelay: async () => undefined } });
    let text = await m.registry.metrics();
    assert.match(text, /# TYPE ciphergate_media_relay_queue_delay_seconds histogram/);
    assert.doesNotMatch(text, /ciphergate_media_relay_queue_delay_seconds_count/);
    m.dispose();
    m = createGatewayMetrics({ ...sources, media: { ...sources.media, queueDelay: () => Promise.reject(new Error('relay gone')) } });
    text = await m.registry.metrics();
    assert.doesNotMatch(text, /ciphergate_media_relay_queue_delay_seconds_count/);
    m.dispose();
    m = createGatewayMetrics(sources);
    assert.doesNotMatch(await m.registry.metrics(), /queue_delay/);
    m.dispose();
  });
});

describe('gateway/metrics: the media relay threads\' busy time', () => {
  it('MUST expose one counter series per relay thread, and none without the method or when it fails', async () => {
    const { sources } = fakes();
    let m = createGatewayMetrics({ ...sources, media: { ...sources.media, relayBusy: async () => [{ thread: 0, busySec: 1.5 }, { thread: 1, busySec: 0.25 }] } });
    let text = await m.registry.metrics();
    assert.match(text, /# TYPE ciphergate_media_relay_busy_seconds_total counter/);
    assert.equal(sample(text, 'ciphergate_media_relay_busy_seconds_total{thread="0"}'), 1.5);
    assert.equal(sample(text, 'ciphergate_media_relay_busy_seconds_total{thread="1"}'), 0.25);
    m.dispose();
    m = createGatewayMetrics({ ...sources, media: { ...sources.media, relayBusy: () => Promise.reject(new Error('relay gone')) } });
    text = await m.registry.metrics();
    assert.doesNotMatch(text, /ciphergate_media_relay_busy_seconds_total\{/);
    m.dispose();
    m = createGatewayMetrics(sources);
    assert.doesNotMatch(await m.registry.metrics(), /relay_busy/);
    m.dispose();
  });
});
