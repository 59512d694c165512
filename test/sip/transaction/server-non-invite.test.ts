import assert from 'node:assert/strict';
import { makeResponse, type SipResponse } from '../../../gateway/sip/message/message';
import type { SendTarget, TransportError } from '../../../gateway/sip/transport/types';
import { FakeClock } from '../../../gateway/sip/transaction/clock';
import { NonInviteServerTransaction } from '../../../gateway/sip/transaction/server-non-invite';
import { TransactionTimers } from '../../../gateway/sip/transaction/timers';
import { copyOf, flush, RecordingSender, request, T1, TCP_TARGET, UDP_TARGET } from './helpers';

function setup(target: SendTarget = UDP_TARGET) {
  const clock = new FakeClock();
  const sender = new RecordingSender(clock);
  const errors: TransportError[] = [];
  const req = request({ method: 'BYE', toTag: 'uas' });
  const tx = new NonInviteServerTransaction({ clock, timers: new TransactionTimers(), sender }, req, target, {
    onTransportError: (_t, e) => errors.push(e),
  });
  return { clock, sender, errors, req, tx };
}

const statuses = (sender: RecordingSender): number[] => sender.sent.map((r) => (r.msg as SipResponse).status);

describe('RFC 3261 §17.2.2 non-INVITE server transaction', () => {
  it('Trying: request retransmissions are discarded; no automatic 100 (RFC 4320)', () => {
    const { clock, sender, tx, req } = setup();
    tx.receiveRequest(copyOf(req));
    clock.advance(10_000);
    assert.equal(sender.sent.length, 0);
    assert.equal(tx.state, 'Trying');
  });

  it('Proceeding: a retransmission resends the latest provisional response', () => {
    const { sender, tx, req } = setup();
    tx.respond(makeResponse(req, 100, 'Trying'));
    assert.equal(tx.state, 'Proceeding');
    tx.receiveRequest(copyOf(req));
    assert.deepEqual(statuses(sender), [100, 100]);
  });

  it('Completed: a retransmission resends the final response; later finals are discarded', () => {
    const { sender, tx, req } = setup();
    assert.equal(tx.respond(makeResponse(req, 200, 'OK')), true);
    assert.equal(tx.state, 'Completed');
    tx.receiveRequest(copyOf(req));
    assert.equal(tx.respond(makeResponse(req, 500, 'Server Internal Error')), false);
    assert.deepEqual(statuses(sender), [200, 200]);
  });

  it('Timer J: Completed lasts 64*T1 on UDP', () => {
    const { clock, tx, req } = setup();
    tx.respond(makeResponse(req, 200, 'OK'));
    clock.advance(64 * T1 - 1);
    assert.equal(tx.state, 'Completed');
    clock.advance(1);
    assert.equal(tx.state, 'Terminated');
    assert.equal(clock.pending, 0);
  });

  it('Timer J is 0 on TCP', () => {
    const { clock, tx, req } = setup(TCP_TARGET);
    tx.respond(makeResponse(req, 200, 'OK'));
    assert.equal(tx.state, 'Terminated');
    assert.equal(clock.pending, 0);
  });

  it('a transport error is reported to the TU and the state is kept (RFC 6026 §8.8)', async () => {
    const { sender, errors, tx, req } = setup();
    sender.failing = true;
    tx.respond(makeResponse(req, 200, 'OK'));
    await flush();
    assert.equal(errors.length, 1);
    assert.equal(errors[0].name, 'TransportError');
    assert.equal(tx.state, 'Completed');
  });
});
