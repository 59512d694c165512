/**
 * Media counters for Prometheus, gathered at scrape time: the engine keeps counters per call only
 * (media/engine query()), so each scrape asks it about the calls in progress and adds what grew
 * since the previous scrape to running totals. The totals never go down (Prometheus counter
 * semantics), whatever calls come and go; what a call relayed between the last scrape and its
 * end is not counted (bounded by the scrape interval).
 */
import type { MediaEngine } from '../../media/engine/types';

/** Totals of every stream and leg of one call (or of all calls). */
export interface MediaTotals {
  rxPackets: number;
  txPackets: number;
  /** RTP packets the relay inferred lost from sequence gaps (RTP RFC 3550 §A.3). */
  lost: number;
  /** SRTP/SRTCP packets whose authentication tag did not verify (RFC 3711 §3.4). */
  srtpAuthFailures: number;
  /** Of the received RTP packets, those relayed by the native fast path (media/relay/fast.ts). */
  fastPackets: number;
}

export interface MediaTallyOptions {
  readonly engine: Pick<MediaEngine, 'query'>;
  /** The engine's ids of the calls in progress (the B2BUA's call ids). */
  readonly callIds: () => readonly string[];
  /** Queries in flight at once (default 32): a scrape must not flood the relay threads. */
  readonly concurrency?: number;
  /** A scrape gives up querying after this long and reports what it has (default 2000 ms). */
  readonly budgetMs?: number;
}

const FIELDS = ['rxPackets', 'txPackets', 'lost', 'srtpAuthFailures', 'fastPackets'] as const;

function zero(): MediaTotals {
  return { rxPackets: 0, txPackets: 0, lost: 0, srtpAuthFailures: 0, fastPackets: 0 };
}

export class MediaTally {
  private readonly totals = zero();
  /** The engine's counters for each call at the last scrape. */
  private readonly seen = new Map<string, MediaTotals>();
  private inFlight: Promise<MediaTotals> | undefined;

  constructor(private readonly o: MediaTallyOptions) {}

  /** Brings the totals up to date; concurrent scrapes share one refresh. */
  refresh(): Promise<MediaTotals> {
    this.inFlight ??= this.run().finally(() => { this.inFlight = undefined; });
    return this.inFlight;
  }

  private async run(): Promise<MediaTotals> {
    const ids = [...this.o.callIds()];
    const live = new Set(ids);
    for (const id of this.seen.keys()) if (!live.has(id)) this.seen.delete(id);
    const deadline = Date.now() + (this.o.budgetMs ?? 2000);
    const width = Math.max(1, this.o.concurrency ?? 32);
    for (let i = 0; i < ids.length && Date.now() < deadline; i += width) {
      const batch = ids.slice(i, i + width);
      const results = await Promise.allSettled(batch.map((id) => this.o.engine.query(id)));
      results.forEach((r, k) => {
        // A call without media yet (or already torn down) is simply skipped this time.
        if (r.status === 'fulfilled') this.account(batch[k]!, sumCall(r.value));
      });
    }
    return { ...this.totals };
  }

  /** Adds the growth of one call's counters; a counter that went down was reset: all of it is new. */
  private account(id: string, now: MediaTotals): void {
    const before = this.seen.get(id) ?? zero();
    for (const f of FIELDS) this.totals[f] += now[f] >= before[f] ? now[f] - before[f] : now[f];
    this.seen.set(id, now);
  }
}

function sumCall(stats: Awaited<ReturnType<MediaEngine['query']>>): MediaTotals {
  const t = zero();
  for (const leg of stats.legs) {
    for (const s of leg.streams) {
      t.rxPackets += s.rx.packets;
      t.txPackets += s.tx.packets;
      t.lost += s.rx.lost;
      t.srtpAuthFailures += s.srtpAuthFailures;
      t.fastPackets += s.rx.fastPackets;
    }
  }
  return t;
}
