/**
 * The native SRTP addon (media/srtp/native) against the TypeScript transforms: byte-identical
 * output for every profile, MKI, SRTCP E flag and tag length (RFC 3711 §3.1, §3.4; RFC 7714 §8, §9);
 * forgeries refused with nothing written; hostile arguments refused with a TypeError or RangeError;
 * wipe(); worker threads. `npm test` builds the addon first, so these tests fail, never skip, when
 * it is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SRTP_PROFILES, SrtpContext, deriveSessionKeys, type SrtpProfile, type SrtpSessionKeys } from '../../../media/srtp';
import { loadNative, nativeAddonPath, nativeFault, tryLoadNative, type NativeSrtp } from '../../../media/srtp/native';
import {
  AeadGcmTransform,
  AesCmHmacTransform,
  NativeAesCmTransform,
  NativeGcmTransform,
  createTransform,
  srtpBackend,
  type SrtpTransform,
} from '../../../media/srtp/transform';
import { ALL_PROFILES, prng, rtcp, rtp, thrown, useBackend } from './helpers';

/** The addon; the suite's first hook fails if it is not loaded. */
function addon(): NativeSrtp {
  const native = loadNative();
  if (!native) throw new Error(`the SRTP addon is not loaded: ${nativeFault() ?? 'unknown fault'}`);
  return native;
}

/** /proc/cpuinfo, or '' where there is none. */
function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

function keysFor(profile: SrtpProfile): SrtpSessionKeys {
  return deriveSessionKeys(profile, randomBytes(profile.keyLength), randomBytes(profile.saltLength));
}

/** The same keys in both backends. */
function transforms(profile: SrtpProfile, keys: SrtpSessionKeys, mki?: Uint8Array, srtcpTagLength = profile.srtcpTagLength): { native: SrtpTransform; ts: SrtpTransform } {
  const native = addon();
  return profile.transform === 'aes-gcm'
    ? { native: new NativeGcmTransform(native, keys, mki), ts: new AeadGcmTransform(keys, mki) }
    : {
        native: new NativeAesCmTransform(native, keys, profile.srtpTagLength, srtcpTagLength, mki),
        ts: new AesCmHmacTransform(keys, profile.srtpTagLength, srtcpTagLength, mki),
      };
}

/** RTP packets with every header shape: plain, CSRCs, extension, empty and odd-length payloads. */
function rtpSamples(): Array<{ packet: Buffer; headerLength: number; label: string }> {
  const ext = { profile: 0xbede, data: Buffer.from('10ff2233', 'hex') };
  const shapes: Array<[string, Buffer, number]> = [
    ['172 octets', rtp({ seq: 1, payload: randomBytes(160) }), 12],
    ['empty payload', rtp({ seq: 2, payload: Buffer.alloc(0) }), 12],
    ['1-octet payload', rtp({ seq: 3, payload: randomBytes(1) }), 12],
    // Around the AES-NI loop's steps: 16-octet blocks, 4 of them at a time, and a partial last block.
    ...[15, 16, 17, 63, 64, 65].map((n): [string, Buffer, number] => [`${n}-octet payload`, rtp({ seq: 7, payload: randomBytes(n) }), 12]),
    ['2 CSRCs + extension', rtp({ seq: 4, csrcs: [7, 8], extension: ext, payload: randomBytes(33) }), 12 + 8 + 8],
    ['1200-octet payload, padded', rtp({ seq: 5, payload: randomBytes(1200), padding: 4 }), 12],
    // With OpenSSL the addon makes AES-CM keystream 1,024 octets per call: the block counter runs on across calls.
    ['5000-octet payload', rtp({ seq: 6, payload: randomBytes(5000) }), 12],
  ];
  return shapes.map(([label, packet, headerLength]) => ({ label, packet, headerLength }));
}

/** Indices: first packet, after a SEQ wrap, and the last a master key may protect (RFC 3711 §9.2). */
const RTP_INDICES = [0, 0x10000 + 5, 0xffff_ffff_ffff];
const RTCP_INDICES = [0, 1, 0x1234, 0x7fff_ffff];
const MKIS: Array<[string, Uint8Array | undefined]> = [
  ['no MKI', undefined],
  ['4-octet MKI', Buffer.from('a1b2c3d4', 'hex')],
];


describe('SRTP native addon', () => {
  useBackend('native');

  describe('loading', () => {
    it('loads, on the OpenSSL node runs on', () => {
      assert.equal(nativeFault(), undefined);
      assert.match(addon().opensslVersion, new RegExp(`^OpenSSL ${process.versions.openssl.replace(/\./g, '\\.')}\\b`));
    });

    it('createTransform MUST pick the native transforms, and the TypeScript ones with CIPHERGATE_SRTP_NATIVE=0', () => {
      const cm = SRTP_PROFILES.AES_CM_128_HMAC_SHA1_80;
      const gcm = SRTP_PROFILES.AEAD_AES_128_GCM;
      assert.equal(srtpBackend(), 'native');
      assert.ok(createTransform(cm, keysFor(cm)) instanceof NativeAesCmTransform);
      assert.ok(createTransform(gcm, keysFor(gcm)) instanceof NativeGcmTransform);
      process.env.CIPHERGATE_SRTP_NATIVE = '0';
      try {
        assert.equal(loadNative(), null);
        assert.equal(srtpBackend(), 'typescript');
        assert.ok(createTransform(cm, keysFor(cm)) instanceof AesCmHmacTransform);
        assert.ok(createTransform(gcm, keysFor(gcm)) instanceof AeadGcmTransform);
      } finally {
        delete process.env.CIPHERGATE_SRTP_NATIVE;
      }
      assert.equal(srtpBackend(), 'native');
    });

    it('a missing or broken addon file MUST give null and a reason, not an exception', () => {
      const missing = tryLoadNative(path.join(path.dirname(nativeAddonPath()), 'no-such-addon.node'));
      assert.equal(missing.native, null);
      assert.match(String(missing.fault), /^not built/);
      const broken = tryLoadNative(__filename); // a JS file, not a shared object
      assert.equal(broken.native, null);
      assert.match(String(broken.fault), /^failed to load/);
    });
  });

  describe('native and TypeScript give the same octets', () => {
    for (const name of ALL_PROFILES) {
      const profile = SRTP_PROFILES[name];
      for (const [mkiLabel, mki] of MKIS) {
        describe(`${name}, ${mkiLabel}`, () => {
          it('SRTP: protect MUST match byte for byte, and each backend MUST unprotect the other', () => {
            const { native, ts } = transforms(profile, keysFor(profile), mki);
            let checked = 0;
            for (const { packet, headerLength, label } of rtpSamples()) {
              for (const index of RTP_INDICES) {
                const ssrc = packet.readUInt32BE(8);
                const a = native.protectRtp(packet, headerLength, ssrc, index);
                const b = ts.protectRtp(packet, headerLength, ssrc, index);
                assert.deepEqual(a, b, `${label}, index ${index}`);
                assert.deepEqual(native.unprotectRtp(b, headerLength, ssrc, index), packet, `${label}, index ${index}`);
                assert.deepEqual(ts.unprotectRtp(a, headerLength, ssrc, index), packet, `${label}, index ${index}`);
                checked++;
              }
            }
            assert.equal(checked, rtpSamples().length * RTP_INDICES.length);
          });

          const tagLengths = profile.transform === 'aes-cm' ? [10, 4] : [16];
          for (const tagLength of tagLengths) {
            for (const encrypt of [true, false]) {
              it(`SRTCP, E=${encrypt ? 1 : 0}, ${tagLength}-octet tag: MUST match and cross-unprotect`, () => {
                const { native, ts } = transforms(profile, keysFor(profile), mki, tagLength);
                assert.equal(native.srtcpTagLength, tagLength);
                for (const packet of [rtcp(0x11223344), rtcp(0x55667788, 0x00).subarray(0, 8), Buffer.concat([rtcp(), rtcp(9)])]) {
                  for (const index of RTCP_INDICES) {
                    const a = native.protectRtcp(packet, 0x11223344, index, encrypt);
                    assert.deepEqual(a, ts.protectRtcp(packet, 0x11223344, index, encrypt), `length ${packet.length}, index ${index}`);
                    assert.equal(a.length, packet.length + 4 + tagLength + (mki?.length ?? 0));
                    assert.deepEqual(native.unprotectRtcp(a, 0x11223344, index, encrypt), packet);
                    assert.deepEqual(ts.unprotectRtcp(a, 0x11223344, index, encrypt), packet);
                  }
                }
              });
            }
          }
        });
      }
    }

    describe('AES-CM: the AES-NI loop and the OpenSSL context', () => {
      /**
       * What a process started with CIPHERGATE_SRTP_AESNI=0 makes of `jobs` (the addon decides its cipher
       * once, when it loads): its aesCmCipher() and each packet protected, as hex.
       */
      function inOpensslProcess(jobs: Array<{ profile: string; masterKey: string; masterSalt: string; packets: Array<{ packet: string; headerLength: number; ssrc: number; index: number }> }>): { cipher: string; results: string[][] } {
        const srtp = path.join(__dirname, '../../../media/srtp');
        const code = `
          const { SRTP_PROFILES, deriveSessionKeys } = require(${JSON.stringify(srtp)});
          const { NativeAesCmTransform } = require(${JSON.stringify(path.join(srtp, 'transform'))});
          const native = require(${JSON.stringify(path.join(srtp, 'native'))}).loadNative();
          const jobs = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
          const results = jobs.map((job) => {
            const profile = SRTP_PROFILES[job.profile];
            const keys = deriveSessionKeys(profile, Buffer.from(job.masterKey, 'hex'), Buffer.from(job.masterSalt, 'hex'));
            const t = new NativeAesCmTransform(native, keys, profile.srtpTagLength, profile.srtcpTagLength);
            return job.packets.map((p) => Buffer.from(t.protectRtp(Buffer.from(p.packet, 'hex'), p.headerLength, p.ssrc, p.index)).toString('hex'));
          });
          process.stdout.write(JSON.stringify({ cipher: native.aesCmCipher(), results }));`;
        const r = spawnSync(process.execPath, ['-e', code], { input: JSON.stringify(jobs), env: { ...process.env, CIPHERGATE_SRTP_AESNI: '0' }, encoding: 'utf8', timeout: 30_000 });
        assert.equal(r.status, 0, r.stderr);
        return JSON.parse(r.stdout) as { cipher: string; results: string[][] };
      }

      it('sessions MUST use AES-NI where the CPU has it, and OpenSSL in a process started with CIPHERGATE_SRTP_AESNI=0', function () {
        const flags = /^flags\s*:(.*)$/m.exec(readCpuinfo())?.[1]?.split(/\s+/) ?? [];
        const expected = process.env.CIPHERGATE_SRTP_AESNI !== '0' && process.arch === 'x64' && flags.includes('aes') ? 'aes-ni' : 'openssl';
        assert.equal(addon().aesCmCipher(), expected);
        assert.equal(inOpensslProcess([]).cipher, 'openssl');
      });

      it('AES-128 and AES-256: both ciphers MUST give the same octets, and the TypeScript transform\'s', function () {
        this.timeout(30_000);
        const profiles = ['AES_CM_128_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_80'] as const;
        const jobs = profiles.map((name) => {
          const profile = SRTP_PROFILES[name];
          const masterKey = randomBytes(profile.keyLength);
          const masterSalt = randomBytes(profile.saltLength);
          const packets = rtpSamples().flatMap(({ packet, headerLength }) => RTP_INDICES.map((index) => ({ packet, headerLength, ssrc: packet.readUInt32BE(8), index })));
          return { name, profile, masterKey, masterSalt, packets };
        });
        const openssl = inOpensslProcess(jobs.map((j) => ({
          profile: j.name, masterKey: j.masterKey.toString('hex'), masterSalt: j.masterSalt.toString('hex'),
          packets: j.packets.map((p) => ({ ...p, packet: p.packet.toString('hex') })),
        })));
        assert.equal(openssl.cipher, 'openssl');
        jobs.forEach((j, k) => {
          const { native, ts } = transforms(j.profile, deriveSessionKeys(j.profile, j.masterKey, j.masterSalt));
          j.packets.forEach((p, i) => {
            const here = native.protectRtp(p.packet, p.headerLength, p.ssrc, p.index);
            assert.equal(Buffer.from(here).toString('hex'), openssl.results[k]![i], `${j.name}: packet ${i}, ${p.packet.length} octets`);
            assert.deepEqual(here, ts.protectRtp(p.packet, p.headerLength, p.ssrc, p.index));
          });
        });
      });
    });

    it('*_32 suites: the explicit tagLength argument (4 and 10) MUST match the TypeScript transform', () => {
      const profile = SRTP_PROFILES.AES_CM_128_HMAC_SHA1_32;
      const { native, ts } = transforms(profile, keysFor(profile));
      for (const tagLength of [4, 10]) {
        const a = native.protectRtcp(rtcp(), 0x11223344, 77, true, tagLength);
        assert.deepEqual(a, ts.protectRtcp(rtcp(), 0x11223344, 77, true, tagLength));
        assert.deepEqual(native.unprotectRtcp(a, 0x11223344, 77, true, tagLength), rtcp());
        assert.equal(native.unprotectRtcp(a, 0x11223344, 77, true, tagLength === 4 ? 10 : 4), null);
      }
    });

    it('SrtpContext on either backend MUST interoperate with the other (with MKI and learned SRTCP tag)', () => {
      const masterKey = randomBytes(16);
      const masterSalt = randomBytes(14);
      const options = { profile: 'AES_CM_128_HMAC_SHA1_32' as const, masterKey, masterSalt, mki: Buffer.from([9]) };
      const nativeTx = new SrtpContext({ ...options, srtcpTagLength: 4 });
      process.env.CIPHERGATE_SRTP_NATIVE = '0';
      let tsRx: SrtpContext;
      try {
        tsRx = new SrtpContext({ ...options, learnSrtcpTagLength: true });
      } finally {
        delete process.env.CIPHERGATE_SRTP_NATIVE;
      }
      for (let seq = 65530; seq < 65540; seq++) {
        const packet = rtp({ seq: seq & 0xffff, payload: randomBytes(40) });
        assert.deepEqual(tsRx.unprotectRtp(nativeTx.protectRtp(packet)), packet);
      }
      assert.deepEqual(tsRx.unprotectRtcp(nativeTx.protectRtcp(rtcp())), rtcp());
      assert.equal(tsRx.srtcpTagLength, 4);
    });
  });

  describe('forgeries', () => {
    for (const name of ALL_PROFILES) {
      const profile = SRTP_PROFILES[name];
      it(`${name}: a flipped bit anywhere authenticated MUST give null on both backends`, () => {
        const { native, ts } = transforms(profile, keysFor(profile), Buffer.from([1, 2]));
        const packet = rtp({ seq: 9, payload: randomBytes(50) });
        const srtp = native.protectRtp(packet, 12, 0x11223344, 9);
        const m = 2;
        // Authenticated octets: all but the MKI (AES-CM: before the tag; AEAD: at the end).
        const mkiAt = profile.transform === 'aes-gcm' ? srtp.length - m : srtp.length - m - profile.srtpTagLength;
        let refused = 0;
        for (let at = 0; at < srtp.length; at++) {
          if (at >= mkiAt && at < mkiAt + m) continue;
          const bad = Buffer.from(srtp);
          bad[at] ^= 0x01 << (at % 8);
          assert.equal(native.unprotectRtp(bad, 12, 0x11223344, 9), null, `octet ${at}`);
          assert.equal(ts.unprotectRtp(bad, 12, 0x11223344, 9), null, `octet ${at}`);
          refused++;
        }
        assert.equal(refused, srtp.length - m);
        // The wrong index (hence ROC or IV) fails too.
        assert.equal(native.unprotectRtp(srtp, 12, 0x11223344, 9 + 0x10000), null);
        const srtcp = native.protectRtcp(rtcp(), 0x11223344, 3, true);
        // Header, first encrypted octet, last tag octet, E|index word (RFC 3711 §3.4; RFC 7714 §9.1).
        const gcm = profile.transform === 'aes-gcm';
        const tagEnd = gcm ? srtcp.length - m - 4 : srtcp.length;
        const wordAt = gcm ? srtcp.length - m - 4 : srtcp.length - m - profile.srtcpTagLength - 4;
        for (const at of [0, 8, tagEnd - 1, wordAt]) {
          const bad = Buffer.from(srtcp);
          bad[at] ^= 0x80;
          assert.equal(native.unprotectRtcp(bad, 0x11223344, 3, true), null, `SRTCP octet ${at}`);
          assert.equal(ts.unprotectRtcp(bad, 0x11223344, 3, true), null, `SRTCP octet ${at}`);
        }
      });
    }

    it('a packet that does not authenticate MUST leave the output untouched (AES-CM and GCM, SRTP and SRTCP)', () => {
      const native = addon();
      const cm = new native.AesCmSession(randomBytes(16), randomBytes(20), randomBytes(14), Buffer.alloc(0));
      const gcm = new native.GcmSession(randomBytes(16), randomBytes(12), Buffer.alloc(0));
      const packet = rtp({ seq: 1, payload: randomBytes(100) });
      const cmOut = Buffer.alloc(packet.length + 10);
      cm.protectRtp(packet, cmOut, 12, 1, 1, 10);
      const gcmOut = Buffer.alloc(packet.length + 16);
      gcm.protectRtp(packet, gcmOut, 12, 1, 1);
      for (const [label, srtp, open] of [
        ['AES-CM', cmOut, (p: Buffer, o: Buffer) => cm.unprotectRtp(p, o, 12, 1, 1, 10)],
        ['GCM', gcmOut, (p: Buffer, o: Buffer) => gcm.unprotectRtp(p, o, 12, 1, 1)],
      ] as const) {
        const bad = Buffer.from(srtp);
        bad[40] ^= 4;
        const out = Buffer.alloc(packet.length, 0xee);
        assert.equal(open(bad, out), false, label);
        assert.ok(out.every((b) => b === 0xee), `${label}: the output was written`);
        assert.equal(open(srtp, out), true, label);
        assert.deepEqual(out, packet, label);
      }
      const srtcp = Buffer.alloc(32 + 16 + 4);
      gcm.protectRtcp(rtcp(), srtcp, 1, 5, true);
      srtcp[srtcp.length - 1] ^= 1; // the E|index word is authenticated (RFC 7714 §9.1)
      const out = Buffer.alloc(32, 0xee);
      assert.equal(gcm.unprotectRtcp(srtcp, out, 1, 5, true), false);
      assert.ok(out.every((b) => b === 0xee));
    });
  });

  describe('hostile arguments', () => {
    const packet = rtp({ seq: 1, payload: randomBytes(20) }); // 32 octets
    const session = (): { cm: ReturnType<typeof cmSession>; gcm: ReturnType<typeof gcmSession> } => ({ cm: cmSession(), gcm: gcmSession() });
    const cmSession = () => new (addon().AesCmSession)(randomBytes(16), randomBytes(20), randomBytes(14), Buffer.from([1, 2, 3]));
    const gcmSession = () => new (addon().GcmSession)(randomBytes(32), randomBytes(12), Buffer.alloc(0));

    it('bad types MUST throw TypeError', () => {
      const { cm, gcm } = session();
      const out = Buffer.alloc(packet.length + 3 + 10);
      const cases: Array<[string, () => unknown]> = [
        ['packet a string', () => cm.protectRtp('x' as unknown as Buffer, out, 12, 1, 1, 10)],
        ['out undefined', () => cm.protectRtp(packet, undefined as unknown as Buffer, 12, 1, 1, 10)],
        ['out an array', () => gcm.protectRtp(packet, [] as unknown as Buffer, 12, 1, 1)],
        ['headerLength a string', () => cm.protectRtp(packet, out, '12' as unknown as number, 1, 1, 10)],
        ['index a bigint', () => gcm.protectRtp(packet, out, 12, 1, 1n as unknown as number)],
        ['encrypt a number', () => gcm.protectRtcp(packet, out, 1, 1, 1 as unknown as boolean)],
        ['too few arguments', () => (cm.protectRtp as unknown as (...a: unknown[]) => void)(packet, out, 12)],
        ['method on a plain object', () => cm.protectRtp.call({}, packet, out, 12, 1, 1, 10)],
        ['method on undefined', () => cm.protectRtp.call(undefined, packet, out, 12, 1, 1, 10)],
        ['AES-CM method on a GCM session', () => cm.protectRtp.call(gcm as never, packet, out, 12, 1, 1, 10)],
        ['GCM method on an AES-CM session', () => gcm.unprotectRtp.call(cm as never, packet, out, 12, 1, 1)],
        ['wipe on a plain object', () => cm.wipe.call({})],
        ['constructor without new', () => (addon().AesCmSession as unknown as (...a: unknown[]) => unknown)(randomBytes(16), randomBytes(20), randomBytes(14), Buffer.alloc(0))],
        ['key a string', () => new (addon().GcmSession)('k'.repeat(16) as unknown as Buffer, randomBytes(12), Buffer.alloc(0))],
      ];
      for (const [label, fn] of cases) assert.ok(thrown(fn) instanceof TypeError, label);
    });

    it('bad lengths, offsets and ranges MUST throw RangeError', () => {
      const { cm, gcm } = session();
      const cmOut = Buffer.alloc(packet.length + 3 + 10);
      const gcmOut = Buffer.alloc(packet.length + 16);
      const shared = Buffer.alloc(200);
      const cases: Array<[string, () => unknown]> = [
        ['out one octet short', () => cm.protectRtp(packet, cmOut.subarray(1), 12, 1, 1, 10)],
        ['out one octet long', () => gcm.protectRtp(packet, Buffer.alloc(gcmOut.length + 1), 12, 1, 1)],
        ['headerLength past the end', () => gcm.protectRtp(packet, gcmOut, 33, 1, 1)],
        ['headerLength negative', () => cm.protectRtp(packet, cmOut, -1, 1, 1, 10)],
        ['headerLength fractional', () => cm.protectRtp(packet, cmOut, 12.5, 1, 1, 10)],
        ['headerLength NaN', () => gcm.protectRtp(packet, gcmOut, NaN, 1, 1)],
        ['index 2^48', () => cm.protectRtp(packet, cmOut, 12, 1, 2 ** 48, 10)],
        ['index Infinity', () => gcm.protectRtp(packet, gcmOut, 12, 1, Infinity)],
        ['SRTCP index 2^31', () => gcm.protectRtcp(packet, Buffer.alloc(packet.length + 20), 1, 2 ** 31, true)],
        ['ssrc 2^32', () => gcm.protectRtp(packet, gcmOut, 12, 2 ** 32, 1)],
        ['tagLength 0', () => cm.protectRtp(packet, cmOut.subarray(10), 12, 1, 1, 0)],
        ['tagLength 21', () => cm.protectRtcp(packet, Buffer.alloc(packet.length + 4 + 3 + 21), 1, 1, true, 21)],
        ['RTCP shorter than 8 octets', () => gcm.protectRtcp(packet.subarray(0, 7), Buffer.alloc(27), 1, 1, true)],
        ['SRTP shorter than its tag', () => cm.unprotectRtp(packet.subarray(0, 12), Buffer.alloc(0), 12, 1, 1, 10)],
        ['SRTCP shorter than its trailer', () => gcm.unprotectRtcp(packet.subarray(0, 27), Buffer.alloc(0), 1, 1, true)],
        ['out overlapping the packet', () => gcm.protectRtp(shared.subarray(0, 32), shared.subarray(16, 16 + 48), 12, 1, 1)],
        ['out aliasing the packet', () => cm.unprotectRtp(shared.subarray(0, 45), shared.subarray(0, 32), 12, 1, 1, 10)],
        ['packet over 2^20 octets', () => gcm.protectRtp(Buffer.alloc(2 ** 20 + 1), Buffer.alloc(2 ** 20 + 17), 12, 1, 1)],
        ['key of 15 octets', () => new (addon().AesCmSession)(randomBytes(15), randomBytes(20), randomBytes(14), Buffer.alloc(0))],
        ['GCM salt of 14 octets', () => new (addon().GcmSession)(randomBytes(16), randomBytes(14), Buffer.alloc(0))],
        ['MKI of 129 octets', () => new (addon().GcmSession)(randomBytes(16), randomBytes(12), Buffer.alloc(129))],
      ];
      for (const [label, fn] of cases) assert.ok(thrown(fn) instanceof RangeError, label);
      // Nothing above disturbed the sessions.
      cm.protectRtp(packet, cmOut, 12, 1, 1, 10);
      assert.equal(cm.unprotectRtp(cmOut, Buffer.alloc(packet.length), 12, 1, 1, 10), true);
    });

    it('bounded fuzz: random lengths, offsets and numbers MUST either work or throw TypeError/RangeError', () => {
      const next = prng(0x5eed);
      const { cm, gcm } = session();
      const hostile = [-1, 0.5, NaN, 2 ** 31, 2 ** 32, 2 ** 48, 1e300, -Infinity];
      const number = (): number => (next() % 5 === 0 ? hostile[next() % hostile.length] : next() % 0x10000);
      // out = input + delta: the deltas the operations need (AES-CM with a 3-octet MKI, GCM without), and random ones.
      const deltas = [13, -13, 7, -7, 17, -17, 11, -11, 16, -16, 20, -20, 0];
      let worked = 0;
      let refused = 0;
      const started = Date.now();
      for (let i = 0; i < 5000 && Date.now() - started < 10_000; i++) {
        const pool = randomBytes(256);
        const inAt = next() % 64;
        const input = pool.subarray(inAt, inAt + (next() % 100));
        const delta = next() % 2 === 0 ? deltas[next() % deltas.length] : (next() % 81) - 40;
        const outLength = Math.max(0, input.length + delta);
        const outAt = next() % 64;
        // Mostly a separate buffer; sometimes a view of the input's pool, which may overlap it.
        const out = next() % 4 === 0 ? pool.subarray(outAt, outAt + outLength) : Buffer.alloc(outLength);
        const header = next() % 5 === 0 ? number() : next() % (input.length + 4);
        const tag = next() % 2 === 0 ? [10, 4][next() % 2] : next() % 24;
        const flag = next() % 2 === 0;
        const calls = [
          () => cm.protectRtp(input, out, header, number(), number(), tag),
          () => cm.unprotectRtp(input, out, header, number(), number(), tag),
          () => cm.protectRtcp(input, out, number(), number(), flag, tag),
          () => cm.unprotectRtcp(input, out, number(), number(), flag, tag),
          () => gcm.protectRtp(input, out, header, number(), number()),
          () => gcm.unprotectRtp(input, out, header, number(), number()),
          () => gcm.protectRtcp(input, out, number(), number(), flag),
          () => gcm.unprotectRtcp(input, out, number(), number(), flag),
        ];
        try {
          calls[next() % calls.length]();
          worked++;
        } catch (err) {
          assert.ok(err instanceof RangeError || err instanceof TypeError, `iteration ${i}: ${String(err)}`);
          refused++;
        }
      }
      assert.ok(worked >= 50 && refused >= 1000, `worked ${worked}, refused ${refused}`);
      // The sessions still give the right answer.
      const good = Buffer.alloc(packet.length + 16);
      gcm.protectRtp(packet, good, 12, 5, 5);
      const plain = Buffer.alloc(packet.length);
      assert.equal(gcm.unprotectRtp(good, plain, 12, 5, 5), true);
      assert.deepEqual(plain, packet);
    });
  });

  describe('wipe()', () => {
    it('after wipe() every call MUST throw, and wipe() again is harmless', () => {
      const { cm, gcm } = { cm: new (addon().AesCmSession)(randomBytes(32), randomBytes(20), randomBytes(14), Buffer.alloc(0)), gcm: new (addon().GcmSession)(randomBytes(16), randomBytes(12), Buffer.alloc(2)) };
      const packet = rtp({ seq: 1 });
      cm.wipe();
      gcm.wipe();
      cm.wipe();
      for (const fn of [
        () => cm.protectRtp(packet, Buffer.alloc(packet.length + 10), 12, 1, 1, 10),
        () => cm.unprotectRtcp(Buffer.alloc(40), Buffer.alloc(26), 1, 1, true, 10),
        () => gcm.protectRtp(packet, Buffer.alloc(packet.length + 18), 12, 1, 1),
        () => gcm.unprotectRtcp(Buffer.alloc(40), Buffer.alloc(18), 1, 1, false),
      ]) {
        const err = thrown(fn);
        assert.ok(err instanceof Error && /wiped/.test(err.message), String(err));
      }
    });

    it('a wiped native transform MUST refuse to work', () => {
      for (const name of ['AES_256_CM_HMAC_SHA1_80', 'AEAD_AES_256_GCM'] as const) {
        const profile = SRTP_PROFILES[name];
        const { native } = transforms(profile, keysFor(profile));
        native.wipe();
        assert.ok(thrown(() => native.protectRtp(rtp({ seq: 1 }), 12, 1, 1)) instanceof Error, name);
      }
    });

    it('sessions never wiped MUST be freed by their finalizers (no growth over 400000 sessions), and the live ones keep working', function () {
      this.timeout(60_000);
      // N-API runs these finalizers from the event loop after a GC, so each round yields once.
      const code = `
        const m = { exports: {} };
        process.dlopen(m, ${JSON.stringify(nativeAddonPath())});
        const { AesCmSession, GcmSession } = m.exports;
        const key = Buffer.alloc(32, 1), auth = Buffer.alloc(20, 2), salt14 = Buffer.alloc(14, 3), salt12 = Buffer.alloc(12, 3), none = Buffer.alloc(0);
        const tick = () => new Promise((resolve) => setImmediate(resolve));
        const packet = Buffer.alloc(40, 0x80);
        (async () => {
          const rss = [];
          const kept = []; // sessions that stay alive through the churn: each must still work at the end
          for (let round = 0; round < 4; round++) {
            for (let i = 0; i < 50000; i++) {
              const cm = new AesCmSession(key, auth, salt14, none);
              const gcm = new GcmSession(key, salt12, none);
              if (i % 200 === 0) kept.push(cm, gcm);
            }
            gc();
            await tick();
            await tick();
            rss.push(process.memoryUsage().rss);
          }
          for (const s of kept) {
            if (s instanceof AesCmSession) s.protectRtp(packet, Buffer.alloc(50), 12, 1, 1, 10);
            else s.protectRtp(packet, Buffer.alloc(56), 12, 1, 1);
          }
          console.log(JSON.stringify({ rss, kept: kept.length }));
        })();`;
      const run = spawnSync(process.execPath, ['--expose-gc', '-e', code], { encoding: 'utf8', timeout: 50_000 });
      assert.equal(run.status, 0, run.stderr);
      const { rss, kept } = JSON.parse(run.stdout) as { rss: number[]; kept: number };
      assert.equal(kept, 2000);
      // A leak would grow by well over 100 MB per round (three EVP_CIPHER_CTX per pair of sessions).
      assert.ok(rss[3] - rss[1] < 48 * 1024 * 1024, `RSS grew ${((rss[3] - rss[1]) / 1048576).toFixed(1)} MiB`);
    });
  });

  describe('worker threads', () => {
    it('the addon MUST load and give the same octets in two concurrent Workers, and survive their exit', async function () {
      this.timeout(20_000);
      const profile = SRTP_PROFILES.AEAD_AES_128_GCM;
      const cmProfile = SRTP_PROFILES.AES_CM_128_HMAC_SHA1_80;
      const keys = keysFor(profile);
      const cmKeys = keysFor(cmProfile);
      const packet = rtp({ seq: 77, payload: randomBytes(160) });
      const transformModule = path.join(__dirname, '..', '..', '..', 'media', 'srtp', 'transform');
      const code = `
        const { parentPort, workerData } = require('node:worker_threads');
        const t = require(${JSON.stringify(transformModule)});
        const { profile, cmProfile, keys, cmKeys, packet } = workerData;
        const gcm = t.createTransform(profile, keys);
        const cm = t.createTransform(cmProfile, cmKeys);
        // Left unwiped on purpose: the finalizers run when the worker's environment goes away.
        parentPort.postMessage({
          backend: t.srtpBackend(),
          gcm: gcm.protectRtp(packet, 12, 0x11223344, 77),
          cm: cm.protectRtp(packet, 12, 0x11223344, 77),
        });`;
      const runWorker = (): Promise<{ backend: string; gcm: Uint8Array; cm: Uint8Array }> =>
        new Promise((resolve, reject) => {
          const w = new Worker(code, { eval: true, workerData: { profile, cmProfile, keys, cmKeys, packet } });
          const timer = setTimeout(() => {
            void w.terminate();
            reject(new Error('worker timed out'));
          }, 15_000);
          w.once('message', (msg: { backend: string; gcm: Uint8Array; cm: Uint8Array }) => {
            clearTimeout(timer);
            w.once('exit', (code) => (code === 0 ? resolve(msg) : reject(new Error(`worker exit ${code}`))));
          });
          w.once('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
        });
      const results = await Promise.all([runWorker(), runWorker()]);
      const expectedGcm = new AeadGcmTransform(keys).protectRtp(packet, 12, 0x11223344, 77);
      const expectedCm = new AesCmHmacTransform(cmKeys, 10, 10).protectRtp(packet, 12, 0x11223344, 77);
      for (const r of results) {
        assert.equal(r.backend, 'native');
        assert.deepEqual(Buffer.from(r.gcm), expectedGcm);
        assert.deepEqual(Buffer.from(r.cm), expectedCm);
      }
      // The main thread's own sessions are unaffected by the workers' teardown.
      const { native } = transforms(profile, keys);
      assert.deepEqual(native.protectRtp(packet, 12, 0x11223344, 77), expectedGcm);
    });
  });
});
