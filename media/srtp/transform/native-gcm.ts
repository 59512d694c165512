/**
 * The RFC 7714 transform (AEAD_AES_128_GCM, AEAD_AES_256_GCM) on the native addon: the same wire
 * format and interface as AeadGcmTransform (./aead-gcm.ts), which stays the fallback. The addon
 * keys one EVP_CIPHER_CTX per direction of each session key and sets only the IV per packet.
 *
 *   SRTP  (§8):   header || C || tag || [MKI];  IV from (SSRC, ROC, SEQ); AAD = header incl. CSRCs and extension
 *   SRTCP (§9, E=1): header(8) || C || tag || E|index || [MKI];  AAD = header(8) || E|index
 *   SRTCP (§9, E=0): packet || tag || E|index || [MKI];  AAD = packet || E|index, nothing encrypted
 */
import { GCM_TAG_LENGTH } from '../cipher/gcm';
import type { SrtpSessionKeys } from '../kdf';
import type { NativeGcmSession, NativeSrtp } from '../native';
import type { SrtpTransform } from './types';

const NO_MKI = new Uint8Array(0);

export class NativeGcmTransform implements SrtpTransform {
  readonly srtpTagLength = GCM_TAG_LENGTH;
  readonly srtcpTagLength = GCM_TAG_LENGTH;
  readonly aead = true;
  private readonly rtp: NativeGcmSession;

  /** The SRTP session, for the relay's fast path (SrtpTransform.nativeRtpSession). */
  get nativeRtpSession(): object {
    return this.rtp;
  }
  private readonly rtcp: NativeGcmSession;

  constructor(
    native: NativeSrtp,
    keys: SrtpSessionKeys,
    readonly mki: Uint8Array = NO_MKI,
  ) {
    this.rtp = new native.GcmSession(keys.srtp.encryptionKey, keys.srtp.salt, mki);
    this.rtcp = new native.GcmSession(keys.srtcp.encryptionKey, keys.srtcp.salt, mki);
  }

  protectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer {
    const out = Buffer.allocUnsafe(packet.length + GCM_TAG_LENGTH + this.mki.length); // every octet written
    this.rtp.protectRtp(packet, out, headerLength, ssrc, index);
    return out;
  }

  unprotectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer | null {
    const out = Buffer.allocUnsafe(packet.length - GCM_TAG_LENGTH - this.mki.length);
    return this.rtp.unprotectRtp(packet, out, headerLength, ssrc, index) ? out : null;
  }

  protectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypt: boolean): Buffer {
    const out = Buffer.allocUnsafe(packet.length + GCM_TAG_LENGTH + 4 + this.mki.length);
    this.rtcp.protectRtcp(packet, out, ssrc, index, encrypt);
    return out;
  }

  unprotectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypted: boolean): Buffer | null {
    const out = Buffer.allocUnsafe(packet.length - GCM_TAG_LENGTH - 4 - this.mki.length);
    return this.rtcp.unprotectRtcp(packet, out, ssrc, index, encrypted) ? out : null;
  }

  /** Frees the native cipher contexts and overwrites the native key copies; later calls throw. */
  wipe(): void {
    this.rtp.wipe();
    this.rtcp.wipe();
  }
}
