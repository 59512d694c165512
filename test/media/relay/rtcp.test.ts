/** RTCP validity (RFC 3550 §A.2, RFC 5506) and SSRC translation (RFC 3550 §7.2, RFC 4585 §6.1). */
import assert from 'node:assert/strict';
import { isValidRtcp, translateRtcp, type SsrcTranslation } from '../../../media/relay';

function header(pt: number, count: number, words: number): Buffer {
  const b = Buffer.alloc(4 * (words + 1));
  b[0] = 0x80 | count;
  b[1] = pt;
  b.writeUInt16BE(words, 2);
  return b;
}

function sr(sender: number, ts: number, reportOn: number): Buffer {
  const b = header(200, 1, 12); // 28 + one 24-octet block
  b.writeUInt32BE(sender, 4);
  b.writeUInt32BE(ts, 16);
  b.writeUInt32BE(reportOn, 28);
  return b;
}

const map: SsrcTranslation = {
  identity: false,
  forward: (s) => (s === 0x1 ? 0xa : s),
  forwardTimestamp: (s, ts) => (s === 0x1 ? ts + 1000 : ts),
  reverse: (s) => (s === 0xb ? 0x2 : s),
};

describe('RTCP compound packets', () => {
  describe('validity (RFC 3550 §A.2, relaxed by RFC 5506 §3.4.2)', () => {
    it('MUST accept SR + SDES and a lone reduced-size feedback packet', () => {
      const sdes = header(202, 1, 2);
      assert.equal(isValidRtcp(Buffer.concat([sr(1, 0, 2), sdes])), true);
      assert.equal(isValidRtcp(header(206, 1, 2)), true);
    });

    it('MUST refuse lengths that do not add up, a bad version, a non-RTCP type, and inner padding', () => {
      const long = sr(1, 0, 2);
      long.writeUInt16BE(13, 2);
      assert.equal(isValidRtcp(long), false);
      const v1 = sr(1, 0, 2);
      v1[0] = 0x41;
      assert.equal(isValidRtcp(v1), false);
      assert.equal(isValidRtcp(header(96, 0, 1)), false);
      const padded = sr(1, 0, 2);
      padded[0] |= 0x20;
      assert.equal(isValidRtcp(Buffer.concat([padded, header(202, 0, 0)])), false);
      assert.equal(isValidRtcp(Buffer.alloc(7)), false);
    });
  });

  describe('SSRC translation (RFC 3550 §7.2)', () => {
    it('MUST map sender SSRCs forward, the SR timestamp onto the new timeline, and report blocks back', () => {
      const sdes = header(202, 1, 3);
      sdes.writeUInt32BE(1, 4);
      sdes[8] = 1;
      sdes[9] = 2;
      const bye = header(203, 1, 1);
      bye.writeUInt32BE(1, 4);
      const fb = header(206, 1, 2);
      fb.writeUInt32BE(1, 4);
      fb.writeUInt32BE(0xb, 8);
      const p = Buffer.concat([sr(1, 5000, 0xb), sdes, bye, fb]);
      translateRtcp(p, map);
      assert.equal(p.readUInt32BE(4), 0xa, 'SR sender');
      assert.equal(p.readUInt32BE(16), 6000, 'SR RTP timestamp');
      assert.equal(p.readUInt32BE(28), 0x2, 'report block source');
      assert.equal(p.readUInt32BE(52 + 4), 0xa, 'SDES chunk');
      assert.equal(p.readUInt32BE(68 + 4), 0xa, 'BYE');
      assert.equal(p.readUInt32BE(76 + 4), 0xa, 'PSFB sender');
      assert.equal(p.readUInt32BE(76 + 8), 0x2, 'PSFB media source');
    });

    it('MUST leave the packet alone when nothing is rewritten', () => {
      const p = sr(1, 5000, 0xb);
      const before = Buffer.from(p);
      translateRtcp(p, { ...map, identity: true });
      assert.deepEqual(p, before);
    });
  });
});
