/**
 * One direction of a transcoded stream: RTP payloads of codec A in, RTP payloads of codec B out.
 *
 * Per packet: sequence check (RFC 3550 §A.1 style, 16-bit modular) → decode or conceal →
 * resample when the PCM rates differ → PCM FIFO → encode whole output frames.
 *
 * - Loss: a gap of g packets in the sequence numbers is filled with g concealed frames
 *   (decoder PLC for Opus, silence for G.711) before the packet that revealed it, up to
 *   `maxConcealFrames`; a longer gap is a discontinuity. A payload the decoder rejects is
 *   concealed in place. Duplicates and packets older than the last one are dropped: once a
 *   frame was concealed and sent, the late original has no slot to go to.
 * - Timestamps (RFC 3550 §5.1): the output clock follows the input clock scaled by
 *   outClock/inClock, so gaps the sender leaves (silence suppression, DTX) survive; within a
 *   talkspurt each output frame advances by exactly one frame. The marker bit is set on the
 *   first frame and after every discontinuity (RFC 3551 §4.1).
 * - Cadence: every input frame's worth of audio leaves as output frames of `ptimeMs`; with equal
 *   ptimes that is one frame out per frame in, concealed ones included.
 *
 * - Other payloads of the same stream (RFC 4733 telephone-event, RFC 3389 CN) share its sequence
 *   numbers and RTP clock: skip() tells the transcoder that a sequence number was not lost audio,
 *   and outputTimestamp() puts their timestamps on the output clock by the same map as the audio.
 *
 * SSRC and sequence numbers of the output are the relay's: it numbers what this returns.
 */
import { randomBytes } from 'node:crypto';
import { checkPtime, type AudioCodec } from './codec';
import { CodecConfigError, CodecPayloadError } from './errors';
import { Resampler } from './resampler';

/** One received RTP packet of the input codec (header fields already parsed by the relay). */
export interface RtpAudioIn {
  payload: Uint8Array;
  sequenceNumber: number;
  timestamp: number;
  marker?: boolean;
}

/** One RTP payload of the output codec, with its RTP timestamp and marker bit. */
export interface RtpAudioOut {
  payload: Buffer;
  timestamp: number;
  marker: boolean;
  /** Some of its audio came from concealment (loss or an undecodable payload). */
  concealed: boolean;
}

export interface TranscoderOptions {
  /** Output frame duration in ms (default 20). */
  ptimeMs?: number;
  /** Longest gap, in packets, that is concealed (default 5, i.e. 100 ms at 20 ms). */
  maxConcealFrames?: number;
  /** First output RTP timestamp; random by default (RFC 3550 §5.1). */
  timestampBase?: number;
}

export interface TranscoderStats {
  packetsIn: number;
  framesOut: number;
  /** Frames of audio synthesised for lost packets. */
  concealed: number;
  /** Payloads the decoder rejected (concealed in place). */
  undecodable: number;
  duplicates: number;
  /** Packets behind the last one (too late to play), or a far jump still on probation. */
  late: number;
  discontinuities: number;
}

const TS_MOD = 2 ** 32;
/** The FIFO never holds more than this many output frames (a bound against hostile lengths). */
const MAX_FIFO_FRAMES = 16;
/** Packets up to this far behind the last one are late arrivals, not a restart (RFC 3550 §A.1). */
const MAX_MISORDER = 100;

export class Transcoder {
  readonly stats: TranscoderStats = { packetsIn: 0, framesOut: 0, concealed: 0, undecodable: 0, duplicates: 0, late: 0, discontinuities: 0 };
  private readonly resampler: Resampler | undefined;
  private readonly outFrame: number;
  private readonly outTicks: number;
  private readonly maxConceal: number;
  /** Output-clock ticks per input-clock tick. */
  private readonly tickRatio: number;
  private readonly fifo: Int16Array;
  private fifoLen = 0;
  private fifoConcealed = false;
  /** Output RTP timestamp of fifo[0]. */
  private headTs: number;
  private lastSeq = -1;
  /** Sequence number of a packet far outside the window, held on probation (RFC 3550 §A.1). */
  private probeSeq = -1;
  /** Input timestamp the next in-order packet should carry. */
  private expectedTs = 0;
  /** Running input → output timestamp map: refIn ↦ refOut, with the fractional remainder. */
  private refIn = 0;
  private refOut: number;
  private refFrac = 0;
  /** refIn/refOut describe the current input stream (set by its first audio or its first outputTimestamp()). */
  private mapped = false;
  private pendingMarker = true;
  private closed = false;

  constructor(
    readonly from: AudioCodec,
    readonly to: AudioCodec,
    opts: TranscoderOptions = {},
  ) {
    const ptime = opts.ptimeMs ?? 20;
    checkPtime(ptime);
    this.outFrame = to.frameSamples(ptime);
    this.outTicks = to.timestampIncrement(ptime);
    this.maxConceal = opts.maxConcealFrames ?? 5;
    if (!Number.isInteger(this.maxConceal) || this.maxConceal < 0 || this.maxConceal > 50) {
      throw new CodecConfigError(`transcoder: maxConcealFrames ${this.maxConceal} is not 0–50`);
    }
    this.resampler = from.sampleRate === to.sampleRate ? undefined : new Resampler(from.sampleRate, to.sampleRate);
    this.tickRatio = to.clockRate / from.clockRate;
    this.fifo = new Int16Array(this.outFrame * MAX_FIFO_FRAMES);
    this.headTs = opts.timestampBase === undefined ? randomBytes(4).readUInt32BE(0) : opts.timestampBase >>> 0;
    this.refOut = this.headTs;
  }

  /** Transcode one received packet; returns the output frames now complete (often one, maybe none). */
  push(pkt: RtpAudioIn): RtpAudioOut[] {
    if (this.closed) return [];
    this.stats.packetsIn++;
    const seq = pkt.sequenceNumber & 0xffff;
    const ts = pkt.timestamp >>> 0;
    const out: RtpAudioOut[] = [];
    if (this.lastSeq < 0) {
      if (!this.mapped) this.refIn = ts;
      this.mapped = true;
      // Mapped by an event before any audio: the audio's offset from it is a discontinuity.
      this.expectedTs = this.refIn;
    } else {
      const delta = (seq - this.lastSeq) & 0xffff;
      if (delta === 0) {
        this.stats.duplicates++;
        return out;
      }
      if (delta > 0xffff - MAX_MISORDER) {
        this.stats.late++;
        return out;
      }
      if (delta >= 0x8000) {
        // A jump this large is a restarted sender, or junk: believe it on the second packet in
        // sequence (RFC 3550 §A.1 probation), else a stray packet would stall the stream.
        if (this.probeSeq < 0 || seq !== ((this.probeSeq + 1) & 0xffff)) {
          this.probeSeq = seq;
          this.stats.late++;
          return out;
        }
      } else if (delta - 1 <= this.maxConceal) {
        for (let i = 1; i < delta; i++) this.conceal(out);
      }
    }
    this.lastSeq = seq;
    this.probeSeq = -1;
    if (pkt.marker) this.pendingMarker = true;

    let pcm: Int16Array;
    let concealed = false;
    try {
      pcm = this.from.decode(pkt.payload);
    } catch (err) {
      if (!(err instanceof CodecPayloadError)) throw err;
      this.stats.undecodable++;
      pcm = this.from.decodeLost();
      concealed = true;
    }
    if (ts !== this.expectedTs) this.discontinuity(ts, out);
    this.append(pcm, concealed, out);
    return out;
  }

  /**
   * Conceal one frame now, for a caller that paces output by a timer rather than by arrivals;
   * the packet it stands for, if it comes later, is dropped as late.
   */
  pushLost(): RtpAudioOut[] {
    const out: RtpAudioOut[] = [];
    if (this.closed || this.lastSeq < 0) return out;
    this.lastSeq = (this.lastSeq + 1) & 0xffff;
    this.conceal(out);
    return out;
  }

  /**
   * A packet of the input stream that is not audio (RFC 4733 event, RFC 3389 CN) used sequence
   * number `seq`: the audio packets around it must not count it as lost. Late ones change nothing.
   */
  skip(seq: number): void {
    if (this.closed || this.lastSeq < 0) return;
    const delta = (seq - this.lastSeq) & 0xffff;
    if (delta === 0 || delta >= 0x8000) return;
    this.lastSeq = seq & 0xffff;
    this.probeSeq = -1;
  }

  /**
   * The output RTP timestamp of input timestamp `ts`, on the map the audio follows (outClock/inClock
   * from the last audio packet): what an RFC 4733 event or RFC 3389 CN packet of the same source is
   * sent with, so that it lines up with the transcoded audio (RFC 4733 §2.3). Before any audio the
   * map is anchored here, at the next output frame's timestamp.
   */
  outputTimestamp(ts: number): number {
    if (!this.mapped) {
      this.refIn = ts >>> 0;
      this.refOut = this.headTs;
      this.refFrac = 0;
      this.mapped = true;
    }
    const d = (((ts >>> 0) - this.refIn) | 0) * this.tickRatio + this.refFrac;
    return (((this.refOut + Math.round(d)) % TS_MOD) + TS_MOD) % TS_MOD;
  }

  /**
   * Forget the input stream (a new SSRC, RFC 3550 §8.2): the next packet starts a talkspurt; the
   * output clock runs on from the next frame. Audio short of a whole frame (< ptime) is dropped.
   */
  reset(): void {
    this.lastSeq = -1;
    this.probeSeq = -1;
    this.fifoLen = 0;
    this.fifoConcealed = false;
    this.refOut = this.headTs;
    this.refFrac = 0;
    this.mapped = false;
    this.resampler?.reset();
    this.pendingMarker = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.from.close();
    this.to.close();
  }

  private conceal(out: RtpAudioOut[]): void {
    this.stats.concealed++;
    this.append(this.from.decodeLost(), true, out);
  }

  /** The input timestamp jumped: finish the partial frame with silence, re-anchor the output clock. */
  private discontinuity(ts: number, out: RtpAudioOut[]): void {
    this.stats.discontinuities++;
    this.flush(out);
    const d = ((ts - this.refIn) | 0) * this.tickRatio + this.refFrac;
    const whole = Math.round(d);
    this.refFrac = d - whole;
    this.refOut = (this.refOut + whole + TS_MOD) % TS_MOD;
    this.refIn = ts;
    // Never step back over frames already sent: a backward jump continues contiguously instead.
    if (((this.refOut - this.headTs) | 0) > 0) this.headTs = this.refOut;
    else {
      this.refOut = this.headTs;
      this.refFrac = 0;
    }
    this.expectedTs = ts;
    this.pendingMarker = true;
    this.resampler?.reset();
  }

  private append(pcm: Int16Array, concealed: boolean, out: RtpAudioOut[]): void {
    const inSamples = pcm.length;
    const inTicks = Math.round((inSamples * this.from.clockRate) / this.from.sampleRate);
    this.expectedTs = (this.expectedTs + inTicks) % TS_MOD;
    this.advanceRef(inTicks);
    const samples = this.resampler ? this.resampler.process(pcm) : pcm;
    let off = 0;
    while (off < samples.length) {
      const take = Math.min(samples.length - off, this.fifo.length - this.fifoLen);
      this.fifo.set(samples.subarray(off, off + take), this.fifoLen);
      this.fifoLen += take;
      off += take;
      if (concealed) this.fifoConcealed = true;
      while (this.fifoLen >= this.outFrame) this.emit(out);
    }
  }

  /** Keep the input→output map current so a later discontinuity is measured from here. */
  private advanceRef(inTicks: number): void {
    const d = inTicks * this.tickRatio + this.refFrac;
    const whole = Math.round(d);
    this.refFrac = d - whole;
    this.refIn = (this.refIn + inTicks) % TS_MOD;
    this.refOut = (this.refOut + whole) % TS_MOD;
  }

  /** Pad the partial frame with silence and send it, so no audio is held across a gap. */
  private flush(out: RtpAudioOut[]): void {
    if (this.fifoLen === 0) return;
    this.fifo.fill(0, this.fifoLen, this.outFrame);
    this.fifoLen = this.outFrame;
    this.emit(out);
  }

  private emit(out: RtpAudioOut[]): void {
    const frame = this.fifo.slice(0, this.outFrame);
    out.push({ payload: this.to.encode(frame), timestamp: this.headTs, marker: this.pendingMarker, concealed: this.fifoConcealed });
    this.stats.framesOut++;
    this.pendingMarker = false;
    this.fifoConcealed = false;
    this.headTs = (this.headTs + this.outTicks) % TS_MOD;
    this.fifo.copyWithin(0, this.outFrame, this.fifoLen);
    this.fifoLen -= this.outFrame;
  }
}
