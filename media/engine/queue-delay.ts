/**
 * The relay threads' queue-delay histograms (media/relay/io/native/src/udpio.c) summed into the
 * engine's one: the time packets waited in a relay socket's receive queue before being read.
 */
import type { QueueDelayWire, RelayReply } from '../relay/protocol';
import type { QueueDelayHistogram } from './types';

function isQueueDelay(r: RelayReply): r is QueueDelayWire {
  return r !== null && !Array.isArray(r) && 'boundsUs' in r;
}

/**
 * The sum of the threads' histograms, in seconds; undefined when no thread keeps one (dgram
 * sockets). Threads of one engine run the same addon, so their bounds agree; one that does not
 * (never expected) is left out rather than mixed in.
 */
export function mergeQueueDelay(replies: readonly RelayReply[]): QueueDelayHistogram | undefined {
  const histograms = replies.filter(isQueueDelay);
  const first = histograms[0];
  if (first === undefined) return undefined;
  const bounds = first.boundsUs;
  const counts = new Array<number>(bounds.length + 1).fill(0);
  let sumUs = 0;
  for (const h of histograms) {
    if (h.boundsUs.length !== bounds.length || h.boundsUs.some((b, i) => b !== bounds[i]) || h.counts.length !== counts.length) continue;
    h.counts.forEach((c, i) => (counts[i]! += c));
    sumUs += h.sumUs;
  }
  return { boundsSec: bounds.map((b) => b / 1e6), counts, sumSec: sumUs / 1e6 };
}
