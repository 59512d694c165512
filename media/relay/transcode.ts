/**
 * A leg's transcoder (issue "media plane" §6) on the packet path: RTP of one codec in, RTP of
 * another out, through media/codecs' Transcoder (decode → resample → encode, loss concealment).
 * The outgoing packets are the relay's own stream: an SSRC and sequence numbers of its own
 * (RFC 3550 §7.1: a transcoder is a new source), timestamps on the output codec's clock.
 *
 * media/codecs (and the Opus library under it) is loaded on first use only, so that a relay
 * thread that never transcodes never pays for it.
 */
import { randomBytes } from 'node:crypto';
import type * as Codecs from '../codecs';
import type { TranscodeWire } from './protocol';
import { sequenceNumber, ssrc, timestamp } from './rtp';

let codecs: typeof Codecs | undefined;
function loadCodecs(): typeof Codecs {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (codecs ??= require('../codecs') as typeof Codecs);
}

export class LegTranscoder {
  private readonly transcoder: Codecs.Transcoder;
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private seq = randomBytes(2).readUInt16BE(0);
  private inSsrc: number | undefined;

  constructor(readonly spec: TranscodeWire) {
    const c = loadCodecs();
    const name = (n: string): Codecs.CodecName => {
      if (n !== 'PCMU' && n !== 'PCMA' && n !== 'opus') throw new c.CodecUnsupportedError(n);
      return n;
    };
    this.transcoder = c.createTranscoder(name(spec.from), name(spec.to), { ptimeMs: spec.ptimeMs });
  }

  sameAs(w: TranscodeWire): boolean {
    const s = this.spec;
    return s.fromPt === w.fromPt && s.toPt === w.toPt && s.from === w.from && s.to === w.to && s.ptimeMs === w.ptimeMs;
  }

  /** The output packets for one valid input RTP packet of `headerLength` octets of header. */
  transcode(packet: Buffer, headerLength: number): Buffer[] {
    const s = ssrc(packet);
    if (this.inSsrc !== undefined && s !== this.inSsrc) this.transcoder.reset(); // a new source (RFC 3550 §8.2)
    this.inSsrc = s;
    const padding = packet[0]! & 0x20 ? packet[packet.length - 1]! : 0;
    const frames = this.transcoder.push({
      payload: packet.subarray(headerLength, packet.length - padding),
      sequenceNumber: sequenceNumber(packet),
      timestamp: timestamp(packet),
      marker: (packet[1]! & 0x80) !== 0,
    });
    return frames.map((f) => {
      const out = Buffer.allocUnsafe(12 + f.payload.length);
      out[0] = 0x80;
      out[1] = (f.marker ? 0x80 : 0) | this.spec.toPt;
      out.writeUInt16BE(this.seq, 2);
      this.seq = (this.seq + 1) & 0xffff;
      out.writeUInt32BE(f.timestamp >>> 0, 4);
      out.writeUInt32BE(this.ssrc, 8);
      out.set(f.payload, 12);
      return out;
    });
  }

  close(): void {
    this.transcoder.close();
  }
}
