/**
 * The RTP/SRTP relay under the media engine: port pairs, the per-packet path (latching, SRTP
 * termination, RTCP mux translation, SSRC/sequence/timestamp continuity, payload type mapping,
 * bad-input accounting) and the worker threads that run it.
 */
export { PortAllocator, PortsExhaustedError } from './ports';
export { RelayPool, RelayError, type RelayPoolOptions } from './pool';
export { RelayHost, type RelayHostOptions } from './host';
export { RELATCH_QUIET_MS } from './latch';
export { DROP_REASONS, type DropReason } from './stats';
export { ContinuityRewriter, RtcpTranslation } from './continuity';
export { isValidRtcp, translateRtcp, type SsrcTranslation } from './rtcp';
export type * from './protocol';
