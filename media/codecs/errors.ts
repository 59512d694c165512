/**
 * Errors of the codec layer (media/codecs).
 *
 * Every error carries a stable `code`. Messages name the codec and what was wrong (sizes, rates);
 * they never carry payload bytes, so a hostile payload cannot reach a log through an error.
 *
 * The transcoder turns {@link CodecPayloadError} into packet-loss concealment and counts it; the
 * other errors are configuration mistakes or bugs and reach the caller.
 */

export type CodecErrorCode =
  | 'ERR_CODEC_PAYLOAD'
  | 'ERR_CODEC_PCM'
  | 'ERR_CODEC_UNSUPPORTED'
  | 'ERR_CODEC_CONFIG'
  | 'ERR_CODEC_CLOSED';

/** Base class: every error thrown by media/codecs is an instance of it. */
export abstract class CodecError extends Error {
  abstract readonly code: CodecErrorCode;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A received payload cannot be decoded (empty, too long, or rejected by the decoder). */
export class CodecPayloadError extends CodecError {
  readonly code = 'ERR_CODEC_PAYLOAD';
  constructor(
    readonly codec: string,
    readonly reason: 'empty' | 'too-long' | 'invalid',
    readonly length: number,
  ) {
    super(`${codec}: cannot decode a ${length}-octet payload (${reason})`);
  }
}

/** PCM handed to encode() has a length the codec cannot frame (RFC 6716 §2.1.4 frame sizes). */
export class CodecPcmError extends CodecError {
  readonly code = 'ERR_CODEC_PCM';
  constructor(codec: string, samples: number, detail: string) {
    super(`${codec}: cannot encode ${samples} samples (${detail})`);
  }
}

/** The codec is not implemented here (e.g. G722: no npm library; see docs/DESIGN.md). */
export class CodecUnsupportedError extends CodecError {
  readonly code = 'ERR_CODEC_UNSUPPORTED';
  constructor(readonly codec: string) {
    super(`codec ${JSON.stringify(codec.slice(0, 32))} is not supported for transcoding`);
  }
}

/** An option is out of range (sample rate, ptime, bitrate, complexity...). */
export class CodecConfigError extends CodecError {
  readonly code = 'ERR_CODEC_CONFIG';
}

/** The codec was used after close(). */
export class CodecClosedError extends CodecError {
  readonly code = 'ERR_CODEC_CLOSED';
  constructor(codec: string) {
    super(`${codec}: used after close()`);
  }
}
