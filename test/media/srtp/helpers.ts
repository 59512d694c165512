/** Shared helpers of the SRTP tests: the conformance vectors, hex, and RTP/RTCP packet builders. */
import fs from 'node:fs';
import path from 'node:path';
import { SrtpContext, type SrtpContextOptions, type SrtpProfileName } from '../../../media/srtp';
import { srtpBackend, type SrtpBackend } from '../../../media/srtp/transform';

/** Hex (whitespace allowed) → Buffer. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s/g, ''), 'hex');
}

/**
 * The shared conformance file: $CIPHERGATE_CONFORMANCE/srtp/vectors.json, else
 * <dir holding package.json>/../shared/conformance/srtp/vectors.json.
 */
export function vectorsPath(): string {
  const env = process.env.CIPHERGATE_CONFORMANCE;
  if (env) return path.join(env, 'srtp', 'vectors.json');
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`package.json not found above ${__dirname}`);
    dir = up;
  }
  return path.join(dir, '..', 'shared', 'conformance', 'srtp', 'vectors.json');
}

export function loadVectors(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(vectorsPath(), 'utf8')) as Record<string, unknown>;
}

export interface RtpOptions {
  seq: number;
  ssrc?: number;
  payload?: Buffer;
  csrcs?: number[];
  /** Header extension: profile-defined 16 bits and data (a multiple of 4 octets). */
  extension?: { profile: number; data: Buffer };
  /** RTP padding octets (RFC 3550 §5.1), the last one holding the count. */
  padding?: number;
  marker?: boolean;
  timestamp?: number;
}

/** A well-formed RTP packet (RFC 3550 §5.1). */
export function rtp(o: RtpOptions): Buffer {
  const csrcs = o.csrcs ?? [];
  const ext = o.extension;
  const payload = o.payload ?? Buffer.alloc(160, 0xd5);
  const padding = o.padding ?? 0;
  const header = Buffer.alloc(12 + 4 * csrcs.length + (ext ? 4 + ext.data.length : 0));
  header[0] = 0x80 | (padding ? 0x20 : 0) | (ext ? 0x10 : 0) | csrcs.length;
  header[1] = (o.marker ? 0x80 : 0) | 0;
  header.writeUInt16BE(o.seq & 0xffff, 2);
  header.writeUInt32BE((o.timestamp ?? o.seq * 160) >>> 0, 4);
  header.writeUInt32BE((o.ssrc ?? 0x11223344) >>> 0, 8);
  csrcs.forEach((c, i) => header.writeUInt32BE(c >>> 0, 12 + 4 * i));
  if (ext) {
    const at = 12 + 4 * csrcs.length;
    header.writeUInt16BE(ext.profile, at);
    header.writeUInt16BE(ext.data.length / 4, at + 2);
    ext.data.copy(header, at + 4);
  }
  const pad = Buffer.alloc(padding);
  if (padding) pad[padding - 1] = padding;
  return Buffer.concat([header, payload, pad]);
}

/** An RTCP receiver report with one report block, SSRC `ssrc` (RFC 3550 §6.4.2): 32 octets. */
export function rtcp(ssrc = 0x11223344, fill = 0x5a): Buffer {
  const p = Buffer.alloc(32, fill);
  p[0] = 0x81;
  p[1] = 201;
  p.writeUInt16BE(32 / 4 - 1, 2);
  p.writeUInt32BE(ssrc >>> 0, 4);
  return p;
}

/** Sender and receiver contexts sharing fixed (test-only) master keys. */
export function pair(profile: SrtpProfileName, extra: Partial<SrtpContextOptions> = {}): { tx: SrtpContext; rx: SrtpContext } {
  const keyLength = profile.includes('256') ? 32 : 16;
  const saltLength = profile.startsWith('AEAD') ? 12 : 14;
  const masterKey = Buffer.alloc(keyLength);
  const masterSalt = Buffer.alloc(saltLength);
  for (let i = 0; i < keyLength; i++) masterKey[i] = (i * 7 + 1) & 0xff;
  for (let i = 0; i < saltLength; i++) masterSalt[i] = (i * 13 + 5) & 0xff;
  const options = { profile, masterKey, masterSalt, ...extra };
  return { tx: new SrtpContext(options), rx: new SrtpContext(options) };
}

export const ALL_PROFILES: readonly SrtpProfileName[] = [
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
  'AES_256_CM_HMAC_SHA1_80',
  'AES_256_CM_HMAC_SHA1_32',
  'AEAD_AES_128_GCM',
  'AEAD_AES_256_GCM',
];

/** Runs `fn` and returns what it threw (failing the test if it did not throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an exception');
}

/** One profile's packet vectors in ../shared/conformance/srtp/vectors.json (hex). */
export interface PacketVector {
  master_key: string;
  master_salt: string;
  rtp_plain: string;
  srtp: string;
  rtcp_plain: string;
  srtcp: string;
}

/** Both SRTP backends: the native addon (built by `npm test`'s build step) and the TypeScript fallback. */
export const BACKENDS: readonly SrtpBackend[] = ['native', 'typescript'];

/**
 * Mocha hooks for the enclosing describe: contexts and transforms created in its hooks and tests
 * use `backend` (through CIPHERGATE_SRTP_NATIVE, restored afterwards). The native backend is never
 * skipped: if the addon is not loaded, the first hook fails the suite.
 */
export function useBackend(backend: SrtpBackend): void {
  let saved: string | undefined;
  before(() => {
    saved = process.env.CIPHERGATE_SRTP_NATIVE;
    if (backend === 'typescript') process.env.CIPHERGATE_SRTP_NATIVE = '0';
    else delete process.env.CIPHERGATE_SRTP_NATIVE;
    const actual = srtpBackend();
    if (actual !== backend) throw new Error(`SRTP backend ${backend} is not available (got ${actual}); is the addon built?`);
  });
  after(() => {
    if (saved === undefined) delete process.env.CIPHERGATE_SRTP_NATIVE;
    else process.env.CIPHERGATE_SRTP_NATIVE = saved;
  });
}

/** xorshift32: a deterministic generator, so a fuzz failure can be replayed from its seed. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
