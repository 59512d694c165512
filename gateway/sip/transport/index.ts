/**
 * The SIP transport layer's public surface (RFC 3261 §18, RFC 5626 §3/§4.4.1, RFC 3581, RFC 5118).
 */
export { TransportLayer, type TransportLayerEvents } from './transport-layer';
export { transportForUri, UnsupportedTransportError, type TransportSelectingUri } from './uri-transport';
export {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LIMITS,
  DEFAULT_MAX_CONNECTIONS,
  TransportConfigError,
  type ListeningAddress,
  type TlsConfig,
  type TransportCounters,
  type TransportLayerOptions,
  type TransportLimits,
} from './options';
export { FramingError, StreamFramer, PONG, type FramedUnit, type FramerLimits } from './framer';
export { FlowWriteError, WriteBufferOverflowError } from './flows';
export { ConnectError } from './tcp';
export { AEAD_CIPHERS, TLS12_AEAD_SUITES, TLS13_SUITES, TLS_MAX_VERSION, TLS_MIN_VERSION, TlsHandshakeError } from './tls';
export {
  FlowFailedError,
  TransportError,
  isReliable,
  type Endpoint,
  type ReceivedInfo,
  type SendTarget,
  type Transport,
  type TransportProtocol,
  type TransportUser,
} from './types';
