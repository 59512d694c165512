/**
 * G.722 (RFC 3551 §4.5.2) against a real peer: baresip's own g722 module (libspandsp) talks to the
 * gateway's G722 transcoder (media/codecs/g722.ts) over TLS with SRTP. Audio is checked with tones
 * and sox (PEERS.md).
 */
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../helpers/in-process-gateway';
import { Phone, registeredPhone, settledFile, toneOf } from './calls-harness';

const PASSWORDS = { alice: 'Wonderland-Key-81', bob: 'Builder-Tool-Box-22' } as const;

describe('Calls with real peers: G722 transcoded (RFC 3551 §4.5.2)', function () {
  this.timeout(60_000);
  let t: TestGateway;
  const phones: Phone[] = [];
  const base = 42000 + Math.floor(Math.random() * 20) * 400;
  // Phones take 20 RTP ports each from `base` up; the gateway's media range sits above them (it
  // keeps a reserve of bound streams, media.warmStreams, so the two must never overlap).
  const mediaMin = base + 260;
  let phoneBase = base;

  // baresip's audio_codecs reads a bare `G722` as G722/8000/1 and finds no such codec: its g722
  // module registers G722/16000/1 (and writes the RFC 3551 §4.5.2 clock, 8000, in the SDP).
  const phone = async (name: keyof typeof PASSWORDS, tone: number, codecs: string): Promise<Phone> => {
    if (phoneBase + 19 >= mediaMin) throw new Error('phone RTP ports would overlap the gateway media range: raise mediaMin');
    const rtp = `${phoneBase}-${phoneBase + 19}`;
    phoneBase += 20;
    const p = await registeredPhone(t, { user: name, password: PASSWORDS[name], tone, rtpPorts: rtp, mediaenc: 'srtp-mand', codecs });
    phones.push(p);
    return p;
  };

  before(async () => {
    t = await startTestGateway([
      'sip.domain=127.0.0.1', 'media.address=127.0.0.1', 'media.workers=1',
      `media.portMin=${mediaMin}`, `media.portMax=${base + 399}`,
    ]);
    await t.gw.users.add('alice', { password: PASSWORDS.alice, number: '+34911000001' });
    await t.gw.users.add('bob', { password: PASSWORDS.bob, number: '+34911000002' });
  });
  afterEach(async () => {
    for (const p of phones.splice(0)) await p.stop();
  });
  after(async () => {
    await t?.stop();
  });

  /** alice dials bob, 3.5 s of tones, alice hangs up; then what each one heard. */
  const toneCall = async (alice: Phone, bob: Phone): Promise<{ atAlice: { frequency: number; rms: number }; atBob: { frequency: number; rms: number } }> => {
    alice.command('dial', 'sip:bob@127.0.0.1');
    await alice.waitEvent('CALL_ESTABLISHED', 10_000);
    await bob.waitEvent('CALL_ESTABLISHED', 5000);
    await new Promise((r) => setTimeout(r, 3500));
    alice.command('hangup');
    await bob.waitEvent('CALL_CLOSED', 5000);
    const atBob = await toneOf(await settledFile(() => bob.received(), 5000));
    const atAlice = await toneOf(await settledFile(() => alice.received(), 5000));
    return { atAlice, atBob };
  };

  it('alice (G722 only) calls bob (PCMU only): the engine transcodes 16 ↔ 8 kHz, tones arrive both ways', async () => {
    const alice = await phone('alice', 1000, 'G722/16000/1');
    const bob = await phone('bob', 440, 'PCMU');
    const { atAlice, atBob } = await toneCall(alice, bob);
    assert.match(alice.log(), /Set audio encoder: G722 16000Hz/i);
    assert.match(bob.log(), /Set audio encoder: PCMU 8000Hz/);
    assert.ok(Math.abs(atBob.frequency - 1000) < 60, `bob heard ${atBob.frequency} Hz`);
    assert.ok(Math.abs(atAlice.frequency - 440) < 40, `alice heard ${atAlice.frequency} Hz`);
    assert.ok(atBob.rms > 0.01 && atAlice.rms > 0.01, `rms ${atBob.rms} / ${atAlice.rms}`);
  });

  it('alice (G722 only, 5 kHz) calls bob (Opus only): the upper sub-band crosses to a wideband peer', async () => {
    const alice = await phone('alice', 5000, 'G722/16000/1');
    const bob = await phone('bob', 440, 'opus/48000/2');
    const { atAlice, atBob } = await toneCall(alice, bob);
    assert.match(alice.log(), /Set audio encoder: G722 16000Hz/i);
    assert.match(bob.log(), /Set audio encoder: opus 48000Hz/);
    assert.ok(Math.abs(atBob.frequency - 5000) < 150, `bob heard ${atBob.frequency} Hz`);
    assert.ok(Math.abs(atAlice.frequency - 440) < 40, `alice heard ${atAlice.frequency} Hz`);
    assert.ok(atBob.rms > 0.01 && atAlice.rms > 0.01, `rms ${atBob.rms} / ${atAlice.rms}`);
  });
});
