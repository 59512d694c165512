/**
 * An SRTP/SRTCP cryptographic context for one direction of one master key (RFC 3711 §3.2):
 * a sender uses protectRtp/protectRtcp, a receiver unprotectRtp/unprotectRtcp. Both halves keep
 * separate per-SSRC state, so one object may also serve a loopback test.
 *
 * Receive path, in this order (RFC 3711 §3.3, §3.4; RFC 7714 §8.2, §9):
 *   1. parse the header, bounds-checked              → SrtpFormatError, before any crypto
 *   2. estimate the index (ROC, Appendix A)          → nothing committed yet
 *      and compare the MKI, if any (§3.3 step 1)      → SrtpAuthError 'unknown-mki', before any crypto
 *   3. CHECK the replay window                        → SrtpReplayError, before any crypto
 *   4. authenticate (and decrypt)                     → SrtpAuthError
 *   5. only now: create the stream, UPDATE window, ROC and s_l
 * A forged packet thus changes no state, whatever index it claims.
 *
 * Send path: the sender refuses to reuse an index with this key (it would repeat an AES-CM
 * keystream or a GCM nonce), tracked with the same window structure.
 *
 * MKI (RFC 3711 §3.1, §3.4): with `mki`, every packet carries it and a received packet whose MKI
 * differs is refused before any crypto (SrtpAuthError 'unknown-mki'). One master key per context:
 * several keys told apart by MKI would be several contexts, which no caller needs yet.
 *
 * SRTCP tag of the *_32 suites: the RFC's 80 bits unless configured otherwise; a receiver with
 * `learnSrtcpTagLength` also tries libre's 32 bits on a packet that fails, until one length
 * authenticates, then keeps it (each attempt checks replay before and updates it only after a
 * success, as above). From then on a forgery costs one HMAC again.
 */
import { SrtpAuthError, SrtpConfigError, SrtpFormatError, SrtpKeyUsageError, SrtpReplayError } from './errors';
import { deriveSessionKeys, wipeSessionKeys } from './kdf';
import { parseRtcpHeader, parseRtpHeader, readUint32 } from './packet';
import { alternateSrtcpTagLength, getSrtpProfile, type SrtpProfile, type SrtpProfileName } from './profiles';
import { MIN_REPLAY_WINDOW, ReplayWindow } from './replay';
import { estimatePacketIndex, MAX_SRTCP_INDEX, MAX_SRTP_INDEX } from './roc';
import { DEFAULT_MAX_STREAMS, StreamTable } from './streams';
import { createTransform, type SrtpTransform } from './transform';

export interface SrtpContextOptions {
  profile: SrtpProfileName | SrtpProfile;
  masterKey: Uint8Array;
  masterSalt: Uint8Array;
  /** Replay window in packets (RFC 3711 §3.3.2), at least 64; default 64. Rounded up to a multiple of 32. */
  replayWindow?: number;
  /** Most SSRCs tracked per kind and direction (RTP in, RTP out, RTCP in, RTCP out); default 64. */
  maxStreams?: number;
  /** Set the SRTCP E flag and encrypt RTCP (default true); false = SDES UNENCRYPTED_SRTCP (RFC 4568 §6.3.2). */
  encryptRtcp?: boolean;
  /**
   * *_HMAC_SHA1_32 profiles only: the SRTCP tag length, 10 octets (the default: RFC 3711 §3.4,
   * §5.2; RFC 4568 §6.2) or 4 (libre/baresip).
   */
  srtcpTagLength?: 4 | 10;
  /**
   * Receive side of a *_HMAC_SHA1_32 profile (no effect on the others, which have one SRTCP tag
   * length): an SRTCP packet that fails with `srtcpTagLength` is tried with the other length until
   * one authenticates; that length is then kept (`srtcpTagLength` getter) and the other no longer tried.
   */
  learnSrtcpTagLength?: boolean;
  /**
   * Master Key Identifier (RFC 3711 §3.1; RFC 4568 §6.1), 1 to 128 octets: written into every packet
   * protected and required in every packet unprotected. Default: none.
   */
  mki?: Uint8Array;
}

/** RFC 4568 §6.1: an MKI is 1 to 128 octets. */
const MAX_MKI_LENGTH = 128;

/** Sender-side SRTCP state of one SSRC. */
interface RtcpSender {
  next: number;
}

export class SrtpContext {
  readonly profile: SrtpProfile;
  readonly replayWindow: number;
  readonly encryptRtcp: boolean;
  private readonly transform: SrtpTransform;
  private readonly rtpIn: StreamTable<ReplayWindow>;
  private readonly rtpOut: StreamTable<ReplayWindow>;
  private readonly rtcpIn: StreamTable<ReplayWindow>;
  private readonly rtcpOut: StreamTable<RtcpSender>;
  /** The MKI of every packet (empty: none); the transform's own copy. */
  private readonly mki: Uint8Array;
  /** AEAD trailer layout (RFC 7714): the MKI ends the packet instead of preceding the tag. */
  private readonly aead: boolean;
  /** SRTCP tag length written, and tried first on receive. */
  private srtcpTag: number;
  /** The other SRTCP tag length, while learning it (0: settled, or nothing to learn). */
  private srtcpTagToTry: number;
  private closed = false;

  constructor(options: SrtpContextOptions) {
    const { profile, masterKey, masterSalt } = options;
    const p = typeof profile === 'string' ? getSrtpProfile(profile) : profile;
    if (!p || getSrtpProfile(p.name) !== p) {
      throw new SrtpConfigError(`unknown SRTP profile ${JSON.stringify(typeof profile === 'string' ? profile : String(p?.name))}`);
    }
    if (!(masterKey instanceof Uint8Array) || !(masterSalt instanceof Uint8Array)) {
      throw new SrtpConfigError('masterKey and masterSalt must be Buffers');
    }
    const srtcpTagLength = options.srtcpTagLength ?? p.srtcpTagLength;
    const alternate = alternateSrtcpTagLength(p);
    if (srtcpTagLength !== p.srtcpTagLength && srtcpTagLength !== alternate) {
      throw new SrtpConfigError(`srtcpTagLength ${srtcpTagLength} is not valid for ${p.name}`);
    }
    if (options.mki !== undefined && (!(options.mki instanceof Uint8Array) || options.mki.length < 1 || options.mki.length > MAX_MKI_LENGTH)) {
      throw new SrtpConfigError(`mki must be 1 to ${MAX_MKI_LENGTH} octets`);
    }
    this.srtcpTag = srtcpTagLength;
    this.srtcpTagToTry =
      options.learnSrtcpTagLength && alternate !== undefined ? (srtcpTagLength === alternate ? p.srtcpTagLength : alternate) : 0;
    this.profile = p;
    this.replayWindow = new ReplayWindow(options.replayWindow ?? MIN_REPLAY_WINDOW).size; // validates
    this.encryptRtcp = options.encryptRtcp ?? true;
    const maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.rtpIn = new StreamTable(maxStreams);
    this.rtpOut = new StreamTable(maxStreams);
    this.rtcpIn = new StreamTable(maxStreams);
    this.rtcpOut = new StreamTable(maxStreams);
    const keys = deriveSessionKeys(p, masterKey, masterSalt);
    try {
      this.transform = createTransform(p, keys, srtcpTagLength, options.mki && Buffer.from(options.mki));
    } finally {
      wipeSessionKeys(keys); // the ciphers hold their own copies
    }
    this.mki = this.transform.mki;
    this.aead = this.transform.aead;
  }

  /** The SRTCP tag length in use: what protectRtcp writes and, while learning, what unprotectRtcp tries first. */
  get srtcpTagLength(): number {
    return this.srtcpTag;
  }

  /** Whether unprotectRtcp still tries the other SRTCP tag length (`learnSrtcpTagLength`, nothing authenticated yet). */
  get learningSrtcpTagLength(): boolean {
    return this.srtcpTagToTry !== 0;
  }

  /**
   * Use `length` for SRTCP from now on and stop learning: how a sender follows the tag length its
   * peer was seen to use. Valid lengths: the profile's, and 4 for the *_HMAC_SHA1_32 suites.
   */
  setSrtcpTagLength(length: number): void {
    this.assertOpen();
    if (length !== this.profile.srtcpTagLength && length !== alternateSrtcpTagLength(this.profile)) {
      throw new SrtpConfigError(`srtcpTagLength ${length} is not valid for ${this.profile.name}`);
    }
    this.srtcpTag = length;
    this.srtcpTagToTry = 0;
  }

  /** RTP → SRTP (RFC 3711 §3.3; RFC 7714 §8.1). Returns a new buffer; `packet` is not modified. */
  protectRtp(packet: Uint8Array): Buffer {
    this.assertOpen();
    const { headerLength, ssrc, sequenceNumber } = parseRtpHeader(packet, 0);
    const sent = this.rtpOut.get(ssrc);
    const index = estimatePacketIndex(sent ? sent.highest : -1, sequenceNumber);
    if (index > MAX_SRTP_INDEX) throw new SrtpKeyUsageError('index-exhausted', ssrc, index);
    if (index < 0) throw new SrtpKeyUsageError('index-too-old', ssrc, index);
    if (sent) {
      const verdict = sent.check(index);
      if (verdict !== 'fresh') throw new SrtpKeyUsageError(verdict === 'replayed' ? 'index-reused' : 'index-too-old', ssrc, index);
    }
    const window = sent ?? this.rtpOut.getOrCreate(ssrc, () => new ReplayWindow(this.replayWindow));
    const out = this.transform.protectRtp(packet, headerLength, ssrc, index);
    window.accept(index);
    return out;
  }

  /** SRTP → RTP (RFC 3711 §3.3; RFC 7714 §8.2). Throws SrtpFormatError, SrtpReplayError or SrtpAuthError. */
  unprotectRtp(packet: Uint8Array): Buffer {
    this.assertOpen();
    const tagLength = this.transform.srtpTagLength;
    const m = this.mki.length;
    const { headerLength, ssrc, sequenceNumber } = parseRtpHeader(packet, tagLength + m);
    const window = this.rtpIn.get(ssrc);
    const index = estimatePacketIndex(window ? window.highest : -1, sequenceNumber);
    if (m > 0 && !this.carriesMki(packet, this.aead ? packet.length - m : packet.length - tagLength - m)) {
      throw new SrtpAuthError('unknown-mki', ssrc, index, 'rtp');
    }
    if (index < 0) throw new SrtpReplayError('too-old', ssrc, index, 'rtp');
    if (index > MAX_SRTP_INDEX) throw new SrtpKeyUsageError('index-exhausted', ssrc, index);
    if (window) {
      const verdict = window.check(index);
      if (verdict !== 'fresh') throw new SrtpReplayError(verdict, ssrc, index, 'rtp');
    } else {
      this.rtpIn.assertRoomFor(ssrc); // cheap refusal before crypto
    }
    const plain = this.transform.unprotectRtp(packet, headerLength, ssrc, index);
    if (!plain) throw new SrtpAuthError('tag-mismatch', ssrc, index, 'rtp');
    (window ?? this.rtpIn.getOrCreate(ssrc, () => new ReplayWindow(this.replayWindow))).accept(index);
    return plain;
  }

  /** RTCP → SRTCP (RFC 3711 §3.4; RFC 7714 §9.1). Returns a new buffer. */
  protectRtcp(packet: Uint8Array): Buffer {
    this.assertOpen();
    const ssrc = parseRtcpHeader(packet, 0);
    const sender = this.rtcpOut.get(ssrc) ?? this.rtcpOut.getOrCreate(ssrc, () => ({ next: 0 }));
    const index = sender.next;
    if (index > MAX_SRTCP_INDEX) throw new SrtpKeyUsageError('index-exhausted', ssrc, index);
    const out = this.transform.protectRtcp(packet, ssrc, index, this.encryptRtcp, this.srtcpTag);
    sender.next = index + 1;
    return out;
  }

  /** SRTCP → RTCP (RFC 3711 §3.4; RFC 7714 §9.2). Honours the packet's E flag. */
  unprotectRtcp(packet: Uint8Array): Buffer {
    this.assertOpen();
    const other = this.srtcpTagToTry;
    return other === 0 ? this.unprotectRtcpWith(packet, this.srtcpTag) : this.unprotectRtcpLearning(packet, other);
  }

  /**
   * `learnSrtcpTagLength`: the current length first, then `other`; the first to authenticate is
   * kept. When both fail, the error of the current length is thrown (the other's if the packet was
   * too short for the current one).
   */
  private unprotectRtcpLearning(packet: Uint8Array, other: number): Buffer {
    let plain: Buffer;
    try {
      plain = this.unprotectRtcpWith(packet, this.srtcpTag);
    } catch (first) {
      if (!(first instanceof SrtpAuthError || first instanceof SrtpFormatError)) throw first;
      try {
        plain = this.unprotectRtcpWith(packet, other);
      } catch (second) {
        throw first instanceof SrtpFormatError ? second : first;
      }
      this.srtcpTag = other;
    }
    this.srtcpTagToTry = 0;
    return plain;
  }

  /** One SRTCP receive attempt with a `tagLength`-octet tag: the path of the header comment. */
  private unprotectRtcpWith(packet: Uint8Array, tagLength: number): Buffer {
    const m = this.mki.length;
    const ssrc = parseRtcpHeader(packet, 4 + tagLength + m);
    const wordAt = this.aead ? packet.length - m - 4 : packet.length - tagLength - m - 4;
    const word = readUint32(packet, wordAt);
    const encrypted = word >>> 31 === 1;
    const index = word & MAX_SRTCP_INDEX;
    if (m > 0 && !this.carriesMki(packet, wordAt + 4)) throw new SrtpAuthError('unknown-mki', ssrc, index, 'rtcp');
    const window = this.rtcpIn.get(ssrc);
    if (window) {
      const verdict = window.check(index);
      if (verdict !== 'fresh') throw new SrtpReplayError(verdict, ssrc, index, 'rtcp');
    } else {
      this.rtcpIn.assertRoomFor(ssrc);
    }
    const plain = this.transform.unprotectRtcp(packet, ssrc, index, encrypted, tagLength);
    if (!plain) throw new SrtpAuthError('tag-mismatch', ssrc, index, 'rtcp');
    (window ?? this.rtcpIn.getOrCreate(ssrc, () => new ReplayWindow(this.replayWindow))).accept(index);
    return plain;
  }

  /** Whether `packet` holds our MKI at `offset` (RFC 3711 §3.3 step 1: it names the master key). */
  private carriesMki(packet: Uint8Array, offset: number): boolean {
    const mki = this.mki;
    for (let i = 0; i < mki.length; i++) if (packet[offset + i] !== mki[i]) return false;
    return true;
  }

  /**
   * What the relay's fast path (media/relay/fast.ts) needs of one RTP stream of this context: the
   * native session, the tag length and the stream's replay window (live: the fast path restores it
   * when it hands the stream back). Undefined on the TypeScript transforms, for an SSRC not seen
   * yet, or a window larger than `maxWindow` packets.
   */
  fastRtp(direction: 'receive' | 'send', ssrc: number, maxWindow: number): { session: object; tagLength: number; window: ReplayWindow } | undefined {
    const session = this.transform.nativeRtpSession;
    if (this.closed || session === undefined) return undefined; // the TypeScript transforms: no lookup
    const window = (direction === 'receive' ? this.rtpIn : this.rtpOut).get(ssrc);
    if (window === undefined || window.size > maxWindow) return undefined;
    return { session, tagLength: this.transform.srtpTagLength, window };
  }

  /** SSRCs currently tracked, per kind and direction. */
  get streamCounts(): { rtpIn: number; rtpOut: number; rtcpIn: number; rtcpOut: number } {
    return { rtpIn: this.rtpIn.size, rtpOut: this.rtpOut.size, rtcpIn: this.rtcpIn.size, rtcpOut: this.rtcpOut.size };
  }

  /** Overwrites the session keys held in JS memory and drops all stream state; later calls throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.transform.wipe();
    this.rtpIn.clear();
    this.rtpOut.clear();
    this.rtcpIn.clear();
    this.rtcpOut.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new SrtpConfigError('SRTP context is closed');
  }
}
