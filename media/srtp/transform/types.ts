/**
 * The per-packet cryptographic transform of one profile, keyed with one direction's session keys.
 * It knows nothing of streams, ROC estimation or replay: the context decides the index, the
 * transform only encrypts and authenticates with it. Inputs are never modified.
 */
export interface SrtpTransform {
  /** Octets appended to an SRTP packet. */
  readonly srtpTagLength: number;
  /** Octets appended to an SRTCP packet after the E||index word (AES-CM) or before it (GCM). */
  readonly srtcpTagLength: number;
  /** Whether the SRTCP E||index word is the last word of the packet (RFC 7714 §9.1) instead of preceding the tag (RFC 3711 §3.4). */
  readonly srtcpIndexLast: boolean;

  /** header || E(payload) || tag, for the 48-bit packet `index` (RFC 3711 §3.3, RFC 7714 §8). */
  protectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer;
  /** The plaintext packet, or null if the packet does not authenticate. */
  unprotectRtp(packet: Uint8Array, headerLength: number, ssrc: number, index: number): Buffer | null;
  /** The SRTCP packet for SRTCP `index`, encrypted when `encrypt` (the E flag, RFC 3711 §3.4). */
  protectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypt: boolean): Buffer;
  /** The plaintext RTCP packet, or null if it does not authenticate; `index`/`encrypted` come from its E||index word. */
  unprotectRtcp(packet: Uint8Array, ssrc: number, index: number, encrypted: boolean): Buffer | null;
  /** Overwrites the key material held in JS memory. */
  wipe(): void;
}
