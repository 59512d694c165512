/**
 * The media engine: the MediaEngine interface the B2BUA talks to (rtpengine ng-shaped: offer,
 * answer, delete, query, events) and EmbeddedMediaEngine, which implements it with the relay in
 * media/relay/. Errors: MediaEngineError (status 488/500/503 and a wire-safe reason).
 */
export { EmbeddedMediaEngine, type EmbeddedMediaEngineOptions } from './embedded';
export { MediaEngineError, MediaPortsExhaustedError, type MediaEngineErrorCode } from './errors';
export { resolveMediaSettings, MediaSettingsError, type MediaSettings, type ResolvedMediaSettings } from './settings';
export type {
  MediaEngine,
  MediaEngineEvents,
  OfferFlags,
  AnswerFlags,
  LegFlags,
  TransportMode,
  CodecPolicy,
  RtcpMuxPolicy,
  PlainLatchPolicy,
  TimeoutEvent,
  MediaFailedEvent,
  SrtpAuthFailureEvent,
  CallStats,
  LegStats,
  StreamLegStats,
  StreamMode,
  DropReason,
  QueueDelayHistogram,
  RelayThreadBusy,
} from './types';
export type { TranscodePlan, TranscodeCodec } from './transcoding';
