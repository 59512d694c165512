/**
 * SRTP and SRTCP (RFC 3711) with AES-256 (RFC 6188) and AES-GCM (RFC 7714), on node:crypto.
 * Usage: one SrtpContext per direction and master key; see context.ts.
 */
export { SrtpContext, type SrtpContextOptions } from './context';
export { generateKeyMaterial, type SrtpKeyMaterial } from './keys';
export {
  SRTP_PROFILES,
  SDES_SUITE_NAMES,
  alternateSrtcpTagLength,
  getSrtpProfile,
  isSrtpProfileName,
  profileFromDtlsId,
  profileFromSdesName,
  type SrtpProfile,
  type SrtpProfileName,
} from './profiles';
export {
  SrtpError,
  SrtpFormatError,
  SrtpAuthError,
  SrtpReplayError,
  SrtpConfigError,
  SrtpStreamLimitError,
  SrtpKeyUsageError,
  type SrtpErrorCode,
  type SrtpFormatReason,
  type SrtpAuthReason,
  type SrtpKeyUsageReason,
} from './errors';
export { KDF_LABEL, deriveSessionKey, deriveSessionKeys, type SessionKeys, type SrtpSessionKeys } from './kdf';
export { ReplayWindow, MIN_REPLAY_WINDOW, type ReplayVerdict } from './replay';
export { estimatePacketIndex, rocOf, MAX_SRTP_INDEX, MAX_SRTCP_INDEX } from './roc';
export { createTransform, srtpBackend, type SrtpTransform } from './transform';
export { nativeFault } from './native';
