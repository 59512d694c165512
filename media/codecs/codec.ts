/**
 * The audio codec contract shared by every codec of media/codecs and by the transcoder.
 *
 * Two rates are kept apart on purpose:
 * - `clockRate` is the RTP timestamp rate of the a=rtpmap line (RFC 3550 §5.1). Opus always
 *   says 48000 whatever it codes internally (RFC 7587 §4.1); G722 says 8000 although it samples
 *   at 16 kHz (RFC 3551 §4.5.2).
 * - `sampleRate` is the rate of the PCM at the decode()/encode() boundary. The PCM is always
 *   mono, 16-bit signed, native byte order (an Int16Array).
 */
import { CodecClosedError, CodecConfigError, CodecPayloadError } from './errors';
import { PitchConcealer } from './plc';

/** Codecs that can be created by {@link createCodec} (see media/codecs/index.ts). */
export type CodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus';

/** PCM rates Opus can run at internally (RFC 6716 §2). */
export type OpusSampleRate = 8000 | 12000 | 16000 | 24000 | 48000;

export interface AudioCodec {
  /** The encoding name as written in a=rtpmap (RFC 4566 §6; RFC 3551 §4.5.14; RFC 7587 §7). */
  readonly name: CodecName;
  /** RTP timestamp rate (RFC 3550 §5.1): 8000 for G.711 and G.722 (RFC 3551 §4.5.2), 48000 for Opus. */
  readonly clockRate: number;
  /** The a=rtpmap encoding parameter: 1 for G.711, 2 for Opus (RFC 7587 §7). The PCM is mono. */
  readonly channels: number;
  /** Rate of the mono PCM that decode() returns and encode() takes. */
  readonly sampleRate: number;
  /** PCM samples (at sampleRate) in a frame of `ptimeMs` milliseconds. */
  frameSamples(ptimeMs: number): number;
  /** RTP timestamp increment (at clockRate) of a frame of `ptimeMs` milliseconds. */
  timestampIncrement(ptimeMs: number): number;
  /**
   * Decode one RTP payload to mono PCM at sampleRate.
   * @throws CodecPayloadError when the payload is empty, too long or not decodable.
   */
  decode(payload: Uint8Array): Int16Array;
  /**
   * PCM to play in place of one lost packet, as long as the last decoded one (20 ms before the
   * first packet). Opus runs its decoder's concealment (RFC 6716 §4.4); G.711 and G.722 repeat
   * the last pitch period (plc.ts, after G.711 Appendix I).
   */
  decodeLost(): Int16Array;
  /**
   * Encode one frame of mono PCM at sampleRate into one RTP payload.
   * @throws CodecPcmError when the length is not a frame size the codec accepts.
   */
  encode(pcm: Int16Array): Buffer;
  /** Release the codec state; any later call throws CodecClosedError. Idempotent. */
  close(): void;
}

/** Options of {@link createCodec}; each codec reads the ones that apply to it. */
export interface CodecOptions {
  /** Opus only: internal PCM rate (default 48000); 8000 codes narrowband and needs no resampler next to G.711. */
  sampleRate?: OpusSampleRate;
  /** Opus only: encoder complexity 0–10 (default 5). */
  complexity?: number;
  /** Opus only: target bitrate in bit/s, 6000–510000 (default by rate: 16k NB, 24k WB, 32k FB). */
  bitrate?: number;
  /** Opus only: add in-band FEC for the far decoder (RFC 7587 §3.3, default false). */
  inbandFec?: boolean;
  /** Opus only: expected loss in percent, 0–100, tunes FEC (default 0). */
  packetLossPercent?: number;
  /**
   * Opus only: channels the decoder runs with. 1 (default) lets libopus fold a stereo stream to
   * mono; 2 decodes both channels and downmixes (L+R)/2 here.
   */
  decodeChannels?: 1 | 2;
}

/** Durations a ptime may have here: a whole number of ms, 10–120 (RFC 4566 §6 a=ptime). */
export function checkPtime(ptimeMs: number): void {
  if (!Number.isInteger(ptimeMs) || ptimeMs < 10 || ptimeMs > 120) {
    throw new CodecConfigError(`ptime ${ptimeMs} ms is not an integer in 10–120 ms`);
  }
}

/** Decoded payloads longer than this (in ms) are refused: no RTP audio packet is that long. */
export const MAX_PACKET_MS = 120;

export { toInt16 } from './pcm';

/**
 * What the waveform codecs (G.711, G.722) share: no concealment of their own, so a lost packet is
 * concealed here by repeating the last pitch period (plc.ts, after G.711 Appendix I) for as long
 * as the last packet, a payload length check, and the closed state. Subclasses only code.
 */
export abstract class WaveformCodec implements AudioCodec {
  abstract readonly name: CodecName;
  abstract readonly clockRate: number;
  abstract readonly sampleRate: number;
  readonly channels = 1;
  /** PCM samples of the last decoded packet (20 ms before the first). */
  private lastSamples: number;
  private readonly concealer: PitchConcealer;
  private closed = false;

  /** `pcmRate`: the rate of the PCM decode() returns; `maxPayload`: the longest payload accepted, in octets. */
  protected constructor(
    pcmRate: number,
    private readonly maxPayload: number,
  ) {
    this.lastSamples = pcmRate / 50;
    this.concealer = new PitchConcealer(pcmRate);
  }

  abstract frameSamples(ptimeMs: number): number;
  abstract timestampIncrement(ptimeMs: number): number;

  decode(payload: Uint8Array): Int16Array {
    this.check();
    checkPayloadLength(this.name, payload.length, this.maxPayload);
    const pcm = this.decodePayload(payload);
    this.lastSamples = pcm.length;
    this.concealer.received(pcm);
    return pcm;
  }

  decodeLost(): Int16Array {
    this.check();
    return this.concealer.conceal(this.lastSamples);
  }

  encode(pcm: Int16Array): Buffer {
    this.check();
    return this.encodePcm(pcm);
  }

  close(): void {
    this.closed = true;
    this.concealer.clear();
  }

  /** A payload of a length already checked → PCM. */
  protected abstract decodePayload(payload: Uint8Array): Int16Array;
  /** PCM → a payload; throws CodecPcmError on a length the codec does not take. */
  protected abstract encodePcm(pcm: Int16Array): Buffer;

  private check(): void {
    if (this.closed) throw new CodecClosedError(this.name);
  }
}

/** Refuses an empty RTP payload, or one longer than `max` octets (CodecPayloadError). */
export function checkPayloadLength(codec: CodecName, length: number, max: number): void {
  if (length === 0) throw new CodecPayloadError(codec, 'empty', 0);
  if (length > max) throw new CodecPayloadError(codec, 'too-long', length);
}
