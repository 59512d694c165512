/**
 * An SRTP/SRTCP cryptographic context for one direction of one master key (RFC 3711 §3.2):
 * a sender uses protectRtp/protectRtcp, a receiver unprotectRtp/unprotectRtcp. Both halves keep
 * separate per-SSRC state, so one object may also serve a loopback test.
 *
 * Receive path, in this order (RFC 3711 §3.3, §3.4; RFC 7714 §8.2, §9):
 *   1. parse the header, bounds-checked              → SrtpFormatError, before any crypto
 *   2. estimate the index (ROC, Appendix A)          → nothing committed yet
 *   3. CHECK the replay window                        → SrtpReplayError, before any crypto
 *   4. authenticate (and decrypt)                     → SrtpAuthError
 *   5. only now: create the stream, UPDATE window, ROC and s_l
 * A forged packet thus changes no state, whatever index it claims.
 *
 * Send path: the sender refuses to reuse an index with this key (it would repeat an AES-CM
 * keystream or a GCM nonce), tracked with the same window structure.
 */
import { SrtpAuthError, SrtpConfigError, SrtpKeyUsageError, SrtpReplayError } from './errors';
import { deriveSessionKeys, wipeSessionKeys } from './kdf';
import { parseRtcpHeader, parseRtpHeader, readUint32 } from './packet';
import { getSrtpProfile, type SrtpProfile, type SrtpProfileName } from './profiles';
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
  /** *_HMAC_SHA1_32 profiles only: SRTCP tag of 10 octets (default, RFC 5764 §4.1.2) or 4 (libre/baresip). */
  srtcpTagLength?: 4 | 10;
}

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
    if (srtcpTagLength !== p.srtcpTagLength && !(p.transform === 'aes-cm' && p.srtpTagLength === 4 && srtcpTagLength === 4)) {
      throw new SrtpConfigError(`srtcpTagLength ${srtcpTagLength} is not valid for ${p.name}`);
    }
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
      this.transform = createTransform(p, keys, srtcpTagLength);
    } finally {
      wipeSessionKeys(keys); // the ciphers hold their own copies
    }
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
    const window = this.rtpOut.getOrCreate(ssrc, () => new ReplayWindow(this.replayWindow));
    const out = this.transform.protectRtp(packet, headerLength, ssrc, index);
    window.accept(index);
    return out;
  }

  /** SRTP → RTP (RFC 3711 §3.3; RFC 7714 §8.2). Throws SrtpFormatError, SrtpReplayError or SrtpAuthError. */
  unprotectRtp(packet: Uint8Array): Buffer {
    this.assertOpen();
    const { headerLength, ssrc, sequenceNumber } = parseRtpHeader(packet, this.transform.srtpTagLength);
    const window = this.rtpIn.get(ssrc);
    const index = estimatePacketIndex(window ? window.highest : -1, sequenceNumber);
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
    this.rtpIn.getOrCreate(ssrc, () => new ReplayWindow(this.replayWindow)).accept(index);
    return plain;
  }

  /** RTCP → SRTCP (RFC 3711 §3.4; RFC 7714 §9.1). Returns a new buffer. */
  protectRtcp(packet: Uint8Array): Buffer {
    this.assertOpen();
    const ssrc = parseRtcpHeader(packet, 0);
    const sender = this.rtcpOut.getOrCreate(ssrc, () => ({ next: 0 }));
    const index = sender.next;
    if (index > MAX_SRTCP_INDEX) throw new SrtpKeyUsageError('index-exhausted', ssrc, index);
    const out = this.transform.protectRtcp(packet, ssrc, index, this.encryptRtcp);
    sender.next = index + 1;
    return out;
  }

  /** SRTCP → RTCP (RFC 3711 §3.4; RFC 7714 §9.2). Honours the packet's E flag. */
  unprotectRtcp(packet: Uint8Array): Buffer {
    this.assertOpen();
    const tagLength = this.transform.srtcpTagLength;
    const ssrc = parseRtcpHeader(packet, 4 + tagLength);
    const word = readUint32(packet, this.transform.srtcpIndexLast ? packet.length - 4 : packet.length - tagLength - 4);
    const encrypted = word >>> 31 === 1;
    const index = word & MAX_SRTCP_INDEX;
    const window = this.rtcpIn.get(ssrc);
    if (window) {
      const verdict = window.check(index);
      if (verdict !== 'fresh') throw new SrtpReplayError(verdict, ssrc, index, 'rtcp');
    } else {
      this.rtcpIn.assertRoomFor(ssrc);
    }
    const plain = this.transform.unprotectRtcp(packet, ssrc, index, encrypted);
    if (!plain) throw new SrtpAuthError('tag-mismatch', ssrc, index, 'rtcp');
    this.rtcpIn.getOrCreate(ssrc, () => new ReplayWindow(this.replayWindow)).accept(index);
    return plain;
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
