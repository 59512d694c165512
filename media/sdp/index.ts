/**
 * SDP (RFC 4566, RFC 3264 offer/answer) on sdp-transform, and SDES key exchange (RFC 4568).
 * Entry points: parseSdp / writeSdp, the media accessors, the rewrite helpers, and
 * makeOffer / answer / acceptAnswer for a=crypto. Errors: SdpError (400/488), SdesError (488).
 */
export { SdpError, SdesError, type SdpErrorCode, type SdesErrorCode, type SdesSkipReason, type SkippedCrypto } from './errors';
export { DEFAULT_SDP_LIMITS, type SdpLimits } from './scan';
export {
  parseSdp,
  writeSdp,
  mediaAt,
  cryptoAttributeValues,
  otherAttributes,
  type ParseSdpOptions,
  type SdpSession,
  type SdpMedia,
} from './session';
export {
  RTP_PROTOCOLS,
  protocolInfo,
  isRtpProtocol,
  mediaType,
  mediaPort,
  mediaProtocol,
  isStreamDisabled,
  connectionAddress,
  direction,
  holdState,
  isOnHold,
  isUnspecifiedAddress,
  rtcpMux,
  rtcpAddress,
  ptime,
  maxptime,
  endToEndSecurity,
  type RtpProtocol,
  type ProtocolInfo,
  type MediaDirection,
  type ConnectionAddress,
  type HoldState,
  type RtcpAddress,
  type DtlsSetup,
  type EndToEndSecurity,
} from './media';
export {
  STATIC_PAYLOAD_TYPES,
  payloadTypeNumbers,
  payloadTypes,
  findPayloadTypes,
  telephoneEventPayloadTypes,
  comfortNoisePayloadTypes,
  selectCodecs,
  filterCodecs,
  type PayloadType,
} from './codecs';
export {
  setMediaAddress,
  setSessionConnection,
  setProtocol,
  setDirection,
  replaceCrypto,
  type MediaAddress,
} from './rewrite';
export {
  parseCryptoAttribute,
  formatCryptoAttribute,
  makeSdesKey,
  type SdesKey,
  type SdesSessionParams,
  type SdesCryptoAttribute,
} from './crypto-attribute';
export { SdesKeyRing, defaultKeyRing, sameKey, type SdesKeyRingOptions } from './key-ring';
export {
  DEFAULT_SDES_PREFERENCE,
  makeOffer,
  answer,
  acceptAnswer,
  policyVerdict,
  type SdesStream,
  type SdesOffer,
  type SdesOfferedCrypto,
  type SdesExchangeOptions,
  type SdesNegotiation,
  type SdesAnswer,
} from './sdes';
export { redactCrypto, REDACTED } from './redact';
