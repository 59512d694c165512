/**
 * G.722 (RFC 3551 §4.5.2) against a real peer: baresip's own g722 module (libspandsp) talks to the
 * gateway's G722 transcoder (media/codecs/g722.ts) over TLS with SRTP. Audio is checked with tones
 * and sox (PEERS.md).
 */
import assert from 'node:assert/strict';
import { onNetLab } from './on-net-lab';

describe('Calls with real peers: G722 transcoded (RFC 3551 §4.5.2)', function () {
  this.timeout(60_000);
  const lab = onNetLab();
  // baresip's audio_codecs reads a bare `G722` as G722/8000/1 and finds no such codec: its g722
  // module registers G722/16000/1 (and writes the RFC 3551 §4.5.2 clock, 8000, in the SDP).
  const phone = (name: 'alice' | 'bob', tone: number, codecs: string) => lab.phone(name, tone, { codecs });
  const toneCall = lab.toneCall;

  const cases = [
    { title: 'alice (G722 only) calls bob (PCMU only): the engine transcodes 16 ↔ 8 kHz, tones arrive both ways', tone: 1000, within: 60, bob: 'PCMU', encoder: /Set audio encoder: PCMU 8000Hz/ },
    { title: 'alice (G722 only, 5 kHz) calls bob (Opus only): the upper sub-band crosses to a wideband peer', tone: 5000, within: 150, bob: 'opus/48000/2', encoder: /Set audio encoder: opus 48000Hz/ },
  ];
  for (const c of cases) {
    it(c.title, async () => {
      const alice = await phone('alice', c.tone, 'G722/16000/1');
      const bob = await phone('bob', 440, c.bob);
      const { atAlice, atBob } = await toneCall(alice, bob);
      assert.match(alice.log(), /Set audio encoder: G722 16000Hz/i);
      assert.match(bob.log(), c.encoder);
      assert.ok(Math.abs(atBob.frequency - c.tone) < c.within, `bob heard ${atBob.frequency} Hz`);
      assert.ok(Math.abs(atAlice.frequency - 440) < 40, `alice heard ${atAlice.frequency} Hz`);
      assert.ok(atBob.rms > 0.01 && atAlice.rms > 0.01, `rms ${atBob.rms} / ${atAlice.rms}`);
    });
  }
});
