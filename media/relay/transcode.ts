/**
 * A leg's transcoder (issue "media plane" §6) on the packet path: RTP of one codec in, RTP of
 * another out, through media/codecs' Transcoder (decode → resample → encode, loss concealment).
 * The outgoing packets are the relay's own stream: an SSRC and sequence numbers of its own
 * (RFC 3550 §7.1: a transcoder is a new source), timestamps on the output codec's clock.
 *
 * The other payloads the leg negotiated travel in that same output stream, numbered in it:
 * - RFC 4733 telephone-event: timestamp and durations rescaled (telephone-event.ts);
 * - RFC 3389 CN: only negotiated when both legs run G.711 (8 kHz audio) with CN/8000 (media/engine/
 *   transcoding.ts), so its payload (a noise level and spectrum, codec-independent) passes as is,
 *   its timestamp on the output clock. Anything else is refused by the caller ('payload-type').
 * Both share the input's sequence numbers with the audio: the transcoder is told, so that they do
 * not count as lost audio.
 *
 * media/codecs (and the Opus library under it) is loaded on first use only, so that a relay
 * thread that never transcodes never pays for it.
 */
import { randomBytes } from 'node:crypto';
import type * as Codecs from '../codecs';
import type { TranscodeWire } from './protocol';
import { sequenceNumber, ssrc, timestamp } from './rtp';
import { TelephoneEventRetimer } from './telephone-event';

let codecs: typeof Codecs | undefined;
function loadCodecs(): typeof Codecs {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (codecs ??= require('../codecs') as typeof Codecs);
}

/** What a received payload type is to the transcoder. */
export type TranscodedKind = 'audio' | 'event' | 'cn';

/** RFC 3389 §3: a noise level and at most a few dozen reflection coefficients; more is not CN. */
const MAX_CN_PAYLOAD = 64;

/** A comfort noise payload that cannot be RFC 3389 CN. */
export class ComfortNoisePayloadError extends Error {
  constructor(length: number) {
    super(`CN payload of ${length} octets is not 1 to ${MAX_CN_PAYLOAD}`);
    this.name = 'ComfortNoisePayloadError';
  }
}

export class LegTranscoder {
  /** SSRC of the output stream (RFC 3550 §7.1: ours, not the sender's). */
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  /** RTP clock of the audio this leg sends (interarrival jitter, RFC 3550 §A.8). */
  readonly inClock: number;
  private readonly transcoder: Codecs.Transcoder;
  private readonly events: TelephoneEventRetimer | undefined;
  private seq = randomBytes(2).readUInt16BE(0);
  private inSsrc: number | undefined;

  constructor(readonly spec: TranscodeWire) {
    const c = loadCodecs();
    const name = (n: string): Codecs.CodecName => {
      if (n !== 'PCMU' && n !== 'PCMA' && n !== 'G722' && n !== 'opus') throw new c.CodecUnsupportedError(n);
      return n;
    };
    this.transcoder = c.createTranscoder(name(spec.from), name(spec.to), { ptimeMs: spec.ptimeMs });
    this.inClock = this.transcoder.from.clockRate;
    this.events = spec.events && new TelephoneEventRetimer(spec.events.fromClock, spec.events.toClock);
  }

  sameAs(w: TranscodeWire): boolean {
    const s = this.spec;
    const e = s.events;
    const f = w.events;
    const sameEvents = e === f || (e !== undefined && f !== undefined && e.toPt === f.toPt && e.fromClock === f.fromClock && e.toClock === f.toClock);
    return (
      s.fromPt === w.fromPt && s.toPt === w.toPt && s.from === w.from && s.to === w.to && s.ptimeMs === w.ptimeMs && s.cnPt === w.cnPt && sameEvents
    );
  }

  /** What a packet is, by the payload type the other leg knows it by (the relay's payload map). */
  kindOf(outPt: number): TranscodedKind | undefined {
    const s = this.spec;
    if (outPt === s.toPt) return 'audio';
    if (s.events !== undefined && outPt === s.events.toPt) return 'event';
    if (s.cnPt !== undefined && outPt === s.cnPt) return 'cn';
    return undefined;
  }

  /**
   * The output packets for one valid input RTP packet of `headerLength` octets of header.
   * @throws TelephoneEventPayloadError, ComfortNoisePayloadError on a payload that cannot be one.
   */
  transcode(packet: Buffer, headerLength: number, kind: TranscodedKind): Buffer[] {
    const s = ssrc(packet);
    if (this.inSsrc !== undefined && s !== this.inSsrc) {
      // A new source (RFC 3550 §8.2): new timeline, new events.
      this.transcoder.reset();
      this.events?.reset();
    }
    this.inSsrc = s;
    const padding = packet[0]! & 0x20 ? packet[packet.length - 1]! : 0;
    const payload = packet.subarray(headerLength, packet.length - padding);
    const marker = (packet[1]! & 0x80) !== 0;
    switch (kind) {
      case 'audio': {
        const frames = this.transcoder.push({ payload, sequenceNumber: sequenceNumber(packet), timestamp: timestamp(packet), marker });
        return frames.map((f) => this.packet(this.spec.toPt, f.marker, f.timestamp, f.payload));
      }
      case 'event': {
        this.transcoder.skip(sequenceNumber(packet));
        const pt = this.spec.events!.toPt;
        const reports = this.events!.retime(payload, timestamp(packet), marker, (ts) => this.transcoder.outputTimestamp(ts));
        return reports.map((r) => this.packet(pt, r.marker, r.timestamp, r.payload));
      }
      case 'cn': {
        this.transcoder.skip(sequenceNumber(packet));
        if (payload.length < 1 || payload.length > MAX_CN_PAYLOAD) throw new ComfortNoisePayloadError(payload.length);
        return [this.packet(this.spec.cnPt!, marker, this.transcoder.outputTimestamp(timestamp(packet)), payload)];
      }
    }
  }

  close(): void {
    this.transcoder.close();
  }

  private packet(pt: number, marker: boolean, ts: number, payload: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(12 + payload.length);
    out[0] = 0x80;
    out[1] = (marker ? 0x80 : 0) | pt;
    out.writeUInt16BE(this.seq, 2);
    this.seq = (this.seq + 1) & 0xffff;
    out.writeUInt32BE(ts >>> 0, 4);
    out.writeUInt32BE(this.ssrc, 8);
    out.set(payload, 12);
    return out;
  }
}
