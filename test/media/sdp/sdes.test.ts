/** RFC 4568 SDES: a=crypto grammar, offer/answer, re-offer, key freshness, redaction. */
import assert from 'node:assert/strict';
import nodeCrypto from 'node:crypto';
import { inspect } from 'node:util';
import {
  parseSdp,
  cryptoAttributeValues,
  parseCryptoAttribute,
  formatCryptoAttribute,
  policyVerdict,
  makeOffer,
  answer,
  acceptAnswer,
  redactCrypto,
  SdesKeyRing,
  SdesError,
  DEFAULT_SDES_PREFERENCE,
  type SdesErrorCode,
  type SdesKey,
  type SdesStream,
} from '../../../media/sdp';
import * as F from './fixtures';

const RFC_EXAMPLE = '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4';

/** Fresh base64 key||salt of `n` octets, padded or not. */
function b64(n: number, padded = true): string {
  const s = nodeCrypto.randomBytes(n).toString('base64');
  return padded ? s : s.replace(/=+$/, '');
}

function line(tag: number, suite: string, n: number, extra = ''): string {
  return `${tag} ${suite} inline:${b64(n)}${extra}`;
}

function sdesCode(fn: () => unknown): SdesErrorCode {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SdesError, `expected SdesError, got ${String(e)}`);
    assert.equal(e.status, 488);
    return e.code;
  }
  assert.fail('expected an SdesError');
}

const hex = (k: SdesKey): string => Buffer.concat([k.masterKey, k.masterSalt]).toString('hex');

describe('RFC 4568 SDES (crypto-attribute.ts, sdes.ts, key-ring.ts)', () => {
  describe('§9.1 a=crypto grammar and §6.1 key-info', () => {
    it('it MUST parse the RFC 4568 §9 example: key, salt, lifetime 2^20, MKI 1 of 4 octets', () => {
      const a = parseCryptoAttribute(RFC_EXAMPLE);
      const raw = Buffer.from('PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR', 'base64');
      assert.equal(a.tag, 1);
      assert.equal(a.suite, 'AES_CM_128_HMAC_SHA1_80');
      assert.equal(a.keys.length, 1);
      assert.deepEqual(a.keys[0]!.masterKey, raw.subarray(0, 16));
      assert.deepEqual(a.keys[0]!.masterSalt, raw.subarray(16, 30));
      assert.equal(a.keys[0]!.lifetime, 2 ** 20);
      assert.deepEqual(a.keys[0]!.mki, Buffer.from([0, 0, 0, 1]));
      assert.equal(formatCryptoAttribute(a), RFC_EXAMPLE);
    });

    it('it MUST know the five suites with their key+salt lengths (RFC 4568, 6188, 7714)', () => {
      const lengths: [string, number, number][] = [
        ['AES_CM_128_HMAC_SHA1_80', 16, 14],
        ['AES_CM_128_HMAC_SHA1_32', 16, 14],
        ['AES_256_CM_HMAC_SHA1_80', 32, 14],
        ['AEAD_AES_128_GCM', 16, 12],
        ['AEAD_AES_256_GCM', 32, 12],
      ];
      for (const [suite, k, s] of lengths) {
        const a = parseCryptoAttribute(line(5, suite, k + s));
        assert.deepEqual([a.suite, a.keys[0]!.masterKey.length, a.keys[0]!.masterSalt.length], [suite, k, s]);
        assert.equal(sdesCode(() => parseCryptoAttribute(line(5, suite, k + s + 1))), 'malformed-crypto', `${suite} too long`);
        assert.equal(sdesCode(() => parseCryptoAttribute(line(5, suite, k + s - 1))), 'malformed-crypto', `${suite} too short`);
      }
    });

    it('it MUST accept padded and unpadded base64 and refuse anything else', () => {
      assert.doesNotThrow(() => parseCryptoAttribute(line(1, 'AES_256_CM_HMAC_SHA1_80', 46)));
      assert.doesNotThrow(() => parseCryptoAttribute(`1 AES_256_CM_HMAC_SHA1_80 inline:${b64(46, false)}`));
      const good = b64(30);
      for (const bad of [good.slice(0, -1) + '*', good.slice(0, -1) + '=', `${good}==`, good.replace(/./, ' ')]) {
        assert.equal(sdesCode(() => parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${bad}`)), 'malformed-crypto');
      }
      // 28 octets = 38 digits + "==": the last digit carries 4 bits that must be zero.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const canon = b64(28);
      const stray = canon.slice(0, 37) + alphabet[alphabet.indexOf(canon[37]!) | 1] + '==';
      assert.equal(sdesCode(() => parseCryptoAttribute(`1 AEAD_AES_128_GCM inline:${stray}`)), 'malformed-crypto');
      assert.doesNotThrow(() => parseCryptoAttribute(`1 AEAD_AES_128_GCM inline:${canon}`));
    });

    it('tag MUST be 1..999999999 (1*9DIGIT)', () => {
      assert.equal(parseCryptoAttribute(line(999999999, 'AEAD_AES_128_GCM', 28)).tag, 999999999);
      assert.equal(parseCryptoAttribute(`01 AEAD_AES_128_GCM inline:${b64(28)}`).tag, 1);
      for (const tag of ['0', '1000000000', '-1', 'x', '']) {
        assert.equal(sdesCode(() => parseCryptoAttribute(`${tag} AEAD_AES_128_GCM inline:${b64(28)}`)), 'malformed-crypto', tag);
      }
    });

    it('lifetime MUST be decimal or 2^n, 1..2^48', () => {
      assert.equal(parseCryptoAttribute(line(1, 'AES_CM_128_HMAC_SHA1_80', 30, '|2^31')).keys[0]!.lifetime, 2 ** 31);
      assert.equal(parseCryptoAttribute(line(1, 'AES_CM_128_HMAC_SHA1_80', 30, '|1000')).keys[0]!.lifetime, 1000);
      assert.equal(parseCryptoAttribute(line(1, 'AES_CM_128_HMAC_SHA1_80', 30, '|2^48')).keys[0]!.lifetime, 2 ** 48);
      for (const lt of ['|2^49', '|0', '|2^', '|2^x', '|1e6', '|2^20|2^20']) {
        assert.equal(sdesCode(() => parseCryptoAttribute(line(1, 'AES_CM_128_HMAC_SHA1_80', 30, lt))), 'malformed-crypto', lt);
      }
    });

    it('MKI MUST be value:length with length 1..128 and value fitting in it', () => {
      assert.deepEqual(parseCryptoAttribute(line(1, 'AES_CM_128_HMAC_SHA1_80', 30, '|255:1')).keys[0]!.mki, Buffer.from([255]));
      assert.deepEqual(parseCryptoAttribute(line(1, 'AES_CM_128_HMAC_SHA1_80', 30, '|2^20|258:2')).keys[0]!.mki, Buffer.from([1, 2]));
      for (const mki of ['|256:1', '|1:0', '|1:129', '|:4', '|1:', '|1:4|2^20']) {
        assert.equal(sdesCode(() => parseCryptoAttribute(line(1, 'AES_CM_128_HMAC_SHA1_80', 30, mki))), 'malformed-crypto', mki);
      }
    });

    it('several inline key-params MUST each carry a distinct MKI of one length (§6.1)', () => {
      const two = `1 AES_CM_128_HMAC_SHA1_80 inline:${b64(30)}|2^20|1:4;inline:${b64(30)}|2^20|2:4`;
      const a = parseCryptoAttribute(two);
      assert.equal(a.keys.length, 2);
      assert.notDeepEqual(a.keys[0]!.masterKey, a.keys[1]!.masterKey);
      assert.equal(policyVerdict(a), 'multiple-keys-unsupported', 'one master key per direction');
      assert.equal(policyVerdict(parseCryptoAttribute(RFC_EXAMPLE)), undefined, 'one key with an MKI is usable');
      for (const bad of [
        `1 AES_CM_128_HMAC_SHA1_80 inline:${b64(30)};inline:${b64(30)}`,
        `1 AES_CM_128_HMAC_SHA1_80 inline:${b64(30)}|1:4;inline:${b64(30)}|1:4`,
        `1 AES_CM_128_HMAC_SHA1_80 inline:${b64(30)}|1:4;inline:${b64(30)}|2:2`,
      ]) {
        assert.equal(sdesCode(() => parseCryptoAttribute(bad)), 'malformed-crypto');
      }
    });

    it('§6.3 session parameters MUST be parsed, and bad values refused', () => {
      const a = parseCryptoAttribute(
        line(1, 'AES_CM_128_HMAC_SHA1_80', 30, ` KDR=12 UNENCRYPTED_SRTP UNENCRYPTED_SRTCP UNAUTHENTICATED_SRTP FEC_ORDER=SRTP_FEC FEC_KEY=inline:${b64(30)} WSH=128 -x-opt X-NEW`),
      );
      assert.deepEqual(
        { ...a.sessionParams },
        {
          unencryptedSrtp: true,
          unencryptedSrtcp: true,
          unauthenticatedSrtp: true,
          kdr: 12,
          fecOrder: 'SRTP_FEC',
          fecKey: true,
          wsh: 128,
          unknown: ['-x-opt', 'X-NEW'],
        },
      );
      for (const p of [' KDR=25', ' KDR=05', ' KDR=', ' WSH=63', ' FEC_ORDER=NONE', ' FEC_KEY=uri:x', ' KDR=1 KDR=2', ' WSH=64 WSH=64']) {
        assert.equal(sdesCode(() => parseCryptoAttribute(line(1, 'AES_CM_128_HMAC_SHA1_80', 30, p))), 'malformed-crypto', p);
      }
    });

    it('an unknown suite or key method MUST be unsupported, not malformed', () => {
      assert.equal(sdesCode(() => parseCryptoAttribute(line(2, 'AES_192_CM_HMAC_SHA1_80', 38))), 'unsupported-crypto');
      assert.equal(sdesCode(() => parseCryptoAttribute('2 F8_128_HMAC_SHA1_80 inline:x')), 'unsupported-crypto');
      assert.equal(sdesCode(() => parseCryptoAttribute(`2 AES_CM_128_HMAC_SHA1_80 uri:${b64(30)}`)), 'unsupported-crypto');
      assert.equal(sdesCode(() => parseCryptoAttribute('2 aes-cm inline:x')), 'malformed-crypto');
      assert.equal(sdesCode(() => parseCryptoAttribute('2 AES_CM_128_HMAC_SHA1_80')), 'malformed-crypto');
    });

    it('errors and inspected keys MUST never show key material', () => {
      const key = b64(30);
      const attempts = [`1 AES_CM_128_HMAC_SHA1_80 inline:${key}|0`, `1 AES_CM_128_HMAC_SHA1_80 inline:${key}x`, `1 AES_CM_128_HMAC_SHA1_80 inline:${key} KDR=99`];
      for (const v of attempts) {
        try {
          parseCryptoAttribute(v);
          assert.fail('must throw');
        } catch (e) {
          assert.ok(e instanceof SdesError);
          assert.ok(!e.message.includes(key.slice(0, 12)) && !e.reason.includes(key.slice(0, 12)) && !inspect(e).includes(key.slice(0, 12)));
        }
      }
      const k = parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${key}`).keys[0]!;
      const rawHex = Buffer.from(key, 'base64').toString('hex');
      for (const shown of [inspect(k), JSON.stringify(k), inspect(parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${key}`), { depth: 9 })]) {
        assert.ok(!shown.includes(key.slice(0, 12)) && !shown.includes(rawHex.slice(0, 16)) && shown.includes('redacted'), shown);
      }
    });
  });

  describe('§7.1.2 answering an offer', () => {
    it('it MUST pick the best suite by OUR preference, with the offered tag and a fresh key', () => {
      const values = cryptoAttributeValues(parseSdp(F.LINPHONE_SRTP), 0);
      const a = answer(values, DEFAULT_SDES_PREFERENCE, { keyRing: new SdesKeyRing() });
      assert.equal(a.stream.suite, 'AES_256_CM_HMAC_SHA1_80');
      assert.equal(a.stream.tag, 3);
      const back = parseCryptoAttribute(a.value);
      assert.deepEqual([back.tag, back.suite], [3, 'AES_256_CM_HMAC_SHA1_80']);
      assert.equal(hex(back.keys[0]!), hex(a.stream.local));
      assert.equal(hex(a.stream.remote), hex(parseCryptoAttribute(values[2]!).keys[0]!));
      assert.notEqual(hex(a.stream.local), hex(a.stream.remote));
      assert.deepEqual(a.skipped, [{ index: 3, tag: 4, reason: 'suite-not-allowed' }]);
      const mine = answer(values, ['AES_CM_128_HMAC_SHA1_32', 'AES_CM_128_HMAC_SHA1_80']);
      assert.deepEqual([mine.stream.tag, mine.stream.suite], [2, 'AES_CM_128_HMAC_SHA1_32']);
    });

    it('it MUST answer baresip (one line) and Asterisk (AES_192 skipped as unsupported)', () => {
      const b = answer(cryptoAttributeValues(parseSdp(F.BARESIP_SRTP_MAND), 0));
      assert.deepEqual([b.stream.tag, b.stream.suite], [1, 'AES_CM_128_HMAC_SHA1_80']);
      assert.deepEqual([answer(cryptoAttributeValues(parseSdp(F.BARESIP_SRTP_OPTIONAL), 0)).stream.tag], [1], 'RTP/AVP best effort');
      const a = answer(cryptoAttributeValues(parseSdp(F.ASTERISK_SDES), 0));
      assert.deepEqual([a.stream.tag, a.stream.suite], [1, 'AES_256_CM_HMAC_SHA1_80']);
      assert.deepEqual(a.skipped, [{ index: 1, tag: 2, reason: 'unsupported-suite' }]);
    });

    it('equal suites MUST be broken by the offerer order', () => {
      const a = answer([line(7, 'AEAD_AES_128_GCM', 28), line(3, 'AEAD_AES_128_GCM', 28)]);
      assert.equal(a.stream.tag, 7);
    });

    it('it MUST refuse UNENCRYPTED_SRTP / UNENCRYPTED_SRTCP / UNAUTHENTICATED_SRTP', () => {
      for (const p of ['UNENCRYPTED_SRTP', 'UNENCRYPTED_SRTCP', 'UNAUTHENTICATED_SRTP']) {
        assert.equal(sdesCode(() => answer([line(1, 'AES_CM_128_HMAC_SHA1_80', 30, ` ${p}`)])), 'weaker-security-refused', p);
      }
      const mixed = answer([line(1, 'AEAD_AES_256_GCM', 44, ' UNENCRYPTED_SRTP'), line(2, 'AES_CM_128_HMAC_SHA1_80', 30)]);
      assert.equal(mixed.stream.tag, 2, 'the weaker line is skipped even though its suite ranks higher');
      assert.deepEqual(mixed.skipped, [{ index: 0, tag: 1, reason: 'weaker-security' }]);
      assert.ok(!mixed.value.includes('UNENCRYPTED'));
    });

    it('KDR: absent or 0 MUST be accepted, 1..24 skipped (no re-derivation in media/srtp)', () => {
      assert.equal(answer([line(1, 'AES_CM_128_HMAC_SHA1_80', 30, ' KDR=0')]).stream.tag, 1);
      const e = (() => {
        try {
          answer([line(1, 'AES_CM_128_HMAC_SHA1_80', 30, ' KDR=1')]);
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      assert.ok(e instanceof SdesError && e.code === 'no-usable-crypto');
      assert.deepEqual(e.skipped, [{ index: 0, tag: 1, reason: 'kdr-unsupported' }]);
    });

    it('lines with several keys, unknown mandatory parameters or duplicate tags MUST be skipped', () => {
      const twoKeys = `1 AES_CM_128_HMAC_SHA1_80 inline:${b64(30)}|1:4;inline:${b64(30)}|2:4`;
      assert.equal(sdesCode(() => answer([twoKeys])), 'no-usable-crypto');
      const withOne = answer([twoKeys, line(2, 'AES_CM_128_HMAC_SHA1_32', 30)], DEFAULT_SDES_PREFERENCE, { keyRing: new SdesKeyRing() });
      assert.deepEqual(withOne.skipped, [{ index: 0, tag: 1, reason: 'multiple-keys-unsupported' }]);
      assert.deepEqual(answer([RFC_EXAMPLE], DEFAULT_SDES_PREFERENCE, { keyRing: new SdesKeyRing() }).stream.remote.mki, Buffer.from([0, 0, 0, 1]), 'one key with an MKI is usable');
      assert.equal(answer([line(1, 'AES_CM_128_HMAC_SHA1_80', 30, ' WSH=256 FEC_ORDER=FEC_SRTP')]).stream.tag, 1, 'known hints are harmless');
      assert.equal(sdesCode(() => answer([line(1, 'AES_CM_128_HMAC_SHA1_80', 30, ' -X-HINT=1')])), 'no-usable-crypto');
      const a = answer([line(1, 'AEAD_AES_256_GCM', 44, ' X-MANDATORY'), line(1, 'AEAD_AES_128_GCM', 28), line(1, 'AES_CM_128_HMAC_SHA1_80', 30), line(9, 'AES_CM_128_HMAC_SHA1_32', 30)]);
      assert.equal(a.stream.tag, 9);
      assert.deepEqual(
        a.skipped.map((s) => s.reason),
        ['duplicate-tag', 'duplicate-tag', 'duplicate-tag'],
      );
      const b = answer([line(1, 'AEAD_AES_256_GCM', 44, ' X-MANDATORY'), line(2, 'AES_CM_128_HMAC_SHA1_80', 30)]);
      assert.deepEqual(b.skipped, [{ index: 0, tag: 1, reason: 'unknown-session-parameter' }]);
    });

    it('no line, or no usable line, MUST give a 488 SdesError', () => {
      assert.equal(sdesCode(() => answer([])), 'no-crypto');
      assert.equal(sdesCode(() => answer(['garbage', '1 NULL_CIPHER inline:x'])), 'no-usable-crypto');
      assert.equal(sdesCode(() => answer([line(1, 'AES_CM_128_HMAC_SHA1_32', 30)], ['AEAD_AES_256_GCM'])), 'no-usable-crypto');
      assert.equal(sdesCode(() => answer([line(1, 'AES_CM_128_HMAC_SHA1_32', 30)], [])), 'bad-configuration');
    });
  });

  describe('§7.1.1 and §7.1.3 offering and accepting the answer', () => {
    it('makeOffer MUST list the suites in order, tags 1..n, one fresh key per line', () => {
      const o = makeOffer(DEFAULT_SDES_PREFERENCE, { keyRing: new SdesKeyRing() });
      assert.deepEqual(
        o.cryptos.map((c) => [c.tag, c.suite]),
        DEFAULT_SDES_PREFERENCE.map((s, i) => [i + 1, s]),
      );
      assert.equal(new Set(o.cryptos.map((c) => hex(c.key))).size, 5, 'no key shared between suites');
      o.values.forEach((v, i) => assert.equal(hex(parseCryptoAttribute(v).keys[0]!), hex(o.cryptos[i]!.key)));
      assert.equal(sdesCode(() => makeOffer([])), 'bad-configuration');
      assert.equal(sdesCode(() => makeOffer(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_80'])), 'bad-configuration');
    });

    it('acceptAnswer MUST return our key for the answered tag and the peer key', () => {
      const o = makeOffer(DEFAULT_SDES_PREFERENCE);
      const peer = answer(o.values, ['AES_CM_128_HMAC_SHA1_80'], { keyRing: new SdesKeyRing() });
      const n = acceptAnswer(o, [peer.value]);
      assert.deepEqual([n.stream.tag, n.stream.suite], [4, 'AES_CM_128_HMAC_SHA1_80']);
      assert.equal(hex(n.stream.local), hex(o.cryptos[3]!.key));
      assert.equal(hex(n.stream.remote), hex(peer.stream.local));
      assert.deepEqual([n.localKeyChanged, n.remoteKeyChanged], [true, true]);
    });

    it('acceptAnswer MUST refuse a wrong tag, a wrong suite, several lines, weaker security, our own key', () => {
      const o = makeOffer(['AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80']);
      assert.equal(sdesCode(() => acceptAnswer(o, [])), 'no-crypto');
      assert.equal(sdesCode(() => acceptAnswer(o, [line(3, 'AEAD_AES_256_GCM', 44)])), 'answer-tag-not-offered');
      assert.equal(sdesCode(() => acceptAnswer(o, [line(1, 'AES_CM_128_HMAC_SHA1_80', 30)])), 'answer-suite-mismatch');
      assert.equal(sdesCode(() => acceptAnswer(o, [line(1, 'AEAD_AES_256_GCM', 44), line(2, 'AES_CM_128_HMAC_SHA1_80', 30)])), 'answer-not-single');
      assert.equal(sdesCode(() => acceptAnswer(o, [line(2, 'AES_CM_128_HMAC_SHA1_80', 30, ' UNENCRYPTED_SRTCP')])), 'weaker-security-refused');
      const twoKeys = `2 AES_CM_128_HMAC_SHA1_80 inline:${b64(30)}|1:1;inline:${b64(30)}|2:1`;
      assert.equal(sdesCode(() => acceptAnswer(o, [twoKeys])), 'answer-unusable');
      assert.equal(sdesCode(() => acceptAnswer(o, ['2 AES_CM_128_HMAC_SHA1_80 inline:short'])), 'answer-unusable');
      assert.equal(sdesCode(() => acceptAnswer(o, [o.values[1]!])), 'key-reflected');
    });
  });

  describe('§6.1 MKI with one master key (RFC 3711 §3.1)', () => {
    it('acceptAnswer MUST accept an answer whose one key carries an MKI, and keep the MKI with the key', () => {
      const o = makeOffer(['AES_CM_128_HMAC_SHA1_80'], { keyRing: new SdesKeyRing() });
      const n = acceptAnswer(o, [line(1, 'AES_CM_128_HMAC_SHA1_80', 30, '|2^31|258:2')]);
      assert.deepEqual(n.stream.remote.mki, Buffer.from([1, 2]));
      assert.equal(n.stream.remote.lifetime, 2 ** 31);
      assert.equal(n.stream.local.mki, undefined, 'our own key carries no MKI');
    });

    it('answer MUST choose an offered line with an MKI and answer without one', () => {
      const a = answer([line(1, 'AES_CM_128_HMAC_SHA1_32', 30, '|7:4')], DEFAULT_SDES_PREFERENCE, { keyRing: new SdesKeyRing() });
      assert.deepEqual(a.skipped, []);
      assert.equal(a.stream.suite, 'AES_CM_128_HMAC_SHA1_32');
      assert.deepEqual(a.stream.remote.mki, Buffer.from([0, 0, 0, 7]));
      assert.equal(parseCryptoAttribute(a.value).keys[0]!.mki, undefined);
      assert.ok(!a.value.includes('|'), `no lifetime or MKI in our line: ${a.value.replace(/inline:\S+/, 'inline:…')}`);
    });

    it('a re-offer keeping the key but changing, adding or removing its MKI MUST be refused (mki-changed)', () => {
      const offerValue = line(1, 'AES_CM_128_HMAC_SHA1_80', 30, '|1:1');
      const first = answer([offerValue], DEFAULT_SDES_PREFERENCE, { keyRing: new SdesKeyRing(), transport: 'T' });
      const inline = offerValue.split(' ')[2]!.split('|')[0]!;
      const again = answer([offerValue], DEFAULT_SDES_PREFERENCE, { keyRing: new SdesKeyRing(), current: first.stream, transport: 'T' });
      assert.equal(again.remoteKeyChanged, false, 'same key, same MKI: the context is kept');
      for (const changed of [`1 AES_CM_128_HMAC_SHA1_80 ${inline}|2:1`, `1 AES_CM_128_HMAC_SHA1_80 ${inline}`, `1 AES_CM_128_HMAC_SHA1_80 ${inline}|1:2`]) {
        assert.equal(sdesCode(() => answer([changed], DEFAULT_SDES_PREFERENCE, { keyRing: new SdesKeyRing(), current: first.stream, transport: 'T' })), 'mki-changed');
      }
      const fresh = answer([line(1, 'AES_CM_128_HMAC_SHA1_80', 30, '|2:1')], DEFAULT_SDES_PREFERENCE, { keyRing: new SdesKeyRing(), current: first.stream, transport: 'T' });
      assert.equal(fresh.remoteKeyChanged, true, 'a new key with a new MKI is an ordinary re-key');
    });
  });

  describe('§7.1.4 re-offers keep or change keys', () => {
    const ring = new SdesKeyRing();
    const T1 = '203.0.113.5:40000';
    function established(): { offerer: SdesStream; answerer: SdesStream } {
      const o = makeOffer(['AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80'], { keyRing: ring, transport: T1 });
      const a = answer(o.values, DEFAULT_SDES_PREFERENCE, { keyRing: new SdesKeyRing(), transport: '198.51.100.7:5004' });
      return { offerer: acceptAnswer(o, [a.value], { keyRing: ring }).stream, answerer: a.stream };
    }

    it('an unchanged re-offer MUST keep tag and key, the other lines get fresh ones', () => {
      const { offerer } = established();
      const re = makeOffer(['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_256_GCM'], { keyRing: ring, current: offerer, transport: T1 });
      assert.equal(re.keptTag, offerer.tag);
      const kept = re.cryptos.find((c) => c.suite === offerer.suite)!;
      assert.equal(kept.tag, offerer.tag);
      assert.equal(hex(kept.key), hex(offerer.local));
      const other = re.cryptos.find((c) => c.suite !== offerer.suite)!;
      assert.notEqual(other.tag, offerer.tag);
      assert.notEqual(hex(other.key), hex(offerer.local));
    });

    it('a re-offer with a new transport address or without the current suite MUST use new keys', () => {
      const { offerer } = established();
      for (const re of [
        makeOffer(['AEAD_AES_256_GCM'], { keyRing: ring, current: offerer, transport: '203.0.113.5:40002' }),
        makeOffer(['AES_CM_128_HMAC_SHA1_80'], { keyRing: ring, current: offerer, transport: T1 }),
        makeOffer(['AEAD_AES_256_GCM'], { keyRing: ring, current: offerer }),
      ]) {
        assert.equal(re.keptTag, undefined);
        assert.ok(re.cryptos.every((c) => hex(c.key) !== hex(offerer.local)));
      }
    });

    it('the answerer MUST keep its key only for the same tag, suite and transport', () => {
      const peerRing = new SdesKeyRing();
      const T2 = '198.51.100.7:5004';
      const first = answer([line(1, 'AEAD_AES_128_GCM', 28)], DEFAULT_SDES_PREFERENCE, { keyRing: peerRing, transport: T2 });
      const sameOffer = formatCryptoAttribute({ tag: 1, suite: 'AEAD_AES_128_GCM', keys: [first.stream.remote] });
      const same = answer([sameOffer], DEFAULT_SDES_PREFERENCE, { keyRing: peerRing, current: first.stream, transport: T2 });
      assert.equal(hex(same.stream.local), hex(first.stream.local));
      assert.deepEqual([same.localKeyChanged, same.remoteKeyChanged], [false, false]);
      const rekeyed = answer([line(1, 'AEAD_AES_128_GCM', 28)], DEFAULT_SDES_PREFERENCE, { keyRing: peerRing, current: first.stream, transport: T2 });
      assert.deepEqual([rekeyed.localKeyChanged, rekeyed.remoteKeyChanged], [false, true], 'peer rekeyed alone');
      for (const [values, transport] of [
        [[line(2, 'AEAD_AES_128_GCM', 28)], T2],
        [[line(1, 'AEAD_AES_256_GCM', 44)], T2],
        [[sameOffer], '198.51.100.7:6000'],
      ] as [string[], string][]) {
        const r = answer(values, DEFAULT_SDES_PREFERENCE, { keyRing: peerRing, current: first.stream, transport });
        assert.equal(r.localKeyChanged, true);
        assert.notEqual(hex(r.stream.local), hex(first.stream.local));
      }
    });

    it('a whole re-INVITE round with nothing changed MUST change no key on either side', () => {
      const aRing = new SdesKeyRing();
      const bRing = new SdesKeyRing();
      const o1 = makeOffer(['AES_CM_128_HMAC_SHA1_80'], { keyRing: aRing, transport: 'A' });
      const a1 = answer(o1.values, DEFAULT_SDES_PREFERENCE, { keyRing: bRing, transport: 'B' });
      const s1 = acceptAnswer(o1, [a1.value], { keyRing: aRing }).stream;
      const o2 = makeOffer(['AES_CM_128_HMAC_SHA1_80'], { keyRing: aRing, current: s1, transport: 'A' });
      const a2 = answer(o2.values, DEFAULT_SDES_PREFERENCE, { keyRing: bRing, current: a1.stream, transport: 'B' });
      const n2 = acceptAnswer(o2, [a2.value], { keyRing: aRing, current: s1 });
      assert.deepEqual([a2.localKeyChanged, a2.remoteKeyChanged, n2.localKeyChanged, n2.remoteKeyChanged], [false, false, false, false]);
    });
  });

  describe('§8 key freshness: never reuse a key across legs', () => {
    it('1000 calls through the gateway (answer leg A, offer leg B) MUST use 3000 distinct keys', () => {
      const gateway = new SdesKeyRing();
      const phones = new SdesKeyRing();
      const ours = new Set<string>();
      const theirs = new Set<string>();
      for (let call = 0; call < 1000; call++) {
        const caller = makeOffer(['AES_CM_128_HMAC_SHA1_80'], { keyRing: phones });
        const legA = answer(caller.values, DEFAULT_SDES_PREFERENCE, { keyRing: gateway });
        const legB = makeOffer(['AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80'], { keyRing: gateway });
        for (const k of [legA.stream.local, ...legB.cryptos.map((c) => c.key)]) ours.add(hex(k));
        theirs.add(hex(legA.stream.remote));
      }
      assert.equal(ours.size, 3000);
      assert.equal(gateway.issued, 3000);
      for (const t of theirs) assert.ok(!ours.has(t));
    });

    it('the ring MUST remember what it issued and saw, and catch a reflected key from another leg', () => {
      const ring = new SdesKeyRing();
      const legB = makeOffer(['AES_CM_128_HMAC_SHA1_80'], { keyRing: ring });
      assert.ok(ring.knows(legB.cryptos[0]!.key) && ring.issuedHere(legB.cryptos[0]!.key));
      // Leg A's peer offers the very key we gave leg B.
      assert.equal(sdesCode(() => answer(legB.values, DEFAULT_SDES_PREFERENCE, { keyRing: ring })), 'key-reflected');
      const peerKey = parseCryptoAttribute(F.BARESIP_SRTP_MAND.split('a=crypto:')[1]!.split('\r\n')[0]!).keys[0]!;
      answer([formatCryptoAttribute({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keys: [peerKey] })], DEFAULT_SDES_PREFERENCE, { keyRing: ring });
      assert.ok(ring.knows(peerKey) && !ring.issuedHere(peerKey));
    });

    it('a CSPRNG repeating itself MUST make the ring refuse, not reuse (key-reuse tripwire)', () => {
      const ring = new SdesKeyRing();
      const original = nodeCrypto.randomFillSync;
      (nodeCrypto as { randomFillSync: unknown }).randomFillSync = <T extends NodeJS.ArrayBufferView>(b: T): T => {
        new Uint8Array(b.buffer, b.byteOffset, b.byteLength).fill(7);
        return b;
      };
      try {
        ring.issue('AEAD_AES_128_GCM');
        assert.equal(sdesCode(() => ring.issue('AEAD_AES_128_GCM')), 'key-reuse');
      } finally {
        (nodeCrypto as { randomFillSync: unknown }).randomFillSync = original;
      }
      assert.doesNotThrow(() => ring.issue('AEAD_AES_128_GCM'));
    });

    it('the ring history MUST stay bounded', () => {
      const ring = new SdesKeyRing({ historySize: 4 });
      const first = ring.issue('AEAD_AES_128_GCM');
      for (let i = 0; i < 4; i++) ring.issue('AEAD_AES_128_GCM');
      assert.equal(ring.knows(first), false, 'evicted');
      assert.equal(ring.issued, 5);
      assert.throws(() => new SdesKeyRing({ historySize: 0 }), RangeError);
    });
  });

  describe('redactCrypto (logs)', () => {
    it('it MUST replace every inline key and keep the rest', () => {
      const key = F.BARESIP_SRTP_MAND.split('inline:')[1]!.split('\r\n')[0]!;
      const out = redactCrypto(F.BARESIP_SRTP_MAND);
      assert.ok(!out.includes(key));
      assert.ok(out.includes('a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[REDACTED]\r\n'));
      // Compared redacted: on failure assert prints both sides, and the expected side must not carry the key.
      assert.equal(out, F.BARESIP_SRTP_MAND.replace(`inline:${key}`, 'inline:[REDACTED]'));
      assert.equal(redactCrypto(`a=crypto:${RFC_EXAMPLE}`), 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[REDACTED]|2^20|1:4');
      for (const k of cryptoAttributeValues(parseSdp(F.LINPHONE_SRTP), 0)) {
        assert.ok(!redactCrypto(F.LINPHONE_SRTP).includes(k.split('inline:')[1]!));
      }
    });

    it('it MUST also cover several key-params, FEC_KEY, odd case, malformed keys, k=, key-mgmt, ice-pwd', () => {
      const text = [
        `a=crypto:1 AES_CM_128_HMAC_SHA1_80 INLINE:SECRETaaaa|1:4;inline:SECRETbbbb|2:4 FEC_KEY=inline:SECRETcccc`,
        'a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:SECRET-dd_d',
        'k=clear:SECRETeeee',
        'a=key-mgmt:mikey SECRETffff',
        '  a=ice-pwd:SECRETgggg',
        'a=ice-ufrag:visible',
      ].join('\r\n');
      const out = redactCrypto(text);
      assert.ok(!out.includes('SECRET'), out);
      assert.ok(out.includes('|1:4;inline:[REDACTED]|2:4') && out.includes('a=ice-ufrag:visible'));
      assert.equal(out.split('\r\n').length, 6);
      assert.equal(redactCrypto('no keys here'), 'no keys here');
    });
  });
});
