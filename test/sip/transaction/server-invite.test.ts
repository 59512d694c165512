import assert from 'node:assert/strict';
import { makeResponse, type SipResponse } from '../../../gateway/sip/message/message';
import type { SendTarget, TransportError } from '../../../gateway/sip/transport/types';
import { FakeClock } from '../../../gateway/sip/transaction/clock';
import { TransactionError } from '../../../gateway/sip/transaction/errors';
import { InviteServerTransaction } from '../../../gateway/sip/transaction/server-invite';
import { TransactionTimers } from '../../../gateway/sip/transaction/timers';
import { copyOf, flush, RecordingSender, request, T1, T4, TCP_TARGET, UDP_TARGET } from './helpers';

function setup(target: SendTarget = UDP_TARGET, trying100DelayMs?: number) {
  const clock = new FakeClock();
  const sender = new RecordingSender(clock);
  const errors: TransportError[] = [];
  const accepted: SipResponse[] = [];
  let timeouts = 0;
  const invite = request({ method: 'INVITE' });
  invite.headers.add('Timestamp', '54.2');
  const tx = new InviteServerTransaction(
    { clock, timers: new TransactionTimers(), sender },
    invite,
    target,
    { onTransportError: (_t, e) => errors.push(e), onTimeout: () => timeouts++ },
    { trying100DelayMs, onAccepted: (_t, r) => accepted.push(r) },
  );
  tx.start();
  return { clock, sender, errors, accepted, invite, tx, timeouts: () => timeouts };
}

describe('RFC 3261 §17.2.1 INVITE server transaction', () => {
  describe('§17.2.1 Proceeding and the 100 Trying', () => {
    it('it MUST send 100 Trying 200 ms after the INVITE when the TU has not answered, copying Timestamp', () => {
      const { clock, sender } = setup();
      clock.advance(199);
      assert.equal(sender.sent.length, 0);
      clock.advance(1);
      const [trying] = sender.responses(100);
      assert.ok(trying !== undefined);
      const res = trying.msg as SipResponse;
      assert.equal(res.to.params.has('tag'), false, 'no To tag on the 100');
      assert.deepEqual(res.headers.getAll('Timestamp'), ['54.2'], '§8.2.6.1');
      assert.deepEqual(trying.target, UDP_TARGET);
    });

    it('it MUST NOT send the 100 when the TU answered within 200 ms', () => {
      const { clock, sender, tx, invite } = setup();
      clock.advance(100);
      tx.respond(makeResponse(invite, 180, 'Ringing', 'uas'));
      clock.advance(1_000);
      assert.deepEqual(sender.sent.map((r) => (r.msg as SipResponse).status), [180]);
    });

    it('trying100DelayMs 0 sends the 100 at once', () => {
      const { sender } = setup(UDP_TARGET, 0);
      assert.equal(sender.responses(100).length, 1);
    });

    it('an INVITE retransmission in Proceeding MUST resend the latest provisional response', () => {
      const { sender, tx, invite } = setup();
      tx.respond(makeResponse(invite, 180, 'Ringing', 'uas'));
      tx.respond(makeResponse(invite, 183, 'Session Progress', 'uas'));
      tx.receiveInvite(copyOf(invite));
      assert.deepEqual(sender.sent.map((r) => (r.msg as SipResponse).status), [180, 183, 183]);
    });

    it('an INVITE retransmission before any provisional sends the 100 at once', () => {
      const { clock, sender, tx, invite } = setup();
      clock.advance(50);
      tx.receiveInvite(copyOf(invite));
      assert.equal(sender.responses(100).length, 1);
      clock.advance(500);
      assert.equal(sender.responses(100).length, 1, 'the delayed 100 is not sent again');
    });

    it('a transport error is reported to the TU and the state is kept (RFC 6026 §8.8)', async () => {
      const { sender, errors, tx, invite } = setup();
      sender.failing = true;
      tx.respond(makeResponse(invite, 180, 'Ringing', 'uas'));
      await flush();
      assert.equal(errors.length, 1);
      assert.equal(tx.state, 'Proceeding');
    });

    it('it rejects a status outside 100-699', () => {
      const { tx, invite } = setup();
      assert.throws(() => tx.respond(makeResponse(invite, 700, 'Nope')), TransactionError);
    });
  });

  describe('§17.2.1 Completed: Timers G and H', () => {
    it('Timer G: it MUST retransmit the final response at T1, 2T1, 4T1, then T2, until Timer H on UDP', () => {
      const { clock, sender, tx, invite } = setup();
      tx.respond(makeResponse(invite, 486, 'Busy Here', 'uas'));
      assert.equal(tx.state, 'Completed');
      clock.advance(64 * T1 - 1);
      assert.deepEqual(
        sender.times(sender.responses(486)),
        [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
      );
    });

    it('Timer H: no ACK after 64*T1 → Terminated, and the TU is told', () => {
      const { clock, sender, tx, invite, timeouts } = setup();
      tx.respond(makeResponse(invite, 486, 'Busy Here', 'uas'));
      clock.advance(64 * T1 - 1);
      assert.equal(timeouts(), 0);
      clock.advance(1);
      assert.equal(tx.state, 'Terminated');
      assert.equal(timeouts(), 1);
      const count = sender.responses(486).length;
      clock.advance(100_000);
      assert.equal(sender.responses(486).length, count);
      assert.equal(clock.pending, 0);
    });

    it('it MUST NOT retransmit the final response on TCP (no Timer G), Timer H still runs', () => {
      const { clock, sender, tx, invite, timeouts } = setup(TCP_TARGET);
      tx.respond(makeResponse(invite, 603, 'Decline', 'uas'));
      assert.deepEqual(tx.activeTimers, ['H']);
      clock.advance(64 * T1);
      assert.equal(sender.responses(603).length, 1);
      assert.equal(timeouts(), 1);
    });

    it('an INVITE retransmission in Completed resends the final response', () => {
      const { sender, tx, invite } = setup(TCP_TARGET);
      tx.respond(makeResponse(invite, 486, 'Busy Here', 'uas'));
      tx.receiveInvite(copyOf(invite));
      assert.equal(sender.responses(486).length, 2);
    });

    it('a second final response is discarded', () => {
      const { sender, tx, invite } = setup();
      assert.equal(tx.respond(makeResponse(invite, 486, 'Busy Here', 'uas')), true);
      assert.equal(tx.respond(makeResponse(invite, 200, 'OK', 'uas')), false);
      assert.equal(tx.respond(makeResponse(invite, 180, 'Ringing', 'uas')), false);
      assert.equal(sender.sent.length, 1);
    });
  });

  describe('§17.2.1 Confirmed: Timer I', () => {
    it('the ACK moves Completed to Confirmed and stops retransmissions; Timer I is T4 on UDP', () => {
      const { clock, sender, tx, invite } = setup();
      tx.respond(makeResponse(invite, 486, 'Busy Here', 'uas'));
      clock.advance(600);
      assert.equal(tx.receiveAck(copyOf(invite)), 'confirmed');
      assert.equal(tx.state, 'Confirmed');
      assert.deepEqual(tx.activeTimers, ['I']);
      assert.equal(tx.receiveAck(copyOf(invite)), 'absorbed');
      tx.receiveInvite(copyOf(invite));
      clock.advance(T4 - 1);
      assert.equal(sender.responses(486).length, 2, 'the original and the one at T1');
      assert.equal(tx.state, 'Confirmed');
      clock.advance(1);
      assert.equal(tx.state, 'Terminated');
      assert.equal(clock.pending, 0);
    });

    it('Timer I is 0 on TCP', () => {
      const { clock, tx, invite } = setup(TCP_TARGET);
      tx.respond(makeResponse(invite, 486, 'Busy Here', 'uas'));
      tx.receiveAck(copyOf(invite));
      assert.equal(tx.state, 'Terminated');
      assert.equal(clock.pending, 0);
    });
  });

  describe('RFC 6026 §7.1 Accepted: Timer L', () => {
    it('a 2xx moves to Accepted; INVITE retransmissions are absorbed; ACKs go to the TU', () => {
      const { sender, tx, invite, accepted } = setup();
      const ok = makeResponse(invite, 200, 'OK', 'uas');
      tx.respond(ok);
      assert.equal(tx.state, 'Accepted');
      assert.deepEqual(accepted, [ok]);
      tx.receiveInvite(copyOf(invite));
      assert.equal(sender.sent.length, 1, 'the transaction does not retransmit the 2xx itself');
      assert.equal(tx.receiveAck(copyOf(invite)), 'pass-to-tu');
      assert.equal(tx.state, 'Accepted');
    });

    it('a 2xx from the TU in Accepted is sent; anything else is discarded', () => {
      const { sender, tx, invite } = setup();
      tx.respond(makeResponse(invite, 200, 'OK', 'uas'));
      assert.equal(tx.respond(makeResponse(invite, 200, 'OK', 'uas')), true);
      assert.equal(tx.respond(makeResponse(invite, 486, 'Busy Here', 'uas')), false);
      assert.deepEqual(sender.sent.map((r) => (r.msg as SipResponse).status), [200, 200]);
    });

    it('Timer L: Accepted ends 64*T1 after the 2xx', () => {
      const { clock, tx, invite } = setup();
      tx.respond(makeResponse(invite, 200, 'OK', 'uas'));
      clock.advance(64 * T1 - 1);
      assert.equal(tx.state, 'Accepted');
      clock.advance(1);
      assert.equal(tx.state, 'Terminated');
      assert.equal(clock.pending, 0);
    });
  });

  describe('§9.2 answering a CANCELled INVITE', () => {
    it('respondCancelled sends 487 with the To tag already used for the INVITE', () => {
      const { sender, tx, invite } = setup();
      tx.respond(makeResponse(invite, 180, 'Ringing', 'uas-tag'));
      assert.equal(tx.ensureToTag(), 'uas-tag');
      assert.equal(tx.respondCancelled(), true);
      const res = sender.responses(487)[0]?.msg as SipResponse;
      assert.equal(res.to.params.get('tag'), 'uas-tag');
      assert.equal(tx.state, 'Completed');
      assert.equal(tx.respondCancelled(), false, 'nothing left to cancel');
    });

    it('without an earlier response the 487 gets a fresh random tag', () => {
      const { sender, tx } = setup();
      const tag = tx.ensureToTag();
      assert.match(tag, /^[A-Za-z0-9_-]{16}$/);
      tx.respondCancelled();
      assert.equal((sender.responses(487)[0]?.msg as SipResponse).to.params.get('tag'), tag);
    });
  });
});
