/** RFC 4733 telephone-events across a transcoder: timestamps and durations on the other leg's clock. */
import assert from 'node:assert/strict';
import { TelephoneEventPayloadError, TelephoneEventRetimer } from '../../../media/relay/telephone-event';

function ev(code: number, end: boolean, duration: number, volume = 10): Buffer {
  const b = Buffer.alloc(4);
  b[0] = code;
  b[1] = (end ? 0x80 : 0) | volume;
  b.writeUInt16BE(duration, 2);
  return b;
}

const fields = (p: Buffer): { code: number; end: boolean; volume: number; duration: number } => ({
  code: p[0]!,
  end: (p[1]! & 0x80) !== 0,
  volume: p[1]! & 0x3f,
  duration: p.readUInt16BE(2),
});

describe('RFC 4733 telephone-event retiming', () => {
  describe('§2.3: timestamp and duration on the output clock', () => {
    it('MUST scale durations 48 kHz → 8 kHz and keep event, E bit and volume', () => {
      const r = new TelephoneEventRetimer(48000, 8000);
      const map = (ts: number): number => 5000 + ts / 6;
      const out = [960, 1920, 2880].map((d, i) => r.retime(ev(5, i === 2, d), 96000, i === 0, map));
      assert.deepEqual(
        out.map((o) => fields(o[0]!.payload)),
        [
          { code: 5, end: false, volume: 10, duration: 160 },
          { code: 5, end: false, volume: 10, duration: 320 },
          { code: 5, end: true, volume: 10, duration: 480 },
        ],
      );
      assert.deepEqual(out.map((o) => o[0]!.timestamp), [21000, 21000, 21000]);
      assert.deepEqual(out.map((o) => o[0]!.marker), [true, false, false]);
    });

    it('MUST keep one output timestamp for all packets of an event even when the map moves', () => {
      const r = new TelephoneEventRetimer(8000, 48000);
      let shift = 0;
      const map = (ts: number): number => ts * 6 + shift++;
      const a = r.retime(ev(1, false, 160), 800, true, map)[0]!;
      const b = r.retime(ev(1, true, 320), 800, false, map)[0]!;
      const c = r.retime(ev(2, false, 160), 1600, true, map)[0]!;
      assert.equal(a.timestamp, 4800);
      assert.equal(b.timestamp, 4800, 'same event, same timestamp');
      assert.equal(c.timestamp, 9601, 'a new event is mapped afresh');
      assert.equal(fields(b.payload).duration, 1920);
    });

    it('MUST scale each report of a multi-event packet and cap it at 0xFFFF (§2.5.1.5)', () => {
      const r = new TelephoneEventRetimer(8000, 48000);
      const out = r.retime(Buffer.concat([ev(1, true, 800), ev(2, true, 12000)]), 0, true, (t) => t);
      assert.equal(out.length, 1);
      assert.equal(out[0]!.payload.readUInt16BE(2), 4800);
      assert.equal(out[0]!.payload.readUInt16BE(6), 0xffff);
      assert.equal(out[0]!.payload[4], 2);
    });
  });

  describe('§2.5.1.3: long-duration events', () => {
    it('MUST continue an event scaled past 0xFFFF in segments, closing the one before at 0xFFFF', () => {
      const r = new TelephoneEventRetimer(8000, 48000);
      const map = (): number => 1000;
      const first = r.retime(ev(9, false, 8000), 0, true, map); // 48000 ticks
      assert.equal(first.length, 1);
      const cross = r.retime(ev(9, false, 12000), 0, false, map); // 72000 ticks: segment 1
      assert.equal(cross.length, 2);
      assert.deepEqual(fields(cross[0]!.payload), { code: 9, end: false, volume: 10, duration: 0xffff });
      assert.equal(cross[0]!.timestamp, 1000);
      assert.deepEqual(fields(cross[1]!.payload), { code: 9, end: false, volume: 10, duration: 72000 - 0xffff });
      assert.equal(cross[1]!.timestamp, 1000 + 0xffff);
      assert.equal(cross[1]!.marker, false);
      const end = r.retime(ev(9, true, 12160), 0, false, map);
      assert.equal(end.length, 1, 'the segment is closed once');
      assert.deepEqual(fields(end[0]!.payload), { code: 9, end: true, volume: 10, duration: 72960 - 0xffff });
      assert.equal(end[0]!.timestamp, 1000 + 0xffff);
    });
  });

  describe('bad input', () => {
    it('MUST refuse payloads that are not 1 to 16 four-octet reports', () => {
      const r = new TelephoneEventRetimer(8000, 8000);
      for (const n of [0, 3, 5, 68]) assert.throws(() => r.retime(Buffer.alloc(n), 0, false, (t) => t), TelephoneEventPayloadError);
    });
  });
});
