/**
 * SRTP key derivation (RFC 3711 §4.3) with key_derivation_rate = 0: each session key is derived
 * once per master key.
 *
 *   key_id = label || r          r = index DIV kdr = 0 (48 bits)        §4.3.1
 *   x      = key_id XOR master_salt  (key_id right-aligned in 112 bits)
 *   k      = AES-CM(master_key, IV = x * 2^16), first n octets           §4.3.3
 *
 * AES-256 uses AES_256_CM_PRF, the same construction with the 256-bit master key (RFC 6188 §5.2).
 * GCM profiles (RFC 7714 §11) use the AES-CM PRF with their 96-bit master salt padded with two
 * zero octets on the right to 112 bits, and derive 96-bit session salts and no auth key.
 */
import { AesCounterMode } from './cipher/ctr';
import { SrtpConfigError } from './errors';
import type { SrtpProfile } from './profiles';

/** Key derivation labels (RFC 3711 §4.3.1, §4.3.2). */
export const KDF_LABEL = Object.freeze({
  SRTP_ENCRYPTION: 0x00,
  SRTP_AUTHENTICATION: 0x01,
  SRTP_SALT: 0x02,
  SRTCP_ENCRYPTION: 0x03,
  SRTCP_AUTHENTICATION: 0x04,
  SRTCP_SALT: 0x05,
} as const);

/** Session keys of one direction of RTP or RTCP. */
export interface SessionKeys {
  readonly encryptionKey: Buffer;
  /** Empty for AEAD profiles. */
  readonly authenticationKey: Buffer;
  readonly salt: Buffer;
}

export interface SrtpSessionKeys {
  readonly srtp: SessionKeys;
  readonly srtcp: SessionKeys;
}

/** The AES-CM PRF keyed by one master key, producing any labelled session key. */
export class SrtpKeyDerivation {
  private readonly prf: AesCounterMode;
  private readonly salt: Buffer;

  constructor(masterKey: Uint8Array, masterSalt: Uint8Array) {
    if (masterSalt.length !== 14 && masterSalt.length !== 12) {
      throw new SrtpConfigError(`master salt must be 14 or 12 octets, got ${masterSalt.length}`);
    }
    this.prf = new AesCounterMode(masterKey);
    this.salt = Buffer.alloc(14);
    this.salt.set(masterSalt, 0);
  }

  /** The `length`-octet session key for `label` (RFC 3711 §4.3.1). */
  derive(label: number, length: number): Buffer {
    const iv = Buffer.alloc(16);
    this.salt.copy(iv, 0);
    iv[7] ^= label; // key_id's label octet lands on octet 7 of the 14-octet salt; r = 0
    const key = this.prf.keystream(iv, length);
    iv.fill(0);
    return key;
  }

  wipe(): void {
    this.salt.fill(0);
  }
}

/** One labelled session key from a master key and salt (RFC 3711 §4.3). */
export function deriveSessionKey(masterKey: Uint8Array, masterSalt: Uint8Array, label: number, length: number): Buffer {
  const kdf = new SrtpKeyDerivation(masterKey, masterSalt);
  try {
    return kdf.derive(label, length);
  } finally {
    kdf.wipe();
  }
}

/** All six session keys a profile needs, after checking the master key and salt lengths. */
export function deriveSessionKeys(profile: SrtpProfile, masterKey: Uint8Array, masterSalt: Uint8Array): SrtpSessionKeys {
  if (masterKey.length !== profile.keyLength) {
    throw new SrtpConfigError(`${profile.name} needs a ${profile.keyLength}-octet master key, got ${masterKey.length}`);
  }
  if (masterSalt.length !== profile.saltLength) {
    throw new SrtpConfigError(`${profile.name} needs a ${profile.saltLength}-octet master salt, got ${masterSalt.length}`);
  }
  const kdf = new SrtpKeyDerivation(masterKey, masterSalt);
  try {
    const keys = (enc: number, auth: number, salt: number): SessionKeys => ({
      encryptionKey: kdf.derive(enc, profile.keyLength),
      authenticationKey: profile.authKeyLength > 0 ? kdf.derive(auth, profile.authKeyLength) : Buffer.alloc(0),
      salt: kdf.derive(salt, profile.saltLength),
    });
    return {
      srtp: keys(KDF_LABEL.SRTP_ENCRYPTION, KDF_LABEL.SRTP_AUTHENTICATION, KDF_LABEL.SRTP_SALT),
      srtcp: keys(KDF_LABEL.SRTCP_ENCRYPTION, KDF_LABEL.SRTCP_AUTHENTICATION, KDF_LABEL.SRTCP_SALT),
    };
  } finally {
    kdf.wipe();
  }
}

/** Overwrites the session keys (once ciphers have been keyed from them). */
export function wipeSessionKeys(keys: SrtpSessionKeys): void {
  for (const k of [keys.srtp, keys.srtcp]) {
    k.encryptionKey.fill(0);
    k.authenticationKey.fill(0);
    k.salt.fill(0);
  }
}
