/**
 * Known-answer tests. First every vector of the shared conformance file (RFC 3711 B.2, B.3 and
 * libsrtp's reference packets), then published vectors for the profiles that file lacks; each
 * block names its source. The packet vectors run on both SRTP backends (native addon and
 * TypeScript); the keystream and key-derivation vectors test TypeScript code both backends share.
 */
import assert from 'node:assert/strict';
import {
  SRTP_PROFILES,
  SrtpContext,
  createTransform,
  deriveSessionKey,
  deriveSessionKeys,
  KDF_LABEL,
  type SrtpProfileName,
  type SrtpSessionKeys,
  type SrtpTransform,
} from '../../../media/srtp';
import { AesCounterMode } from '../../../media/srtp/cipher/ctr';
import { srtcpGcmIv, srtpGcmIv } from '../../../media/srtp/cipher/gcm';
import { srtpBackend } from '../../../media/srtp/transform';
import { BACKENDS, hex, loadVectors, useBackend, type PacketVector } from './helpers';

const vectors = loadVectors();
const LIBSRTP_PREFIX = 'libsrtp_validate_';
const HANDLED = new Set(['_about', 'aes_cm_keystream_rfc3711_b2', 'kdf_rfc3711_b3']);

describe('SRTP known answers: shared conformance vectors', () => {
  it('every vector in vectors.json is exercised by this file', () => {
    const unknown = Object.keys(vectors).filter((k) => !HANDLED.has(k) && !k.startsWith(LIBSRTP_PREFIX));
    assert.deepEqual(unknown, [], 'a vector was added to vectors.json that no test reads');
    const libsrtp = Object.keys(vectors).filter((k) => k.startsWith(LIBSRTP_PREFIX));
    assert.ok(libsrtp.length >= 2, 'expected the libsrtp AES-CM and GCM reference packets');
  });

  describe('RFC 3711 Appendix B.2: AES-CM keystream', () => {
    const v = vectors.aes_cm_keystream_rfc3711_b2 as { key: string; iv: string; blocks: Record<string, string> };
    const base = parseInt(v.iv.slice(-4), 16);
    const offsets = Object.keys(v.blocks).map((k) => parseInt(k, 16) - base);
    const stream = new AesCounterMode(hex(v.key)).keystream(hex(v.iv), (Math.max(...offsets) + 1) * 16);
    for (const [counter, block] of Object.entries(v.blocks)) {
      it(`it MUST produce keystream block ${counter}`, () => {
        const j = parseInt(counter, 16) - base;
        assert.equal(stream.subarray(j * 16, j * 16 + 16).toString('hex'), block.toLowerCase());
      });
    }
  });

  describe('RFC 3711 Appendix B.3: key derivation', () => {
    const v = vectors.kdf_rfc3711_b3 as Record<string, string>;
    const key = hex(v.master_key);
    const salt = hex(v.master_salt);
    it('it MUST derive the session encryption key (label 0x00)', () => {
      assert.equal(deriveSessionKey(key, salt, KDF_LABEL.SRTP_ENCRYPTION, 16).toString('hex'), v.cipher_key.toLowerCase());
    });
    it('it MUST derive the session salt (label 0x02)', () => {
      assert.equal(deriveSessionKey(key, salt, KDF_LABEL.SRTP_SALT, 14).toString('hex'), v.cipher_salt.toLowerCase());
    });
    it('it MUST derive the session authentication key (label 0x01)', () => {
      const expected = v.auth_key_first_20_bytes.toLowerCase();
      assert.equal(deriveSessionKey(key, salt, KDF_LABEL.SRTP_AUTHENTICATION, 20).toString('hex'), expected);
      const keys = deriveSessionKeys(SRTP_PROFILES.AES_CM_128_HMAC_SHA1_80, key, salt);
      assert.equal(keys.srtp.authenticationKey.toString('hex'), expected);
    });
  });
});

describe('SRTP known answers: published vectors for the other profiles', () => {
  // RFC 6188 §7.1 (AES-256-CM keystream, first blocks) and the last blocks of the 65282-block
  // segment, as reproduced in libre's and JLSRTP's test suites.
  describe('RFC 6188 §7.1: AES-256-CM keystream', () => {
    const cm = new AesCounterMode(hex('57f82fe3613fd170a85ec93c40b1f0922ec4cb0dc025b58272147cc438944a98'));
    const stream = cm.keystream(hex('f0f1f2f3f4f5f6f7f8f9fafbfcfd0000'), 65282 * 16);
    it('it MUST produce the first three keystream blocks', () => {
      assert.equal(
        stream.subarray(0, 48).toString('hex'),
        '92bdd28a93c3f52511c677d08b5515a4' + '9da71b2378a854f67050756ded165bac' + '63c4868b7096d88421b563b8c94c9a31',
      );
    });
    it('it MUST produce blocks FEFF..FF01', () => {
      assert.equal(
        stream.subarray(stream.length - 48).toString('hex'),
        'cea518c90fd91ced9cbb18c078a54711' + '3dbc4814f4da5f00a08772b63c6a046d' + '6eb246913062a16891433e97dd01a57f',
      );
    });
  });

  // RFC 6188 §7.2: AES_256_CM_PRF key derivation.
  describe('RFC 6188 §7.2: AES-256 key derivation', () => {
    const key = hex('f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6');
    const salt = hex('3b04803de51ee7c96423ab5b78d2');
    const keys = deriveSessionKeys(SRTP_PROFILES.AES_256_CM_HMAC_SHA1_80, key, salt);
    it('it MUST derive the 256-bit session encryption key', () => {
      assert.equal(keys.srtp.encryptionKey.toString('hex'), '5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4');
    });
    it('it MUST derive the session salt', () => {
      assert.equal(keys.srtp.salt.toString('hex'), 'fa31791685ca444a9e07c6c64e93');
    });
    it('it MUST derive the session authentication key', () => {
      assert.equal(keys.srtp.authenticationKey.toString('hex'), 'fd9c32d39ed5fbb5a9dc96b30818454d1313dc05');
    });
  });
});

for (const backend of BACKENDS) {
  describe(`SRTP known answers: packets on the ${backend} backend`, () => {
    useBackend(backend);
    it(`createTransform MUST use the ${backend} backend here`, () => {
      assert.equal(srtpBackend(), backend);
    });

    for (const name of Object.keys(vectors).filter((k) => k.startsWith(LIBSRTP_PREFIX))) {
      const profile = name.slice(LIBSRTP_PREFIX.length).toUpperCase() as SrtpProfileName;
      const v = vectors[name] as PacketVector;
      describe(`libsrtp reference packets: ${profile} (${name})`, () => {
        const ctx = (): SrtpContext => new SrtpContext({ profile, masterKey: hex(v.master_key), masterSalt: hex(v.master_salt) });
        it('names a profile this module implements', () => {
          assert.ok(profile in SRTP_PROFILES, profile);
        });
        it('protectRtp MUST produce the reference SRTP packet', () => {
          assert.equal(ctx().protectRtp(hex(v.rtp_plain)).toString('hex'), v.srtp.toLowerCase());
        });
        it('unprotectRtp MUST recover the RTP packet', () => {
          assert.equal(ctx().unprotectRtp(hex(v.srtp)).toString('hex'), v.rtp_plain.toLowerCase());
        });
        it('protectRtcp MUST produce the reference SRTCP packet at SRTCP index 1', () => {
          // RFC 3711 §3.4: our first SRTCP index is 0; libsrtp's reference packet carries index 1.
          const tx = ctx();
          const first = tx.protectRtcp(hex(v.rtcp_plain));
          assert.equal(first.readUInt32BE(profile.startsWith('AEAD') ? first.length - 4 : first.length - 14), 0x80000000);
          assert.equal(tx.protectRtcp(hex(v.rtcp_plain)).toString('hex'), v.srtcp.toLowerCase());
        });
        it('unprotectRtcp MUST recover the RTCP packet', () => {
          assert.equal(ctx().unprotectRtcp(hex(v.srtcp)).toString('hex'), v.rtcp_plain.toLowerCase());
        });
      });
    }

    // libsrtp test/srtp_driver.c, srtp_validate_aes_256(): RFC 6188 §7.2 master key, SSRC cafebabe.
    describe('libsrtp srtp_validate_aes_256: AES_256_CM_HMAC_SHA1_80 reference packet', () => {
      const masterKey = hex('f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6');
      const masterSalt = hex('3b04803de51ee7c96423ab5b78d2');
      const plain = hex('800f1234decafbadcafebabe' + 'ab'.repeat(16));
      const srtp = hex('800f1234decafbadcafebabe f1d9de17ff251ff1aa007774 b0b4b40da08d9d9a5b3a55d8873b');
      it('protectRtp MUST produce the reference packet and unprotectRtp MUST invert it', () => {
        const options = { profile: 'AES_256_CM_HMAC_SHA1_80' as const, masterKey, masterSalt };
        assert.deepEqual(new SrtpContext(options).protectRtp(plain), srtp);
        assert.deepEqual(new SrtpContext(options).unprotectRtp(srtp), plain);
      });
    });

    // libsrtp test/srtp_driver.c, srtp_test_empty_payload(): an RTP packet with no payload.
    describe('libsrtp srtp_test_empty_payload: AES_CM_128_HMAC_SHA1_80, header only', () => {
      it('it MUST authenticate a header-only packet like libsrtp', () => {
        const options = { profile: 'AES_CM_128_HMAC_SHA1_80' as const, masterKey: hex('e1f97a0d3e018be0d64fa32c06de4139'), masterSalt: hex('0ec675ad498afeebb6960b3aabe6') };
        const srtp = hex('800f1234decafbadcafebabe773c2e1cd91d590d16e5');
        assert.deepEqual(new SrtpContext(options).protectRtp(hex('800f1234decafbadcafebabe')), srtp);
        assert.deepEqual(new SrtpContext(options).unprotectRtp(srtp), hex('800f1234decafbadcafebabe'));
      });
    });

    // RFC 7714 §16 (SRTP) and §17 (SRTCP). The RFC gives session keys directly, so these drive the
    // transform without the KDF. Values cross-checked against two independent implementations' tests.
    describe('RFC 7714 §16–§17: AEAD_AES_128_GCM and AEAD_AES_256_GCM', () => {
      const salt = hex('517569642070726f2071756f'); // "Quid pro quo"
      const sessionKeys = (key: Buffer): SrtpSessionKeys => {
        const k = { encryptionKey: key, authenticationKey: Buffer.alloc(0), salt };
        return { srtp: k, srtcp: k };
      };
      const gcm = {} as Record<'AEAD_AES_128_GCM' | 'AEAD_AES_256_GCM', SrtpTransform>;
      before(() => {
        gcm.AEAD_AES_128_GCM = createTransform(SRTP_PROFILES.AEAD_AES_128_GCM, sessionKeys(hex('000102030405060708090a0b0c0d0e0f')));
        gcm.AEAD_AES_256_GCM = createTransform(
          SRTP_PROFILES.AEAD_AES_256_GCM,
          sessionKeys(hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f')),
        );
      });
      const rtpPlain = hex('8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070 61727465 73207472 6573');
      const rtcpPlain = hex('81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef');
      const rtpSsrc = 0x5501a0b2;
      const rtcpSsrc = 0x4d617273;

      it('§16.1: the SRTP IV MUST be (00 00 || SSRC || ROC || SEQ) XOR salt', () => {
        assert.equal(Buffer.from(srtpGcmIv(salt, rtpSsrc, 0, 0xf17b, Buffer.alloc(12))).toString('hex'), '51753c6580c2726f20718414');
      });
      it('§17.1: the SRTCP IV MUST be (00 00 || SSRC || 00 00 || index) XOR salt', () => {
        assert.equal(Buffer.from(srtcpGcmIv(salt, rtcpSsrc, 0x5d4, Buffer.alloc(12))).toString('hex'), '517524055203726f207170bb');
      });

      const rtpCases: Array<[SrtpProfileName & keyof typeof gcm, string, string]> = [
        ['AEAD_AES_128_GCM', '§16.1', 'f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce'],
        ['AEAD_AES_256_GCM', '§16.2', '32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13'],
      ];
      for (const [profile, section, body] of rtpCases) {
        const srtp = Buffer.concat([rtpPlain.subarray(0, 12), hex(body)]);
        it(`${section} ${profile}: SRTP encryption MUST match`, () => {
          assert.deepEqual(gcm[profile].protectRtp(rtpPlain, 12, rtpSsrc, 0xf17b), srtp);
        });
        it(`${section} ${profile}: SRTP decryption MUST match and a flipped tag bit MUST fail`, () => {
          assert.deepEqual(gcm[profile].unprotectRtp(srtp, 12, rtpSsrc, 0xf17b), rtpPlain);
          const bad = Buffer.from(srtp);
          bad[bad.length - 1] ^= 1;
          assert.equal(gcm[profile].unprotectRtp(bad, 12, rtpSsrc, 0xf17b), null);
        });
      }

      const rtcpCases: Array<[SrtpProfileName & keyof typeof gcm, string, boolean, string]> = [
        ['AEAD_AES_128_GCM', '§17.1', true, '81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4'],
        ['AEAD_AES_256_GCM', '§17.2', true, '81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4'],
        ['AEAD_AES_128_GCM', '§17.3', false, rtcpPlain.toString('hex') + '841dd968 3dd78ec9 2ae58790 125f62b3 000005d4'],
        ['AEAD_AES_256_GCM', '§17.4', false, rtcpPlain.toString('hex') + '91db4afb feee5a97 8fab4393 ed2615fe 000005d4'],
      ];
      for (const [profile, section, encrypt, wire] of rtcpCases) {
        const srtcp = hex(wire);
        it(`${section} ${profile}: SRTCP with E=${encrypt ? 1 : 0} MUST match`, () => {
          assert.deepEqual(gcm[profile].protectRtcp(rtcpPlain, rtcpSsrc, 0x5d4, encrypt), srtcp);
        });
        it(`${section} ${profile}: SRTCP with E=${encrypt ? 1 : 0} MUST verify and decrypt`, () => {
          assert.deepEqual(gcm[profile].unprotectRtcp(srtcp, rtcpSsrc, 0x5d4, encrypt), rtcpPlain);
        });
      }
    });
  });
}
