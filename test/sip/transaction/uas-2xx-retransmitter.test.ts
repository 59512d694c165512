import assert from 'node:assert/strict';
import { makeResponse, type SipResponse } from '../../../gateway/sip/message/message';
import type { SendTarget, TransportError } from '../../../gateway/sip/transport/types';
import { FakeClock } from '../../../gateway/sip/transaction/clock';
import { TransactionTimers } from '../../../gateway/sip/transaction/timers';
import { Uas2xxRetransmitter } from '../../../gateway/sip/transaction/uas-2xx-retransmitter';
import { flush, RecordingSender, request, T1, TCP_TARGET, UDP_TARGET } from './helpers';

function setup(target: SendTarget = UDP_TARGET, retransmitOverReliable?: boolean) {
  const clock = new FakeClock();
  const sender = new RecordingSender(clock);
  const timeouts: SipResponse[] = [];
  const errors: TransportError[] = [];
  let done = 0;
  const ok = makeResponse(request(), 200, 'OK', 'uas');
  const r = new Uas2xxRetransmitter(
    clock,
    new TransactionTimers(),
    sender,
    ok,
    target,
    { onAckTimeout: (res) => timeouts.push(res), onTransportError: (e) => errors.push(e) },
    { retransmitOverReliable, onDone: () => done++ },
  );
  r.start();
  return { clock, sender, timeouts, errors, ok, r, done: () => done };
}

describe('RFC 3261 §13.3.1.4 2xx retransmission by the UAS core (RFC 6026 Accepted)', () => {
  it('it MUST retransmit the 2xx until ACK: T1, 2T1, 4T1 ... capped at T2', () => {
    const { clock, sender, r, done } = setup();
    clock.advance(12_000);
    assert.deepEqual(sender.times(sender.sent), [500, 1500, 3500, 7500, 11500]);
    r.acknowledge();
    assert.equal(r.active, false);
    assert.equal(done(), 1);
    clock.advance(100_000);
    assert.equal(sender.sent.length, 5, 'retransmissions cease at the ACK');
    assert.equal(clock.pending, 0);
  });

  it('it gives up after 64*T1 and tells the TU, which SHOULD send a BYE', () => {
    const { clock, sender, timeouts, ok, r } = setup();
    clock.advance(64 * T1 - 1);
    assert.equal(timeouts.length, 0);
    clock.advance(1);
    assert.deepEqual(timeouts, [ok]);
    assert.equal(r.active, false);
    assert.equal(r.retransmissions, sender.sent.length);
    assert.equal(clock.pending, 0);
  });

  it('it MUST NOT retransmit the 2xx on TCP, but still reports a missing ACK', () => {
    const { clock, sender, timeouts } = setup(TCP_TARGET);
    clock.advance(64 * T1);
    assert.equal(sender.sent.length, 0);
    assert.equal(timeouts.length, 1);
  });

  it('retransmitOverReliable restores the transport-agnostic reading of §13.3.1.4', () => {
    const { clock, sender } = setup(TCP_TARGET, true);
    clock.advance(4_000);
    assert.deepEqual(sender.times(sender.sent), [500, 1500, 3500]);
  });

  it('a failed re-send is reported and retransmission goes on', async () => {
    const { clock, sender, errors } = setup();
    sender.failing = true;
    clock.advance(T1);
    await flush();
    assert.equal(errors.length, 1);
    clock.advance(2 * T1);
    assert.equal(sender.sent.length, 2);
  });

  it('stop() ends it without telling the TU', () => {
    const { clock, timeouts, r, done } = setup();
    r.stop();
    clock.advance(64 * T1);
    assert.equal(timeouts.length, 0);
    assert.equal(done(), 1);
  });
});
