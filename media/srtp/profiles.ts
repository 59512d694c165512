/**
 * SRTP protection profiles: the transform parameters of each crypto suite.
 *
 * - AES_CM_128_HMAC_SHA1_80 / _32: RFC 3711 §5 defaults; SDES names RFC 4568 §6.2; DTLS-SRTP
 *   profile ids RFC 5764 §4.1.2.
 * - AES_256_CM_HMAC_SHA1_80 / _32: RFC 6188 §3–§6 (AES-256 counter mode and AES_256_CM_PRF).
 * - AEAD_AES_128_GCM / AEAD_AES_256_GCM: RFC 7714 §12–§14 (16-octet tag, 96-bit salt).
 *
 * SRTCP tag of the *_32 suites: the 32-bit tag is for SRTP only; SRTCP keeps the 80-bit default
 * (RFC 3711 §3.4, §5.2; RFC 4568 §6.2; RFC 5764 §4.1.2), as libsrtp-based peers (Asterisk,
 * FreeSWITCH) do. libre (baresip's built-in srtp module) tags SRTCP with 32 bits too. The profile
 * says 80; a receiving SrtpContext with `learnSrtcpTagLength` also accepts the 32-bit tag and keeps
 * whichever length the peer was seen to use (see `alternateSrtcpTagLength`).
 */

export type SrtpProfileName =
  | 'AES_CM_128_HMAC_SHA1_80'
  | 'AES_CM_128_HMAC_SHA1_32'
  | 'AES_256_CM_HMAC_SHA1_80'
  | 'AES_256_CM_HMAC_SHA1_32'
  | 'AEAD_AES_128_GCM'
  | 'AEAD_AES_256_GCM';

export interface SrtpProfile {
  readonly name: SrtpProfileName;
  /** The crypto-suite token of an SDP a=crypto line (RFC 4568 §9.1, RFC 6188 §7, RFC 7714 §14.1). */
  readonly sdesName: string;
  /** The DTLS-SRTP protection profile id (RFC 5764 §4.1.2, RFC 7714 §14.2), if one is registered. */
  readonly dtlsProfileId: number | undefined;
  /** 'aes-cm' = AES counter mode + HMAC-SHA1 (RFC 3711 §4); 'aes-gcm' = AEAD (RFC 7714). */
  readonly transform: 'aes-cm' | 'aes-gcm';
  /** Master key and session encryption key length, in octets. */
  readonly keyLength: 16 | 32;
  /** Master salt and session salt length, in octets (112 bits for AES-CM, 96 for GCM). */
  readonly saltLength: 14 | 12;
  /** Session authentication key length n_a, in octets (0 for AEAD). */
  readonly authKeyLength: 20 | 0;
  /** Authentication tag appended to each SRTP packet, in octets. */
  readonly srtpTagLength: number;
  /** Authentication tag appended to each SRTCP packet, in octets. */
  readonly srtcpTagLength: number;
}

const PROFILE_LIST: readonly SrtpProfile[] = [
  {
    name: 'AES_CM_128_HMAC_SHA1_80',
    sdesName: 'AES_CM_128_HMAC_SHA1_80',
    dtlsProfileId: 0x0001,
    transform: 'aes-cm',
    keyLength: 16,
    saltLength: 14,
    authKeyLength: 20,
    srtpTagLength: 10,
    srtcpTagLength: 10,
  },
  {
    name: 'AES_CM_128_HMAC_SHA1_32',
    sdesName: 'AES_CM_128_HMAC_SHA1_32',
    dtlsProfileId: 0x0002,
    transform: 'aes-cm',
    keyLength: 16,
    saltLength: 14,
    authKeyLength: 20,
    srtpTagLength: 4,
    srtcpTagLength: 10,
  },
  {
    name: 'AES_256_CM_HMAC_SHA1_80',
    sdesName: 'AES_256_CM_HMAC_SHA1_80',
    dtlsProfileId: undefined,
    transform: 'aes-cm',
    keyLength: 32,
    saltLength: 14,
    authKeyLength: 20,
    srtpTagLength: 10,
    srtcpTagLength: 10,
  },
  {
    name: 'AES_256_CM_HMAC_SHA1_32',
    sdesName: 'AES_256_CM_HMAC_SHA1_32',
    dtlsProfileId: undefined,
    transform: 'aes-cm',
    keyLength: 32,
    saltLength: 14,
    authKeyLength: 20,
    srtpTagLength: 4,
    srtcpTagLength: 10,
  },
  {
    name: 'AEAD_AES_128_GCM',
    sdesName: 'AEAD_AES_128_GCM',
    dtlsProfileId: 0x0007,
    transform: 'aes-gcm',
    keyLength: 16,
    saltLength: 12,
    authKeyLength: 0,
    srtpTagLength: 16,
    srtcpTagLength: 16,
  },
  {
    name: 'AEAD_AES_256_GCM',
    sdesName: 'AEAD_AES_256_GCM',
    dtlsProfileId: 0x0008,
    transform: 'aes-gcm',
    keyLength: 32,
    saltLength: 12,
    authKeyLength: 0,
    srtpTagLength: 16,
    srtcpTagLength: 16,
  },
].map((p) => Object.freeze(p as SrtpProfile));

/** Every supported profile, keyed by name. */
export const SRTP_PROFILES: Readonly<Record<SrtpProfileName, SrtpProfile>> = Object.freeze(
  Object.fromEntries(PROFILE_LIST.map((p) => [p.name, p])) as Record<SrtpProfileName, SrtpProfile>,
);

/**
 * The SDES crypto-suite names this module implements (RFC 4568 §6.2, RFC 6188 §7, RFC 7714 §14.1).
 * Which to offer and prefer is the SDES layer's policy, not this module's.
 */
export const SDES_SUITE_NAMES: readonly string[] = Object.freeze(PROFILE_LIST.map((p) => p.sdesName));

export function isSrtpProfileName(name: string): name is SrtpProfileName {
  return Object.prototype.hasOwnProperty.call(SRTP_PROFILES, name);
}

/** The profile of a name, or undefined. */
export function getSrtpProfile(name: string): SrtpProfile | undefined {
  return isSrtpProfileName(name) ? SRTP_PROFILES[name] : undefined;
}

/** The profile an SDP a=crypto suite token names (case-sensitive, RFC 4568 §9.1), or undefined. */
export function profileFromSdesName(suite: string): SrtpProfile | undefined {
  return PROFILE_LIST.find((p) => p.sdesName === suite);
}

/** The profile a DTLS-SRTP use_srtp protection profile id names (RFC 5764 §4.1.2), or undefined. */
export function profileFromDtlsId(id: number): SrtpProfile | undefined {
  return PROFILE_LIST.find((p) => p.dtlsProfileId === id);
}

/**
 * The other SRTCP tag length met in the field for `profile`, or undefined when there is none:
 * 4 for the *_HMAC_SHA1_32 suites (libre's 32-bit SRTCP tag), nothing for the others.
 */
export function alternateSrtcpTagLength(profile: SrtpProfile): 4 | undefined {
  return profile.transform === 'aes-cm' && profile.srtpTagLength === 4 ? 4 : undefined;
}
