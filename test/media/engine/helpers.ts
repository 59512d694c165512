/**
 * Test endpoints for the media engine: a UDP RTP/RTCP socket pair on 127.0.0.1 with an SDP of its
 * own (plain, SDES-SRTP with a real SrtpContext, or DTLS-looking for pass-through), packet builders
 * and bounded waits. Everything closes in `close()`.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { EmbeddedMediaEngine, type EmbeddedMediaEngineOptions } from '../../../media/engine';
import type { MediaSettings } from '../../../media/engine/settings';
import {
  cryptoAttributeValues,
  parseCryptoAttribute,
  parseSdp,
  connectionAddress,
  mediaPort,
  rtcpAddress,
  rtcpMux,
} from '../../../media/sdp';
import { SrtpContext, type SrtpProfileName } from '../../../media/srtp';
import { createCodec, type AudioCodec, type CodecOptions } from '../../../media/codecs';

let portBase = 30000 + Math.floor(Math.random() * 100) * 200;

/** A media section of the engine's own range for each engine under test (no overlap between engines). */
export function engineSettings(overrides: Partial<MediaSettings> = {}): MediaSettings {
  const portMin = portBase;
  portBase += 200;
  if (portBase > 60000) portBase = 30000;
  return {
    portMin,
    portMax: portMin + 199,
    address: '127.0.0.1',
    advertisedAddress: null,
    inactivitySec: 60,
    workers: 1,
    inThread: true,
    allowDirectMedia: false,
    maxPacketsPerSec: 2000,
    ...overrides,
  };
}

export function startEngine(overrides: Partial<MediaSettings> = {}, options: Partial<EmbeddedMediaEngineOptions> = {}): EmbeddedMediaEngine {
  return new EmbeddedMediaEngine({ media: engineSettings(overrides), sweepIntervalMs: 0, ...options });
}

export interface RtpFields {
  seq: number;
  ts?: number;
  ssrc?: number;
  pt?: number;
  marker?: boolean;
  payload?: Buffer;
}

export function rtpPacket(f: RtpFields): Buffer {
  const payload = f.payload ?? Buffer.alloc(160, 0xd5);
  const p = Buffer.alloc(12 + payload.length);
  p[0] = 0x80;
  p[1] = (f.marker ? 0x80 : 0) | (f.pt ?? 0);
  p.writeUInt16BE(f.seq & 0xffff, 2);
  p.writeUInt32BE((f.ts ?? f.seq * 160) >>> 0, 4);
  p.writeUInt32BE((f.ssrc ?? 0x0a0b0c0d) >>> 0, 8);
  payload.copy(p, 12);
  return p;
}

/** RTCP SR (no report block) + SDES CNAME: a minimal valid compound packet (RFC 3550 §6.1). */
export function rtcpCompound(ssrc: number, rtpTs = 0): Buffer {
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  sr.writeUInt16BE(6, 2);
  sr.writeUInt32BE(ssrc >>> 0, 4);
  sr.writeUInt32BE(rtpTs >>> 0, 16);
  const sdes = Buffer.alloc(16);
  sdes[0] = 0x81;
  sdes[1] = 202;
  sdes.writeUInt16BE(3, 2);
  sdes.writeUInt32BE(ssrc >>> 0, 4);
  sdes[8] = 1; // CNAME
  sdes[9] = 4;
  sdes.write('test', 10);
  return Buffer.concat([sr, sdes]);
}

export type PeerKind = 'rtp' | 'srtp' | 'dtls';

export interface PeerOptions {
  kind: PeerKind;
  /** Offer a=rtcp-mux (and use the RTP socket for RTCP when it is accepted). */
  mux?: boolean;
  /** m= payload list and its a= lines; default PCMU + telephone-event/8000 as 101. */
  payloads?: string;
  rtpmaps?: string[];
  suite?: SrtpProfileName;
}

/** An endpoint: RTP and RTCP sockets, its SDP, and (SRTP) its contexts. */
export class Peer {
  readonly rtp: Buffer[] = [];
  readonly rtcp: Buffer[] = [];
  /** Datagrams as they arrived, with the socket they arrived on. */
  readonly log: { on: 'rtp' | 'rtcp'; data: Buffer; from: number }[] = [];
  tx: SrtpContext | undefined;
  rx: SrtpContext | undefined;
  /** Engine address for RTP/RTCP as its SDP to us says. */
  engineRtp = 0;
  engineRtcp = 0;
  engineMux = false;
  /** Packets our contexts refused (they never should be). */
  refused = 0;
  /** The a=crypto tag we answer with (the engine's offered line of our suite). */
  private cryptoTag = 1;
  private readonly masterKey: Buffer;
  private readonly masterSalt: Buffer;

  private constructor(
    readonly options: PeerOptions,
    readonly rtpSocket: dgram.Socket,
    readonly rtcpSocket: dgram.Socket,
  ) {
    const suite = options.suite ?? 'AES_CM_128_HMAC_SHA1_80';
    const gcm = suite.startsWith('AEAD');
    this.masterKey = randomBytes(suite.includes('256') ? 32 : 16);
    this.masterSalt = randomBytes(gcm ? 12 : 14);
    if (options.kind === 'srtp') this.tx = new SrtpContext({ profile: suite, masterKey: this.masterKey, masterSalt: this.masterSalt });
    rtpSocket.on('message', (m, r) => this.onMessage('rtp', m, r.port));
    rtcpSocket.on('message', (m, r) => this.onMessage('rtcp', m, r.port));
  }

  static async open(options: PeerOptions): Promise<Peer> {
    const a = dgram.createSocket('udp4');
    const b = dgram.createSocket('udp4');
    await new Promise<void>((r) => a.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => b.bind(0, '127.0.0.1', r));
    return new Peer(options, a, b);
  }

  get rtpPort(): number {
    return this.rtpSocket.address().port;
  }

  get rtcpPort(): number {
    return this.rtcpSocket.address().port;
  }

  sdp(): string {
    const o = this.options;
    const suite = o.suite ?? 'AES_CM_128_HMAC_SHA1_80';
    const proto = o.kind === 'srtp' ? 'RTP/SAVP' : o.kind === 'dtls' ? 'UDP/TLS/RTP/SAVPF' : 'RTP/AVP';
    const lines = [
      'v=0',
      `o=- ${Date.now()} 1 IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      ...(o.kind === 'dtls' ? ['a=setup:actpass', 'a=fingerprint:SHA-256 5A:AA:D1:EF:89:4F:EE:46:8D:6A:DD:E7:2E:52:B7:CB:E2:69:4C:CE:8E:B5:3B:53:D8:A6:50:CD:E3:6E:AF:60'] : []),
      `m=audio ${this.rtpPort} ${proto} ${o.payloads ?? '0 101'}`,
      `a=rtcp:${this.rtcpPort}`,
      ...(o.rtpmaps ?? ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15']),
      'a=sendrecv',
      ...(o.mux ? ['a=rtcp-mux'] : []),
      ...(o.kind === 'srtp' ? [`a=crypto:${this.cryptoTag} ${suite} inline:${Buffer.concat([this.masterKey, this.masterSalt]).toString('base64')}`] : []),
      'a=ptime:20',
    ];
    return lines.join('\r\n') + '\r\n';
  }

  /** Reads the engine's SDP to us: its ports, mux, and (SRTP) its key for us. */
  learn(engineSdp: string): void {
    const s = parseSdp(engineSdp);
    if (connectionAddress(s, 0)?.address !== '127.0.0.1') throw new Error('engine SDP does not point at 127.0.0.1');
    this.engineRtp = mediaPort(s, 0);
    this.engineRtcp = rtcpAddress(s, 0)?.port ?? this.engineRtp + 1;
    this.engineMux = rtcpMux(s, 0) && this.options.mux === true;
    if (this.options.kind === 'srtp') {
      const suite = this.options.suite ?? 'AES_CM_128_HMAC_SHA1_80';
      const line = cryptoAttributeValues(s, 0)
        .map((v) => parseCryptoAttribute(v))
        .find((c) => c.suite === suite);
      if (!line) throw new Error(`engine SDP has no a=crypto of ${suite}`);
      this.cryptoTag = line.tag;
      const key = line.keys[0]!;
      this.rx?.close();
      this.rx = new SrtpContext({ profile: line.suite, masterKey: key.masterKey, masterSalt: key.masterSalt });
    }
  }

  sendRtp(packet: Buffer): void {
    const out = this.tx ? this.tx.protectRtp(packet) : packet;
    this.rtpSocket.send(out, this.engineRtp, '127.0.0.1');
  }

  sendRtcp(packet: Buffer): void {
    const out = this.tx ? this.tx.protectRtcp(packet) : packet;
    if (this.engineMux) this.rtpSocket.send(out, this.engineRtp, '127.0.0.1');
    else this.rtcpSocket.send(out, this.engineRtcp, '127.0.0.1');
  }

  /** Sends raw bytes from the RTP socket (forged, malformed, opaque). */
  sendRaw(data: Buffer, port = this.engineRtp): void {
    this.rtpSocket.send(data, port, '127.0.0.1');
  }

  async waitRtp(count: number, timeoutMs = 2000): Promise<Buffer[]> {
    await waitFor(() => this.rtp.length >= count, timeoutMs, () => `${count} RTP packets (got ${this.rtp.length})`);
    return this.rtp;
  }

  async waitRtcp(count: number, timeoutMs = 2000): Promise<Buffer[]> {
    await waitFor(() => this.rtcp.length >= count, timeoutMs, () => `${count} RTCP packets (got ${this.rtcp.length})`);
    return this.rtcp;
  }

  close(): void {
    this.tx?.close();
    this.rx?.close();
    this.rtpSocket.close();
    this.rtcpSocket.close();
  }

  private onMessage(on: 'rtp' | 'rtcp', m: Buffer, from: number): void {
    this.log.push({ on, data: m, from });
    const b1 = m[1] ?? 0;
    const isRtcp = on === 'rtcp' || (b1 >= 192 && b1 <= 223);
    if (this.options.kind === 'dtls') {
      (isRtcp ? this.rtcp : this.rtp).push(m);
      return;
    }
    try {
      if (isRtcp) this.rtcp.push(this.rx ? this.rx.unprotectRtcp(m) : m);
      else this.rtp.push(this.rx ? this.rx.unprotectRtp(m) : m);
    } catch {
      this.refused++;
    }
  }
}

/** Polls `cond` every 5 ms until true, or rejects after `timeoutMs`. */
/** `what` names the awaited state in the timeout error; a function is asked at the timeout (counts then, not at the start). */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Offer from `a` and answer from `b` through `engine`; both peers learn the engine's side. */
export async function bridge(
  engine: EmbeddedMediaEngine,
  callId: string,
  a: Peer,
  b: Peer,
  transport: 'RTP/AVP' | 'RTP/SAVP' | 'pass-through',
): Promise<{ offer: string; answer: string }> {
  const offer = await engine.offer(callId, 'tag-a', a.sdp(), { transport });
  b.learn(offer);
  const answer = await engine.answer(callId, 'tag-a', 'tag-b', b.sdp());
  a.learn(answer);
  return { offer, answer };
}

/**
 * The peers a test opens, closed after each test together with the engine `engine()` returns
 * (mocha afterEach, registered where this is called). Returns the function that opens a peer.
 */
export function peerFixture(engine: () => EmbeddedMediaEngine | undefined): (options: PeerOptions) => Promise<Peer> {
  const peers: Peer[] = [];
  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    await engine()?.close();
  });
  return async (options) => {
    const p = await Peer.open(options);
    peers.push(p);
    return p;
  };
}

/**
 * A transcoding test's engine (in-thread, fresh per test, handed to `use`), the peers it opens
 * (pushed on `peers`) and the codecs it makes (`codec`), all closed after each test (mocha hooks
 * registered where this is called).
 */
export function transcodeFixture(use: (engine: EmbeddedMediaEngine) => void): { peers: Peer[]; codec: (name: string, options?: CodecOptions) => AudioCodec } {
  let engine: EmbeddedMediaEngine | undefined;
  const peers: Peer[] = [];
  const codecs: AudioCodec[] = [];
  beforeEach(() => {
    engine = startEngine();
    use(engine);
  });
  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    for (const c of codecs.splice(0)) c.close();
    await engine?.close();
  });
  return {
    peers,
    codec: (name, options = {}) => {
      const c = createCodec(name, options);
      codecs.push(c);
      return c;
    },
  };
}
