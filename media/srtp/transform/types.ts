/**
 * The per-packet cryptographic transform of one profile, keyed with one direction's session keys.
 * It knows nothing of streams, ROC estimation or replay: the context decides the index, the
 * transform only encrypts and authenticates with it. Inputs are never modified.
 *
 * Trailer layout, with the optional MKI (RFC 3711 §3.1, §3.4; RFC 7714 §8, §9) of `mki.length`
 * octets, which is never authenticated:
 *   AES-CM SRTP:   header || E(payload) || MKI || tag
 *   AES-CM SRTCP:  header || E(rest) || E|index || MKI || tag
 *   AEAD SRTP:     header || E(payload) || tag || MKI
 *   AEAD SRTCP:    header || E(rest) || tag || E|index || MKI
 * On receive the caller has already checked the MKI octets; the transform only steps over them.
 */
export interface SrtpTransform {
  /** Octets appended to an SRTP packet (MKI not included). */
  readonly srtpTagLength: number;
  /** Default octets of the SRTCP tag, after the E||index word (AES-CM) or before it (AEAD). */
  readonly srtcpTagLength: number;
  /** AEAD (RFC 7714): the tag ends the ciphertext; the SRTCP E||index word and the MKI follow it. */
  readonly aead: boolean;
  /** The MKI written into every packet (empty: no MKI). */
  readonly mki: Uint8Array;

  /** header || E(payload) || tag, for the 48-bit packet `index` (RFC 3711 §3.3, RFC 7714 §8). */
  protectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer;
  /** The plaintext packet, or null if the packet does not authenticate. */
  unprotectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer | null;
  /**
   * The SRTCP packet for SRTCP `index`, encrypted when `encrypt` (the E flag, RFC 3711 §3.4).
   * `tagLength`: HMAC transforms only, the SRTCP tag length (default `srtcpTagLength`).
   */
  protectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypt: boolean, tagLength?: number): Buffer;
  /** The plaintext RTCP packet, or null if it does not authenticate; `index`/`encrypted` come from its E||index word. */
  unprotectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypted: boolean, tagLength?: number): Buffer | null;
  /**
   * The native session object of the SRTP direction (AesCmSession or GcmSession of the native
   * addon), for the relay's fast path; undefined on the TypeScript transforms.
   */
  readonly nativeRtpSession?: object;
  /** Overwrites the key material held in JS memory. */
  wipe(): void;
}
