/**
 * The RFC 3711 transform (AES-CM + HMAC-SHA1, RFC 6188 for AES-256) on the native addon: the same
 * wire format and interface as AesCmHmacTransform (./aes-cm-hmac.ts), which stays the fallback.
 *
 *   SRTP   (§3.1): header || E(payload) || [MKI] || tag,            tag = HMAC(header || E(payload) || ROC)
 *   SRTCP  (§3.4): header || E(rest) || E-flag|index || [MKI] || tag, tag = HMAC(header .. E-flag|index)
 * The addon copies the session keys; the caller may wipe its own right after construction.
 */
import type { SrtpSessionKeys } from '../kdf';
import type { NativeAesCmSession, NativeSrtp } from '../native';
import type { SrtpTransform } from './types';

const NO_MKI = new Uint8Array(0);

export class NativeAesCmTransform implements SrtpTransform {
  readonly aead = false;
  private readonly rtp: NativeAesCmSession;

  /** The SRTP session, for the relay's fast path (SrtpTransform.nativeRtpSession). */
  get nativeRtpSession(): object {
    return this.rtp;
  }
  private readonly rtcp: NativeAesCmSession;

  constructor(
    native: NativeSrtp,
    keys: SrtpSessionKeys,
    readonly srtpTagLength: number,
    readonly srtcpTagLength: number,
    readonly mki: Uint8Array = NO_MKI,
  ) {
    const { srtp, srtcp } = keys;
    this.rtp = new native.AesCmSession(srtp.encryptionKey, srtp.authenticationKey, srtp.salt, mki);
    this.rtcp = new native.AesCmSession(srtcp.encryptionKey, srtcp.authenticationKey, srtcp.salt, mki);
  }

  protectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer {
    const out = Buffer.allocUnsafe(packet.length + this.mki.length + this.srtpTagLength); // every octet written
    this.rtp.protectRtp(packet, out, headerLength, ssrc, index, this.srtpTagLength);
    return out;
  }

  unprotectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer | null {
    // §3.3 step 5: nothing is decrypted for a packet that does not verify.
    const out = Buffer.allocUnsafe(packet.length - this.mki.length - this.srtpTagLength);
    return this.rtp.unprotectRtp(packet, out, headerLength, ssrc, index, this.srtpTagLength) ? out : null;
  }

  protectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypt: boolean, tagLength = this.srtcpTagLength): Buffer {
    const out = Buffer.allocUnsafe(packet.length + 4 + this.mki.length + tagLength);
    this.rtcp.protectRtcp(packet, out, ssrc, index, encrypt, tagLength);
    return out;
  }

  unprotectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypted: boolean, tagLength = this.srtcpTagLength): Buffer | null {
    const out = Buffer.allocUnsafe(packet.length - 4 - this.mki.length - tagLength);
    return this.rtcp.unprotectRtcp(packet, out, ssrc, index, encrypted, tagLength) ? out : null;
  }

  /** Frees the native cipher contexts and overwrites the native key copies; later calls throw. */
  wipe(): void {
    this.rtp.wipe();
    this.rtcp.wipe();
  }
}
