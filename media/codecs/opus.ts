/**
 * Opus (RFC 6716) in RTP (RFC 7587) through `@evan/opus`: libopus compiled into an N-API addon
 * shipped prebuilt inside the npm tarball (x64/arm64 Linux), with a wasm build as fallback; no
 * install script, no download at install time (choice recorded in docs/DESIGN.md).
 *
 * - The RTP clock is 48 kHz whatever the internal rate (RFC 7587 §4.1); the internal rate is an
 *   option, and 8 kHz next to G.711 means no resampler at all: an Opus decoder can decode any
 *   packet at any of its rates, and a narrowband packet is valid for a 48 kHz receiver.
 * - Stereo (`opus/48000/2` is always written so, RFC 7587 §7) is folded to mono: by libopus when
 *   the decoder runs mono (default), or here as (L+R)/2 with `decodeChannels: 2`.
 * - Concealment (RFC 6716 §4.4): the binding cannot pass a NULL packet, so a lost packet is
 *   decoded as a TOC-only packet (RFC 6716 §3.2.1, code 0 with an empty frame): libopus treats a
 *   frame of length ≤ 1 as lost, runs its PLC in the previous mode, and bounds its output by the
 *   duration the TOC names, so the TOC picks the concealed duration.
 */
import { Decoder, Encoder } from '@evan/opus';
import { checkPtime, MAX_PACKET_MS, type AudioCodec, type CodecOptions, type OpusSampleRate } from './codec';
import { CodecClosedError, CodecConfigError, CodecPayloadError, CodecPcmError } from './errors';

const OPUS_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];

/** Largest packet accepted: RFC 6716 §3.4 bounds a frame at 1275 octets; two frames plus framing. */
const MAX_PAYLOAD = 2 * 1275 + 8;

/** Frame durations, in units of 2.5 ms, that one Opus frame may have (RFC 6716 §2.1.4). */
const FRAME_QUARTERS: readonly number[] = [1, 2, 4, 8, 16, 24];

/**
 * TOC octet (RFC 6716 §3.1) of a code-0 packet whose only frame lasts `quarters` × 2.5 ms:
 * SILK NB configs 0–3 (10/20/40/60 ms), CELT NB configs 16–17 (2.5/5 ms).
 */
function plcToc(quarters: number): number {
  const config = ({ 1: 16, 2: 17, 4: 0, 8: 1, 16: 2, 24: 3 } as Record<number, number>)[quarters] ?? 1;
  return config << 3;
}

function defaultBitrate(rate: number): number {
  return rate <= 8000 ? 16000 : rate <= 16000 ? 24000 : 32000;
}

/** Opus at one internal rate, mono PCM, 48 kHz RTP clock. */
export class OpusCodec implements AudioCodec {
  readonly name = 'opus';
  readonly clockRate = 48000;
  readonly channels = 2;
  readonly sampleRate: OpusSampleRate;
  private readonly decodeChannels: 1 | 2;
  private readonly encoderSettings: { complexity: number; bitrate: number; fec: boolean; loss: number };
  private enc: Encoder | undefined;
  private dec: Decoder | undefined;
  /** Samples per channel of the last decoded packet: the length concealment reproduces. */
  private lastSamples: number;
  private closed = false;

  constructor(opts: CodecOptions = {}) {
    const rate = opts.sampleRate ?? 48000;
    if (!OPUS_RATES.includes(rate)) throw new CodecConfigError(`opus: sample rate ${rate} is not one of ${OPUS_RATES.join('/')}`);
    this.sampleRate = rate;
    const complexity = opts.complexity ?? 5;
    if (!Number.isInteger(complexity) || complexity < 0 || complexity > 10) throw new CodecConfigError(`opus: complexity ${complexity} is not 0–10`);
    const bitrate = opts.bitrate ?? defaultBitrate(rate);
    if (!Number.isInteger(bitrate) || bitrate < 6000 || bitrate > 510000) throw new CodecConfigError(`opus: bitrate ${bitrate} is not 6000–510000`);
    const loss = opts.packetLossPercent ?? 0;
    if (!Number.isInteger(loss) || loss < 0 || loss > 100) throw new CodecConfigError(`opus: packet loss ${loss}% is not 0–100`);
    const dch = opts.decodeChannels ?? 1;
    if (dch !== 1 && dch !== 2) throw new CodecConfigError(`opus: decodeChannels ${String(dch)} is not 1 or 2`);
    this.decodeChannels = dch;

    this.encoderSettings = { complexity, bitrate, fec: opts.inbandFec ?? false, loss };
    this.lastSamples = rate / 50;
  }

  /** Built on first use: a transcoder decodes with one instance and encodes with the other. */
  private get encoder(): Encoder {
    if (!this.enc) {
      const s = this.encoderSettings;
      const e = new Encoder({ channels: 1, sample_rate: this.sampleRate, application: 'voip' });
      e.complexity = s.complexity as Encoder['complexity'];
      e.bitrate = s.bitrate;
      e.signal = 'voice';
      e.inband_fec = s.fec;
      e.packet_loss = s.loss;
      this.enc = e;
    }
    return this.enc;
  }

  private get decoder(): Decoder {
    this.dec ??= new Decoder({ channels: this.decodeChannels, sample_rate: this.sampleRate });
    return this.dec;
  }

  /** Opus frames RTP can carry as one frame per packet: 10, 20, 40 or 60 ms (RFC 6716 §2.1.4). */
  frameSamples(ptimeMs: number): number {
    checkPtime(ptimeMs);
    if (![10, 20, 40, 60].includes(ptimeMs)) throw new CodecConfigError(`opus: ptime ${ptimeMs} ms is not 10, 20, 40 or 60`);
    return (this.sampleRate * ptimeMs) / 1000;
  }

  timestampIncrement(ptimeMs: number): number {
    this.frameSamples(ptimeMs);
    return 48 * ptimeMs;
  }

  decode(payload: Uint8Array): Int16Array {
    this.check();
    const n = payload.length;
    if (n === 0) throw new CodecPayloadError('opus', 'empty', 0);
    if (n > MAX_PAYLOAD) throw new CodecPayloadError('opus', 'too-long', n);
    let out: Uint8Array;
    try {
      out = this.decoder.decode(payload);
    } catch {
      // libopus said OPUS_INVALID_PACKET (or similar): the payload is not Opus.
      throw new CodecPayloadError('opus', 'invalid', n);
    }
    const pcm = this.toMono(out);
    if (pcm.length === 0 || pcm.length > (this.sampleRate * MAX_PACKET_MS) / 1000) {
      throw new CodecPayloadError('opus', 'invalid', n);
    }
    this.lastSamples = pcm.length;
    return pcm;
  }

  decodeLost(): Int16Array {
    this.check();
    const quarters = Math.round((this.lastSamples * 400) / this.sampleRate);
    const q = FRAME_QUARTERS.includes(quarters) ? quarters : 8;
    try {
      return this.toMono(this.decoder.decode(Uint8Array.of(plcToc(q))));
    } catch {
      // Cannot happen with a well-formed TOC; silence keeps the cadence if it ever does.
      return new Int16Array((q * this.sampleRate) / 400);
    }
  }

  encode(pcm: Int16Array): Buffer {
    this.check();
    const quarters = (pcm.length * 400) / this.sampleRate;
    if (!FRAME_QUARTERS.includes(quarters)) {
      throw new CodecPcmError('opus', pcm.length, `not a 2.5/5/10/20/40/60 ms frame at ${this.sampleRate} Hz`);
    }
    const out = this.encoder.encode(pcm);
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  close(): void {
    // The addon frees the libopus states when the JS objects are collected; dropping the
    // references is all close() can do, and use after it is refused.
    this.closed = true;
    this.enc = undefined;
    this.dec = undefined;
  }

  /** Decoder output bytes → mono Int16Array; downmix (L+R)/2 when decoding two channels. */
  private toMono(bytes: Uint8Array): Int16Array {
    const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
    const all = new Int16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 1);
    if (this.decodeChannels === 1) return all;
    const n = all.length >> 1;
    const mono = new Int16Array(n);
    for (let i = 0, j = 0; i < n; i++, j += 2) mono[i] = (all[j] + all[j + 1]) >> 1;
    return mono;
  }

  private check(): void {
    if (this.closed) throw new CodecClosedError('opus');
  }
}
