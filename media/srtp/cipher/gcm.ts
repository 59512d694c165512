/**
 * AES-GCM for SRTP and SRTCP (RFC 7714): IV formation (§8.1, §9.1) and the AEAD seal/open of
 * node:crypto with a 16-octet tag (§12, AEAD_AES_128_GCM / AEAD_AES_256_GCM).
 *
 * node:crypto cannot re-IV a GCM object, so each packet costs one createCipheriv; the key is held
 * as a KeyObject, which skips re-validating raw key bytes on every call.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { SrtpConfigError } from '../errors';

export const GCM_TAG_LENGTH = 16;
export const GCM_IV_LENGTH = 12;

/**
 * RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt, 12 octets, for SRTP.
 * Writes into `out` (12 octets) and returns it.
 */
export function srtpGcmIv(salt: Uint8Array, ssrc: number, roc: number, seq: number, out: Uint8Array): Uint8Array {
  out[0] = salt[0];
  out[1] = salt[1];
  out[2] = salt[2] ^ (ssrc >>> 24);
  out[3] = salt[3] ^ ((ssrc >>> 16) & 0xff);
  out[4] = salt[4] ^ ((ssrc >>> 8) & 0xff);
  out[5] = salt[5] ^ (ssrc & 0xff);
  out[6] = salt[6] ^ (roc >>> 24);
  out[7] = salt[7] ^ ((roc >>> 16) & 0xff);
  out[8] = salt[8] ^ ((roc >>> 8) & 0xff);
  out[9] = salt[9] ^ (roc & 0xff);
  out[10] = salt[10] ^ ((seq >>> 8) & 0xff);
  out[11] = salt[11] ^ (seq & 0xff);
  return out;
}

/**
 * RFC 7714 §9.1: IV = (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR salt, for SRTCP.
 * The E flag is not part of the IV.
 */
export function srtcpGcmIv(salt: Uint8Array, ssrc: number, index: number, out: Uint8Array): Uint8Array {
  return srtpGcmIv(salt, ssrc, index >>> 16, index & 0xffff, out);
}

export class AesGcm {
  private readonly key: KeyObject;
  private readonly algorithm: 'aes-128-gcm' | 'aes-256-gcm';

  constructor(key: Uint8Array) {
    if (key.length !== 16 && key.length !== 32) {
      throw new SrtpConfigError(`AES-GCM key must be 16 or 32 octets, got ${key.length}`);
    }
    this.algorithm = key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm';
    this.key = createSecretKey(key);
  }

  /**
   * Encrypts `plaintext` with `aad` authenticated alongside; writes the ciphertext at
   * `out[offset]` and the 16-octet tag right after it. Returns the offset past the tag.
   */
  seal(iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): number {
    // No options object: GCM's default tag is 16 octets, and the options path costs ~0.5 µs.
    const cipher = createCipheriv(this.algorithm, this.key, iv);
    cipher.setAAD(aad);
    let at = offset;
    if (plaintext.length > 0) {
      const ct = cipher.update(plaintext);
      out.set(ct, at);
      at += ct.length;
    }
    const rest = cipher.final(); // empty for GCM; kept for completeness
    out.set(rest, at);
    at += rest.length;
    out.set(cipher.getAuthTag(), at);
    return at + GCM_TAG_LENGTH;
  }

  /**
   * Verifies `tag` over `aad` and `ciphertext`, then writes the plaintext at `out[offset]`.
   * Returns false, having written nothing, if the tag does not verify (RFC 7714 §8.2 step 5).
   */
  open(iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, out: Uint8Array, offset: number): boolean {
    // Only full 16-octet tags: node would otherwise accept a truncated tag (4..16 octets) when no
    // authTagLength option is given, and that option costs ~0.5 µs per packet.
    if (tag.length !== GCM_TAG_LENGTH) return false;
    const decipher = createDecipheriv(this.algorithm, this.key, iv);
    decipher.setAuthTag(tag);
    decipher.setAAD(aad);
    const pt = ciphertext.length > 0 ? decipher.update(ciphertext) : Buffer.alloc(0);
    try {
      decipher.final();
    } catch {
      pt.fill(0); // unauthenticated plaintext never leaves this function
      return false;
    }
    out.set(pt, offset);
    return true;
  }
}
