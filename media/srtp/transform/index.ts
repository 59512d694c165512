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
 * them). `srtcpTagLength` overrides the profile's SRTCP tag length (HMAC profiles only).
 */
export function createTransform(profile: SrtpProfile, keys: SrtpSessionKeys, srtcpTagLength = profile.srtcpTagLength): SrtpTransform {
  return profile.transform === 'aes-gcm'
    ? new AeadGcmTransform(keys)
    : new AesCmHmacTransform(keys, profile.srtpTagLength, srtcpTagLength);
}
