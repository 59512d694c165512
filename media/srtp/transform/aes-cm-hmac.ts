/**
 * The RFC 3711 transform: AES counter mode (§4.1.1) with HMAC-SHA1 (§4.2.1), for the
 * AES_CM_128_HMAC_SHA1_* and AES_256_CM_HMAC_SHA1_* (RFC 6188) profiles.
 *
 *   SRTP   (§3.1): header || E(payload) || [MKI] || tag,            tag = HMAC(header || E(payload) || ROC)
 *   SRTCP  (§3.4): header || E(rest) || E-flag|index || [MKI] || tag, tag = HMAC(header .. E-flag|index)
 * The MKI sits between the authenticated portion and the tag and is not authenticated (§3.1).
 */
import { AesCounterMode } from '../cipher/ctr';
import { HmacSha1 } from '../cipher/hmac';
import type { SessionKeys, SrtpSessionKeys } from '../kdf';
import { RTCP_HEADER_LENGTH, writeUint32 } from '../packet';
import { rocOf } from '../roc';
import type { SrtpTransform } from './types';

const NO_MKI = new Uint8Array(0);

/** Session crypto of one of SRTP or SRTCP. */
class CmSession {
  readonly ctr: AesCounterMode;
  readonly hmac: HmacSha1;
  /** The 14-octet session salt k_s. */
  private readonly salt: Buffer;
  /** Reused counter block: k_s * 2^16 XOR SSRC * 2^64 XOR index * 2^16 (§4.1.1). */
  private readonly iv = Buffer.alloc(16);

  constructor(keys: SessionKeys) {
    this.ctr = new AesCounterMode(keys.encryptionKey);
    this.hmac = new HmacSha1(keys.authenticationKey);
    this.salt = Buffer.from(keys.salt);
  }

  counterBlock(ssrc: number, index: number): Buffer {
    const iv = this.iv;
    const s = this.salt;
    const hi = Math.floor(index / 0x100000000); // top 16 bits of the 48-bit index
    const lo = index >>> 0;
    for (let i = 0; i < 4; i++) iv[i] = s[i];
    iv[4] = s[4] ^ (ssrc >>> 24);
    iv[5] = s[5] ^ ((ssrc >>> 16) & 0xff);
    iv[6] = s[6] ^ ((ssrc >>> 8) & 0xff);
    iv[7] = s[7] ^ (ssrc & 0xff);
    iv[8] = s[8] ^ ((hi >>> 8) & 0xff);
    iv[9] = s[9] ^ (hi & 0xff);
    iv[10] = s[10] ^ (lo >>> 24);
    iv[11] = s[11] ^ ((lo >>> 16) & 0xff);
    iv[12] = s[12] ^ ((lo >>> 8) & 0xff);
    iv[13] = s[13] ^ (lo & 0xff);
    iv[14] = 0;
    iv[15] = 0;
    return iv;
  }

  wipe(): void {
    this.salt.fill(0);
    this.iv.fill(0);
    this.hmac.wipe();
  }
}

export class AesCmHmacTransform implements SrtpTransform {
  readonly aead = false;
  private readonly rtp: CmSession;
  private readonly rtcp: CmSession;

  constructor(
    keys: SrtpSessionKeys,
    readonly srtpTagLength: number,
    readonly srtcpTagLength: number,
    readonly mki: Uint8Array = NO_MKI,
  ) {
    this.rtp = new CmSession(keys.srtp);
    this.rtcp = new CmSession(keys.srtcp);
  }

  protectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer {
    const length = packet.length;
    const m = this.mki.length;
    const out = Buffer.allocUnsafe(length + m + this.srtpTagLength);
    out.set(packet, 0);
    this.rtp.ctr.xor(this.rtp.counterBlock(ssrc, index), out, headerLength, length);
    if (m > 0) out.set(this.mki, length);
    this.rtp.hmac.sign(out, 0, length, rocOf(index), out, length + m, this.srtpTagLength);
    return out;
  }

  unprotectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer | null {
    const tagAt = packet.length - this.srtpTagLength;
    const end = tagAt - this.mki.length;
    // §3.3 step 5: authenticate first; nothing is decrypted for a packet that does not verify.
    if (!this.rtp.hmac.verify(packet, 0, end, rocOf(index), packet, tagAt, this.srtpTagLength)) return null;
    const out = Buffer.from(packet.subarray(0, end));
    this.rtp.ctr.xor(this.rtp.counterBlock(ssrc, index), out, headerLength, end);
    return out;
  }

  protectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypt: boolean, tagLength = this.srtcpTagLength): Buffer {
    const length = packet.length;
    const m = this.mki.length;
    const out = Buffer.allocUnsafe(length + 4 + m + tagLength);
    out.set(packet, 0);
    if (encrypt) this.rtcp.ctr.xor(this.rtcp.counterBlock(ssrc, index), out, RTCP_HEADER_LENGTH, length);
    writeUint32(out, length, ((encrypt ? 0x80000000 : 0) | index) >>> 0);
    if (m > 0) out.set(this.mki, length + 4);
    this.rtcp.hmac.sign(out, 0, length + 4, undefined, out, length + 4 + m, tagLength);
    return out;
  }

  unprotectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypted: boolean, tagLength = this.srtcpTagLength): Buffer | null {
    const tagAt = packet.length - tagLength;
    const authEnd = tagAt - this.mki.length;
    if (!this.rtcp.hmac.verify(packet, 0, authEnd, undefined, packet, tagAt, tagLength)) return null;
    const out = Buffer.from(packet.subarray(0, authEnd - 4));
    if (encrypted) this.rtcp.ctr.xor(this.rtcp.counterBlock(ssrc, index), out, RTCP_HEADER_LENGTH, out.length);
    return out;
  }

  wipe(): void {
    this.rtp.wipe();
    this.rtcp.wipe();
  }
}
