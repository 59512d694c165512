/**
 * Loader of the native SRTP addon (binding.gyp, src/*.c): AES-CM + HMAC-SHA1 (RFC 3711 §4.1.1,
 * §4.2.1) and AES-GCM (RFC 7714) session objects on the OpenSSL that node itself links.
 *
 * Why: node:crypto cannot re-IV a cipher, so a GCM packet pays a whole createCipheriv; the addon
 * keys its EVP_CIPHER_CTX once per session key and sets only the IV per packet. The addon is
 * optional: when it is not built, fails to load, or CIPHERGATE_SRTP_NATIVE=0, `loadNative()`
 * returns null and the TypeScript transforms are used (media/srtp/transform/index.ts).
 *
 * Calling convention (every argument is checked in C; a bad one throws TypeError or RangeError):
 * the caller allocates `out` with exactly the octets the operation writes; protect* fill it,
 * unprotect* return false, having written nothing to `out`, when the packet does not authenticate.
 */
import { addonPath, tryLoadAddon } from '../../addon';
import { udpIoAddonPath } from '../../relay/io/native/path';

/** One SRTP or SRTCP session key set of an AES-CM + HMAC-SHA1 profile (RFC 3711; RFC 6188). */
export interface NativeAesCmSession {
  /** out (packet + MKI + tag octets) = header || E(payload) || MKI || tag (§3.1). */
  protectRtp(packet: Uint8Array, out: Uint8Array, headerLength: number, ssrc: number, index: number, tagLength: number): void;
  /** out (packet - MKI - tag octets) = the RTP packet; false if the tag does not verify (§3.3). */
  unprotectRtp(packet: Uint8Array, out: Uint8Array, headerLength: number, ssrc: number, index: number, tagLength: number): boolean;
  /** out (packet + 4 + MKI + tag octets) = header || E(rest) || E|index || MKI || tag (§3.4). */
  protectRtcp(packet: Uint8Array, out: Uint8Array, ssrc: number, index: number, encrypt: boolean, tagLength: number): void;
  /** out (packet - 4 - MKI - tag octets) = the RTCP packet; false if the tag does not verify. */
  unprotectRtcp(packet: Uint8Array, out: Uint8Array, ssrc: number, index: number, encrypted: boolean, tagLength: number): boolean;
  /** Frees the cipher context and overwrites the key material; every later call throws. */
  wipe(): void;
}

/** One SRTP or SRTCP session key set of an AEAD_AES_*_GCM profile (RFC 7714). */
export interface NativeGcmSession {
  /** out (packet + 16 + MKI octets) = header || C || tag || MKI (§8). */
  protectRtp(packet: Uint8Array, out: Uint8Array, headerLength: number, ssrc: number, index: number): void;
  /** out (packet - 16 - MKI octets) = the RTP packet; false, out untouched, if it does not authenticate. */
  unprotectRtp(packet: Uint8Array, out: Uint8Array, headerLength: number, ssrc: number, index: number): boolean;
  /** out (packet + 16 + 4 + MKI octets) = header || C || tag || E|index || MKI (§9). */
  protectRtcp(packet: Uint8Array, out: Uint8Array, ssrc: number, index: number, encrypt: boolean): void;
  /** out (packet - 16 - 4 - MKI octets) = the RTCP packet; false, out untouched, if it does not authenticate. */
  unprotectRtcp(packet: Uint8Array, out: Uint8Array, ssrc: number, index: number, encrypted: boolean): boolean;
  wipe(): void;
}

export interface NativeSrtp {
  readonly AesCmSession: new (encryptionKey: Uint8Array, authenticationKey: Uint8Array, salt: Uint8Array, mki: Uint8Array) => NativeAesCmSession;
  readonly GcmSession: new (encryptionKey: Uint8Array, salt: Uint8Array, mki: Uint8Array) => NativeGcmSession;
  /** The OpenSSL the addon runs on (node's own), e.g. "OpenSSL 3.0.19 27 Jan 2026". */
  readonly opensslVersion: string;
  /**
   * What an AesCmSession encrypts with: 'aes-ni' (x86-64 with AES-NI: its own key schedule and
   * counter-mode loop) or 'openssl' (an AES-ECB context; also with CIPHERGATE_SRTP_AESNI=0 in the
   * environment when the addon loads).
   */
  aesCmCipher(): 'aes-ni' | 'openssl';
}

/**
 * Where the addon is built: next to binding.gyp in the source tree (this file runs from
 * dist/media/srtp/native when compiled).
 */
export function nativeAddonPath(): string {
  return addonPath(__dirname, 'media/srtp/native', 'ciphergate_srtp.node');
}

let loaded: { native: NativeSrtp | null; fault: string | undefined } | undefined;

function isNativeSrtp(value: unknown): value is NativeSrtp {
  const v = value as Partial<Record<keyof NativeSrtp, unknown>> | null;
  return typeof v === 'object' && v !== null && typeof v.AesCmSession === 'function' && typeof v.GcmSession === 'function' && typeof v.opensslVersion === 'string' && typeof v.aesCmCipher === 'function';
}

/** Loads the addon at `file`: the addon, or null and why not. Never throws. */
export function tryLoadNative(file: string): { native: NativeSrtp | null; fault: string | undefined } {
  const { addon, fault } = tryLoadAddon(file, isNativeSrtp);
  return { native: addon, fault };
}

/**
 * The session classes from the relay's socket addon when it is built (it carries them, so that
 * its fast path can take the relay's own sessions: one module, one registry), else from this addon.
 */
function loadPreferred(): { native: NativeSrtp | null; fault: string | undefined } {
  const fromSockets = tryLoadNative(udpIoAddonPath());
  return fromSockets.native !== null ? fromSockets : tryLoadNative(nativeAddonPath());
}

/**
 * The addon, or null: not built, failed to load, or disabled with CIPHERGATE_SRTP_NATIVE=0 (read
 * on every call, so a test or bench can switch backends; the file is loaded at most once per thread).
 */
export function loadNative(): NativeSrtp | null {
  if (process.env.CIPHERGATE_SRTP_NATIVE === '0') return null;
  loaded ??= loadPreferred();
  return loaded.native;
}

/** Why the addon is not in use (undefined when it is), for a startup log line. */
export function nativeFault(): string | undefined {
  if (process.env.CIPHERGATE_SRTP_NATIVE === '0') return 'disabled by CIPHERGATE_SRTP_NATIVE=0';
  loaded ??= loadPreferred();
  return loaded.fault;
}
