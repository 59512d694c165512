/**
 * Picks the transform of a profile (RFC 3711 AES-CM + HMAC-SHA1, or RFC 7714 AES-GCM) and its
 * backend: the native addon on node's OpenSSL when it is loaded (../native), else TypeScript on
 * node:crypto. Both give the same octets on the wire (test/media/srtp/native.test.ts).
 */
import type { SrtpSessionKeys } from '../kdf';
import { loadNative } from '../native';
import type { SrtpProfile } from '../profiles';
import { AeadGcmTransform } from './aead-gcm';
import { AesCmHmacTransform } from './aes-cm-hmac';
import { NativeAesCmTransform } from './native-aes-cm';
import { NativeGcmTransform } from './native-gcm';
import type { SrtpTransform } from './types';

export type { SrtpTransform } from './types';
export { AesCmHmacTransform } from './aes-cm-hmac';
export { AeadGcmTransform } from './aead-gcm';
export { NativeAesCmTransform } from './native-aes-cm';
export { NativeGcmTransform } from './native-gcm';

export type SrtpBackend = 'native' | 'typescript';

/** The backend createTransform() uses now (CIPHERGATE_SRTP_NATIVE=0 forces 'typescript'). */
export function srtpBackend(): SrtpBackend {
  return loadNative() ? 'native' : 'typescript';
}

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
  const native = loadNative();
  if (native) {
    return profile.transform === 'aes-gcm'
      ? new NativeGcmTransform(native, keys, mki)
      : new NativeAesCmTransform(native, keys, profile.srtpTagLength, srtcpTagLength, mki);
  }
  return profile.transform === 'aes-gcm'
    ? new AeadGcmTransform(keys, mki)
    : new AesCmHmacTransform(keys, profile.srtpTagLength, srtcpTagLength, mki);
}
