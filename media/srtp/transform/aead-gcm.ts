/**
 * The RFC 7714 transform: AEAD_AES_128_GCM and AEAD_AES_256_GCM.
 *
 *   SRTP  (§8):   header || C || tag || [MKI];  IV from (SSRC, ROC, SEQ); AAD = header incl. CSRCs and extension
 *   SRTCP (§9, E=1): header(8) || C || tag || E|index || [MKI];  AAD = header(8) || E|index
 *   SRTCP (§9, E=0): packet || tag || E|index || [MKI];  AAD = packet || E|index, nothing encrypted
 * The optional MKI (RFC 7714 §8, §9 figures) ends the packet and is not authenticated.
 */
import { AesGcm, GCM_IV_LENGTH, GCM_TAG_LENGTH, srtcpGcmIv, srtpGcmIv } from '../cipher/gcm';
import type { SessionKeys, SrtpSessionKeys } from '../kdf';
import { RTCP_HEADER_LENGTH, readUint32, writeUint32 } from '../packet';
import { rocOf } from '../roc';
import type { SrtpTransform } from './types';

class GcmSession {
  readonly aead: AesGcm;
  readonly salt: Buffer;
  /** Reused IV buffer: createCipheriv copies it. */
  readonly iv = Buffer.alloc(GCM_IV_LENGTH);
  /** Reused AAD of an encrypted SRTCP packet, header(8) || E|index (§9.1): setAAD consumes it at once. */
  private readonly headerAad = Buffer.alloc(RTCP_HEADER_LENGTH + 4);

  /** The AAD of an encrypted SRTCP packet, valid until the next call. */
  srtcpHeaderAad(packet: Uint8Array, word: number): Buffer {
    const aad = this.headerAad;
    for (let i = 0; i < RTCP_HEADER_LENGTH; i++) aad[i] = packet[i];
    writeUint32(aad, RTCP_HEADER_LENGTH, word);
    return aad;
  }

  constructor(keys: SessionKeys) {
    this.aead = new AesGcm(keys.encryptionKey);
    this.salt = Buffer.from(keys.salt);
  }

  wipe(): void {
    this.salt.fill(0);
    this.iv.fill(0);
    this.headerAad.fill(0);
  }
}

export class AeadGcmTransform implements SrtpTransform {
  readonly srtpTagLength = GCM_TAG_LENGTH;
  readonly srtcpTagLength = GCM_TAG_LENGTH;
  readonly aead = true;
  private readonly rtp: GcmSession;
  private readonly rtcp: GcmSession;

  constructor(
    keys: SrtpSessionKeys,
    readonly mki: Uint8Array = EMPTY,
  ) {
    this.rtp = new GcmSession(keys.srtp);
    this.rtcp = new GcmSession(keys.srtcp);
  }

  protectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer {
    const iv = srtpGcmIv(this.rtp.salt, ssrc, rocOf(index), index & 0xffff, this.rtp.iv);
    const m = this.mki.length;
    const out = Buffer.allocUnsafe(packet.length + GCM_TAG_LENGTH + m);
    out.set(packet.subarray(0, headerLength), 0);
    const end = this.rtp.aead.seal(iv, packet.subarray(0, headerLength), packet.subarray(headerLength), out, headerLength);
    if (m > 0) out.set(this.mki, end);
    return out;
  }

  unprotectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer | null {
    const tagEnd = packet.length - this.mki.length;
    const end = tagEnd - GCM_TAG_LENGTH;
    const iv = srtpGcmIv(this.rtp.salt, ssrc, rocOf(index), index & 0xffff, this.rtp.iv);
    const out = Buffer.allocUnsafe(end); // every octet is written below before it is returned
    const header = packet.subarray(0, headerLength);
    if (!this.rtp.aead.open(iv, header, packet.subarray(headerLength, end), packet.subarray(end, tagEnd), out, headerLength)) {
      return null;
    }
    out.set(header, 0);
    return out;
  }

  protectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypt: boolean): Buffer {
    const length = packet.length;
    const m = this.mki.length;
    const word = ((encrypt ? 0x80000000 : 0) | index) >>> 0;
    const iv = srtcpGcmIv(this.rtcp.salt, ssrc, index, this.rtcp.iv);
    const out = Buffer.allocUnsafe(length + GCM_TAG_LENGTH + 4 + m);
    out.set(packet, 0);
    writeUint32(out, length + GCM_TAG_LENGTH, word);
    if (m > 0) out.set(this.mki, length + GCM_TAG_LENGTH + 4);
    if (encrypt) {
      this.rtcp.aead.seal(iv, this.rtcp.srtcpHeaderAad(packet, word), packet.subarray(RTCP_HEADER_LENGTH), out, RTCP_HEADER_LENGTH);
    } else {
      const aad = Buffer.allocUnsafe(length + 4);
      aad.set(packet, 0);
      writeUint32(aad, length, word);
      this.rtcp.aead.seal(iv, aad, EMPTY, out, length);
    }
    return out;
  }

  unprotectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypted: boolean): Buffer | null {
    const wordAt = packet.length - this.mki.length - 4;
    const tagAt = wordAt - GCM_TAG_LENGTH;
    const word = readUint32(packet, wordAt);
    const iv = srtcpGcmIv(this.rtcp.salt, ssrc, index, this.rtcp.iv);
    const tag = packet.subarray(tagAt, wordAt);
    const out = Buffer.allocUnsafe(tagAt); // every octet is written below before it is returned
    if (encrypted) {
      const aad = this.rtcp.srtcpHeaderAad(packet, word);
      if (!this.rtcp.aead.open(iv, aad, packet.subarray(RTCP_HEADER_LENGTH, tagAt), tag, out, RTCP_HEADER_LENGTH)) return null;
      out.set(packet.subarray(0, RTCP_HEADER_LENGTH), 0);
    } else {
      const aad = Buffer.allocUnsafe(tagAt + 4);
      aad.set(packet.subarray(0, tagAt), 0);
      writeUint32(aad, tagAt, word);
      if (!this.rtcp.aead.open(iv, aad, EMPTY, tag, out, 0)) return null;
      out.set(packet.subarray(0, tagAt), 0);
    }
    return out;
  }

  wipe(): void {
    this.rtp.wipe();
    this.rtcp.wipe();
  }
}

const EMPTY = new Uint8Array(0);
