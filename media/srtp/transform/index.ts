/** Picks the transform of a profile (RFC 3711 AES-CM + HMAC-SHA1, or RFC 7714 AES-GCM). */
import type { SrtpSessionKeys } from '../kdf';
import type { SrtpProfile } from '../profiles';
import { AeadGcmTransform } from './aead-gcm';
import { AesCmHmacTransform } from './aes-cm-hmac';
import type { SrtpTransform } from './types';

export type { SrtpTransform } from './types';
export { AesCmHmacTransform } from './aes-cm-hmac';
export { AeadGcmTransform } from './aead-gcm';

/**
 * The transform for `profile` keyed with `keys` (session keys, as the KDF or a test vector gives
 * them). `srtcpTagLength` overrides the profile's default SRTCP tag length (HMAC profiles only);
 * `mki`, when not empty, is written into every packet (RFC 3711 §3.1).
 */
export function createTransform(
  profile: SrtpProfile,
  keys: SrtpSessionKeys,
  srtcpTagLength = profile.srtcpTagLength,
  mki?: Uint8Array,
): SrtpTransform {
  return profile.transform === 'aes-gcm'
    ? new AeadGcmTransform(keys, mki)
    : new AesCmHmacTransform(keys, profile.srtpTagLength, srtcpTagLength, mki);
}
