/**
 * Issue 5 tests 1, 5, 7, 10 with real peers: baresip clients over TLS with SRTP through the B2BUA.
 * Audio is checked with tones and sox (PEERS.md): alice sends 1000 Hz, bob 440 Hz.
 */
import assert from 'node:assert/strict';
import type { CallEnd } from '../../gateway/b2bua';
import { registered, settledFile, toneOf, type Phone } from './calls-harness';
import { onNetLab } from './on-net-lab';

describe('Calls with real peers: on-net over TLS and SRTP (issue 5 tests 1, 5, 7, 10)', function () {
  this.timeout(60_000);
  const lab = onNetLab();
  const phone = lab.phone;

  /**
   * alice dials bob, both answer over SRTP, 3.5 s of tones, alice hangs up; `during` runs while the
   * call is up. Then each recording must hold the other's tone (1 kHz from alice, 440 Hz from bob).
   */
  const toneCall = async (alice: Phone, bob: Phone, during: () => void = () => undefined): Promise<void> => {
    const { atAlice, atBob } = await lab.toneCall(alice, bob, during);
    assert.ok(Math.abs(atBob.frequency - 1000) < 60, `bob heard ${atBob.frequency} Hz`);
    assert.ok(Math.abs(atAlice.frequency - 440) < 40, `alice heard ${atAlice.frequency} Hz`);
    assert.ok(atBob.rms > 0.01 && atAlice.rms > 0.01);
  };

  it('1: alice (Opus preferred) calls bob (PCMU) over TLS with SRTP, and tones arrive both ways', async () => {
    const alice = await phone('alice', 1000, { codecs: 'opus/48000/2,PCMU' });
    const bob = await phone('bob', 440, { codecs: 'PCMU' });
    await toneCall(alice, bob);
  });

  it('1, transcoded: alice (Opus only) calls bob (PCMU only), the engine transcodes, and tones arrive both ways', async () => {
    const alice = await phone('alice', 1000, { codecs: 'opus/48000/2' });
    const bob = await phone('bob', 440, { codecs: 'PCMU' });
    await toneCall(alice, bob, () => {
      // Each phone speaks its own codec: the engine transcodes between them.
      assert.match(alice.log(), /Set audio encoder: opus 48000Hz/);
      assert.match(bob.log(), /Set audio encoder: PCMU 8000Hz/);
    });
  });

  it('5: CANCEL before answer: the caller gets 487 and the callee stops ringing', async () => {
    const alice = await phone('alice', 1000, { codecs: 'PCMU' });
    const bob = await phone('bob', 440, { codecs: 'PCMU', answer: 'manual' });
    alice.command('dial', 'sip:bob@127.0.0.1');
    await bob.waitEvent('CALL_INCOMING', 10_000);
    await alice.waitEvent('CALL_RINGING', 5000);
    const ended = new Promise<CallEnd>((resolve) => lab.gateway().gw.b2bua.once('callEnded', (_i, end) => resolve(end)));
    alice.command('hangup');
    const end = await ended;
    assert.equal(end.status, 487);
    assert.equal(end.endedBy, 'caller');
    await bob.waitEvent('CALL_CLOSED', 5000);
    assert.equal(lab.gateway().gw.b2bua.list().length, 0);
  });

  it('7: a callee with two registered devices: both ring, the first to answer wins, the other is cancelled', async () => {
    const alice = await phone('alice', 1000, { codecs: 'PCMU' });
    const bob1 = await phone('bob', 440, { codecs: 'PCMU', answer: 'manual' });
    const bob2 = await phone('bob', 440, { codecs: 'PCMU', answer: 'manual' });
    await registered(lab.gateway(), 'bob', 10_000, 2);
    alice.command('dial', 'sip:bob@127.0.0.1');
    await bob1.waitEvent('CALL_INCOMING', 10_000);
    await bob2.waitEvent('CALL_INCOMING', 10_000);
    bob2.command('accept');
    await alice.waitEvent('CALL_ESTABLISHED', 10_000);
    await bob2.waitEvent('CALL_ESTABLISHED', 5000);
    await bob1.waitEvent('CALL_CLOSED', 5000);
    assert.equal(bob1.events.some((e) => e.type === 'CALL_ESTABLISHED'), false);
    await new Promise((r) => setTimeout(r, 2500));
    alice.command('hangup');
    await bob2.waitEvent('CALL_CLOSED', 5000);
    const atBob = await toneOf(await settledFile(() => bob2.received(), 5000));
    assert.ok(Math.abs(atBob.frequency - 1000) < 60, `bob heard ${atBob.frequency} Hz`);
  });

  it('10: a blocked user\'s call in progress ends within 1 s', async () => {
    const alice = await phone('alice', 1000, { codecs: 'PCMU' });
    const bob = await phone('bob', 440, { codecs: 'PCMU' });
    alice.command('dial', 'sip:bob@127.0.0.1');
    await alice.waitEvent('CALL_ESTABLISHED', 10_000);
    await bob.waitEvent('CALL_ESTABLISHED', 5000);
    const started = Date.now();
    await lab.gateway().gw.users.block('bob');
    await lab.gateway().gw.registrar.blockUser('bob');
    await alice.waitEvent('CALL_CLOSED', 1000);
    assert.ok(Date.now() - started <= 1000, `ended after ${Date.now() - started} ms`);
    assert.equal(lab.gateway().gw.b2bua.list().length, 0);
    await lab.gateway().gw.users.unblock('bob');
  });
});
