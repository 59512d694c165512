/**
 * Audio codecs and transcoding for legs that share no codec (media-plane issue §6).
 *
 * Supported: PCMU and PCMA (RFC 3551 §4.5.14, lookup tables, ITU-T G.711 exact), G722
 * (RFC 3551 §4.5.2, ITU-T G.722 64 kbit/s mode 1, written here: no npm package implements it,
 * docs/DESIGN.md) and Opus (RFC 6716/7587, via @evan/opus).
 *
 *     const t = createTranscoder('opus', 'PCMU');          // Opus runs at 8 kHz: no resampler
 *     const u = createTranscoder('G722', 'PCMU');          // 16 kHz → 8 kHz by the resampler
 *     for (const f of t.push({ payload, sequenceNumber, timestamp, marker })) send(f);
 */
import { type AudioCodec, type CodecName, type CodecOptions } from './codec';
import { SUPPORTED_CODECS, audioRateOf } from './table';
import { CodecUnsupportedError } from './errors';
import { G711Codec } from './g711';
import { G722Codec } from './g722';
import { OpusCodec } from './opus';
import { Transcoder, type TranscoderOptions } from './transcoder';

export * from './codec';
export * from './table';
export * from './errors';
export { G711Codec, ULAW_ENCODE, ULAW_DECODE, ALAW_ENCODE, ALAW_DECODE, ulawCompress, ulawExpand, alawCompress, alawExpand } from './g711';
export { G722Codec } from './g722';
export { OpusCodec } from './opus';
export { Resampler, type ResamplerOptions } from './resampler';
export { Transcoder, type TranscoderOptions, type TranscoderStats, type RtpAudioIn, type RtpAudioOut } from './transcoder';

/**
 * The codec an a=rtpmap line names, if it can be transcoded here. Encoding names are
 * case-insensitive (RFC 4855 §3); Opus must say 48000/2 (RFC 7587 §7), G.711 and G722 8000(/1).
 */
export function resolveCodec(encodingName: string, clockRate: number, channels = 1): CodecName | undefined {
  const upper = encodingName.toUpperCase();
  const hit = SUPPORTED_CODECS.find((c) => c.name.toUpperCase() === upper && c.clockRate === clockRate);
  if (!hit) return undefined;
  return hit.name === 'opus' ? (channels === 2 ? 'opus' : undefined) : channels === 1 ? hit.name : undefined;
}

/** Create one codec instance (its own encoder and decoder state). */
export function createCodec(name: string, opts: CodecOptions = {}): AudioCodec {
  switch (name) {
    case 'PCMU':
    case 'PCMA':
      return new G711Codec(name);
    case 'G722':
      return new G722Codec();
    case 'opus':
      return new OpusCodec(opts);
    default:
      throw new CodecUnsupportedError(name);
  }
}

/** One side of a transcoder: a codec name, or a name with codec options. */
export type CodecSpec = CodecName | { name: CodecName; options?: CodecOptions };

function specOf(s: CodecSpec): { name: CodecName; options: CodecOptions } {
  return typeof s === 'string' ? { name: s, options: {} } : { name: s.name, options: s.options ?? {} };
}

/**
 * A transcoder from codec `from` to codec `to`. Unless told otherwise, Opus runs at the other
 * side's PCM rate when that is an Opus rate (8 kHz next to G.711, 16 kHz next to G722), so no
 * resampling is needed; next to Opus it runs at 48 kHz. G722 next to G.711 goes through the
 * transcoder's resampler (16 kHz ↔ 8 kHz).
 */
export function createTranscoder(from: CodecSpec, to: CodecSpec, opts: TranscoderOptions = {}): Transcoder {
  const a = specOf(from);
  const b = specOf(to);
  const opusRate = (other: { name: CodecName; options: CodecOptions }): CodecOptions['sampleRate'] =>
    other.name === 'opus' ? (other.options.sampleRate ?? 48000) : audioRateOf(other.name);
  const ao: CodecOptions = a.name === 'opus' && a.options.sampleRate === undefined ? { ...a.options, sampleRate: opusRate(b) } : a.options;
  const bo: CodecOptions = b.name === 'opus' && b.options.sampleRate === undefined ? { ...b.options, sampleRate: opusRate(a) } : b.options;
  const ca = createCodec(a.name, ao);
  let cb: AudioCodec;
  try {
    cb = createCodec(b.name, bo);
  } catch (err) {
    ca.close();
    throw err;
  }
  try {
    return new Transcoder(ca, cb, opts);
  } catch (err) {
    ca.close();
    cb.close();
    throw err;
  }
}
