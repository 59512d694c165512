/**
 * RFC 3711 §4.2.1 message authentication: the precomputed-pad HMAC-SHA1 of cipher/hmac.ts, checked
 * against RFC 2202's test cases and, over every padding boundary, against node:crypto.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { HmacSha1 } from '../../../media/srtp/cipher/hmac';
import { SHA1_INITIAL_STATE, Sha1Stream } from '../../../media/srtp/cipher/sha1';
import { hex } from './helpers';

describe('RFC 3711 §4.2.1 HMAC-SHA1 (cipher/hmac.ts)', () => {
  describe('RFC 2202 §3 test cases', () => {
    const cases: Array<[string, Buffer, Buffer, string]> = [
      ['1', Buffer.alloc(20, 0x0b), Buffer.from('Hi There'), 'b617318655057264e28bc0b6fb378c8ef146be00'],
      ['2', Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79'],
      ['3', Buffer.alloc(20, 0xaa), Buffer.alloc(50, 0xdd), '125d7342b9ac11cd91a39af48aa17b4f63f175d3'],
      ['4', hex('0102030405060708090a0b0c0d0e0f10111213141516171819'), Buffer.alloc(50, 0xcd), '4c9007f4026250c6bc8414f9bf50c86c2d7235da'],
      ['5', Buffer.alloc(20, 0x0c), Buffer.from('Test With Truncation'), '4c1a03424b55e07fe7f27be1d58bb9324a9a5a04'],
      ['6', Buffer.alloc(80, 0xaa), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'), 'aa4ae5e15272d00e95705637ce8a3b55ed402112'],
      ['7', Buffer.alloc(80, 0xaa), Buffer.from('Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data'), 'e8e99d0f45237d786d6bbaa7965c7808bbff1a91'],
    ];
    for (const [n, key, data, digest] of cases) {
      it(`it MUST match test case ${n}`, () => {
        assert.equal(new HmacSha1(key).compute(data, 0, data.length).toString('hex'), digest);
      });
    }
  });

  it('it MUST equal node:crypto HMAC-SHA1 for every message length 0..300 with and without a ROC trailer', () => {
    const key = randomBytes(20);
    const mac = new HmacSha1(key);
    const data = randomBytes(300);
    for (let len = 0; len <= 300; len++) {
      const roc = (len * 0x01010101) >>> 0;
      const rocBytes = Buffer.alloc(4);
      rocBytes.writeUInt32BE(roc);
      const expected = createHmac('sha1', key).update(data.subarray(0, len)).digest('hex');
      assert.equal(mac.compute(data, 0, len).toString('hex'), expected, `length ${len}`);
      const withRoc = createHmac('sha1', key).update(data.subarray(0, len)).update(rocBytes).digest('hex');
      assert.equal(mac.compute(data, 0, len, roc).toString('hex'), withRoc, `length ${len} + ROC`);
    }
  });

  it('it MUST equal node:crypto for a sub-range of a larger buffer and MTU-size packets', () => {
    const key = randomBytes(20);
    const mac = new HmacSha1(key);
    for (let i = 0; i < 50; i++) {
      const data = randomBytes(1500);
      const start = i * 3;
      const end = 1500 - i * 7;
      const expected = createHmac('sha1', key).update(data.subarray(start, end)).digest();
      assert.deepEqual(Buffer.from(mac.compute(data, start, end)), expected);
    }
  });

  it('verify() MUST accept the truncated tag and reject any single flipped bit', () => {
    const mac = new HmacSha1(randomBytes(20));
    const msg = randomBytes(172);
    const tag = Buffer.alloc(10);
    mac.sign(msg, 0, msg.length, 7, tag, 0, 10);
    assert.equal(mac.verify(msg, 0, msg.length, 7, tag, 0, 10), true);
    assert.equal(mac.verify(msg, 0, msg.length, 8, tag, 0, 10), false, 'another ROC must not verify');
    for (let bit = 0; bit < 80; bit++) {
      const bad = Buffer.from(tag);
      bad[bit >> 3] ^= 1 << (bit & 7);
      assert.equal(mac.verify(msg, 0, msg.length, 7, bad, 0, 10), false, `bit ${bit}`);
    }
  });

  it('SHA-1 itself MUST equal node:crypto across block boundaries (FIPS 180-4 padding)', () => {
    const data = randomBytes(200);
    const out = Buffer.alloc(20);
    for (const len of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 200]) {
      new Sha1Stream().reset(SHA1_INITIAL_STATE, 0).update(data, 0, len).digestInto(out, 0);
      assert.equal(out.toString('hex'), createHash('sha1').update(data.subarray(0, len)).digest('hex'), `length ${len}`);
    }
  });

  it('wipe() MUST leave no usable key state', () => {
    const key = randomBytes(20);
    const mac = new HmacSha1(key);
    const msg = randomBytes(32);
    const before = Buffer.from(mac.compute(msg, 0, msg.length));
    mac.wipe();
    assert.notDeepEqual(Buffer.from(mac.compute(msg, 0, msg.length)), before);
  });
});
