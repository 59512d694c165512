/**
 * The relay threads' queue-delay histograms (media/relay/io/native/src/udpio.c) summed into the
 * engine's one: the time packets waited in a relay socket's receive queue before being read.
 */
import type { QueueDelayHistogram, RelayReply } from '../relay/protocol';

function isQueueDelay(r: RelayReply): r is QueueDelayHistogram {
  return r !== null && !Array.isArray(r) && 'boundsSec' in r;
}

/**
 * The sum of the threads' histograms; undefined when no thread keeps one (dgram sockets). Threads
 * of one engine run the same addon, so their bounds agree; one that does not (never expected) is
 * left out rather than mixed in.
 */
export function mergeQueueDelay(replies: readonly RelayReply[]): QueueDelayHistogram | undefined {
  const histograms = replies.filter(isQueueDelay);
  const first = histograms[0];
  if (first === undefined) return undefined;
  const bounds = first.boundsSec;
  const counts = new Array<number>(bounds.length + 1).fill(0);
  let sumSec = 0;
  for (const h of histograms) {
    if (h.boundsSec.length !== bounds.length || h.boundsSec.some((b, i) => b !== bounds[i]) || h.counts.length !== counts.length) continue;
    h.counts.forEach((c, i) => (counts[i]! += c));
    sumSec += h.sumSec;
  }
  return { boundsSec: bounds, counts, sumSec };
}
