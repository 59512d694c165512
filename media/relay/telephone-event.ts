/**
 * RFC 4733 telephone-events (DTMF) across a transcoder whose two legs may run different RTP clocks
 * (telephone-event/48000 next to Opus, /8000 next to G.711).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   |     event     |E|R| volume    |          duration             |
 *
 * What changes (RFC 4733 §2.3): the RTP timestamp, which marks the event's start on the stream's
 * clock, goes on the output clock by the transcoder's own input → output map (the one its audio
 * follows, so DTMF and voice stay aligned); the duration, in ticks of the event clock, is scaled
 * to the other leg's event clock. Event code, E, R and volume are carried as they are, and every
 * packet (the updates, and the final one sent three times, §2.5.1.4) stays one packet, so a
 * receiver sees exactly the sender's sequence of reports.
 *
 * One output timestamp per event: it is computed on the event's first packet and kept for all its
 * updates. Receivers tell events apart by timestamp (§2.5.2.1): a map that moved between two
 * updates (a talkspurt starting under the event) must not turn one key press into two.
 *
 * Long events (§2.5.1.3): scaled up (8 kHz → 48 kHz), a duration can pass 0xFFFF. The event is then
 * continued in segments: segment k starts at timestamp + k·0xFFFF and the segment before it is
 * closed with a report of duration 0xFFFF, E clear; the marker bit is only on the event's start.
 * A packet of several events (§2.5.1.5) has its durations scaled and, past 0xFFFF, capped.
 */

const MAX_DURATION = 0xffff;
/** Events packed into one packet that are accepted (RFC 4733 sets no limit; a bound against junk). */
const MAX_EVENTS_PER_PACKET = 16;

/** A telephone-event payload that is not a whole number of 4-octet event reports. */
export class TelephoneEventPayloadError extends Error {
  constructor(length: number) {
    super(`telephone-event payload of ${length} octets is not 1 to ${MAX_EVENTS_PER_PACKET} 4-octet reports`);
    this.name = 'TelephoneEventPayloadError';
  }
}

export interface RetimedEvent {
  readonly payload: Buffer;
  /** RTP timestamp on the output clock. */
  readonly timestamp: number;
  readonly marker: boolean;
}

export class TelephoneEventRetimer {
  private readonly ratio: number;
  /** Input timestamp of the event being reported, its output timestamp, and the segment reached. */
  private inTs: number | undefined;
  private outTs = 0;
  private segment = 0;

  constructor(
    readonly fromClock: number,
    readonly toClock: number,
  ) {
    this.ratio = toClock / fromClock;
  }

  /** A new source (RFC 3550 §8.2): its events are new events. */
  reset(): void {
    this.inTs = undefined;
  }

  /**
   * The output reports for one received telephone-event payload with RTP timestamp `inTs`;
   * `outputTimestamp` maps an input timestamp onto the output clock (the transcoder's map).
   * @throws TelephoneEventPayloadError when the payload is not 1–16 event reports.
   */
  retime(payload: Uint8Array, inTs: number, marker: boolean, outputTimestamp: (ts: number) => number): RetimedEvent[] {
    const n = payload.length / 4;
    if (!Number.isInteger(n) || n < 1 || n > MAX_EVENTS_PER_PACKET) throw new TelephoneEventPayloadError(payload.length);
    if (this.inTs !== inTs >>> 0) {
      this.inTs = inTs >>> 0;
      this.outTs = outputTimestamp(inTs);
      this.segment = 0;
    }
    if (n > 1) {
      const out = Buffer.from(payload);
      for (let i = 0; i < n; i++) out.writeUInt16BE(Math.min(MAX_DURATION, this.scale(out.readUInt16BE(4 * i + 2))), 4 * i + 2);
      return [{ payload: out, timestamp: this.outTs, marker }];
    }
    const duration = this.scale((payload[2]! << 8) | payload[3]!);
    const segment = duration === 0 ? 0 : Math.floor((duration - 1) / MAX_DURATION);
    const out: RetimedEvent[] = [];
    // Close the segments this update went past, each at its full length, end bit clear.
    for (let k = this.segment; k < segment; k++) {
      out.push({ payload: report(payload[0]!, payload[1]! & 0x7f, MAX_DURATION), timestamp: this.segmentTs(k), marker: marker && k === 0 });
    }
    if (segment > this.segment) this.segment = segment;
    out.push({
      payload: report(payload[0]!, payload[1]!, duration - segment * MAX_DURATION),
      timestamp: this.segmentTs(segment),
      marker: marker && segment === 0,
    });
    return out;
  }

  private scale(duration: number): number {
    return Math.round(duration * this.ratio);
  }

  private segmentTs(k: number): number {
    return (this.outTs + k * MAX_DURATION) >>> 0;
  }
}

function report(event: number, flags: number, duration: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b[0] = event;
  b[1] = flags;
  b.writeUInt16BE(duration, 2);
  return b;
}
