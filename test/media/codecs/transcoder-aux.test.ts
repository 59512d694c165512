/**
 * The transcoder next to the other payloads of its stream (RFC 4733 events, RFC 3389 CN): their
 * sequence numbers are not lost audio, and their timestamps follow the audio's input → output map.
 */
import assert from 'node:assert/strict';
import { G711Codec, createTranscoder } from '../../../media/codecs';
import { sine } from './helpers';

const pcmu = new G711Codec('PCMU');
const frame = (i: number): Buffer => pcmu.encode(sine(1000, 8000, 160, 8000, i * 160));

describe('Transcoder with events and CN in its stream', () => {
  it('it MUST map a timestamp by the audio\'s map (PCMU 8 kHz → Opus 48 kHz)', () => {
    const t = createTranscoder('PCMU', 'opus', { timestampBase: 1000 });
    try {
      for (let i = 0; i < 5; i++) t.push({ payload: frame(i), sequenceNumber: i, timestamp: 400 + i * 160 });
      assert.equal(t.outputTimestamp(400), 1000);
      assert.equal(t.outputTimestamp(400 + 4 * 160), 1000 + 4 * 960, 'the start of the last frame sent');
      assert.equal(t.outputTimestamp(400 + 8000), 1000 + 48000, 'one second on');
      assert.equal(t.outputTimestamp(300), 1000 - 600, 'before the first frame');
    } finally {
      t.close();
    }
  });

  it('it MUST NOT conceal the sequence numbers that skip() says were not audio', () => {
    const t = createTranscoder('PCMU', 'PCMA', { timestampBase: 0 });
    try {
      const out = [];
      for (let i = 0; i < 3; i++) out.push(...t.push({ payload: frame(i), sequenceNumber: i, timestamp: i * 160 }));
      t.skip(3);
      t.skip(4);
      t.skip(2); // late: changes nothing
      out.push(...t.push({ payload: frame(3), sequenceNumber: 5, timestamp: 3 * 160 }));
      assert.equal(t.stats.concealed, 0);
      assert.equal(out.length, 4);
      assert.equal(out[3]!.timestamp, 480);
    } finally {
      t.close();
    }
  });

  it('it MUST anchor the map on an event that comes before any audio, and place the audio after it', () => {
    const t = createTranscoder('PCMU', 'opus', { timestampBase: 7000 });
    try {
      assert.equal(t.outputTimestamp(50_000), 7000);
      const out = t.push({ payload: frame(0), sequenceNumber: 9, timestamp: 50_000 + 800 });
      assert.equal(out[0]!.timestamp, 7000 + 800 * 6);
      assert.equal(out[0]!.marker, true);
      assert.equal(t.outputTimestamp(50_000), 7000, 'the event start stays where it was');
    } finally {
      t.close();
    }
  });

  it('it MUST forget the anchor on reset() (a new SSRC)', () => {
    const t = createTranscoder('PCMU', 'PCMA', { timestampBase: 0 });
    try {
      t.push({ payload: frame(0), sequenceNumber: 0, timestamp: 0 });
      t.reset();
      assert.equal(t.outputTimestamp(99_999), 160, 'anchored afresh at the next output frame');
    } finally {
      t.close();
    }
  });
});
