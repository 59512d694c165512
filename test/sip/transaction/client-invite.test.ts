import assert from 'node:assert/strict';
import type { SipRequest, SipResponse } from '../../../gateway/sip/message/message';
import type { SendTarget, TransportError } from '../../../gateway/sip/transport/types';
import { FakeClock } from '../../../gateway/sip/transaction/clock';
import { InviteClientTransaction } from '../../../gateway/sip/transaction/client-invite';
import { TransactionStateError } from '../../../gateway/sip/transaction/errors';
import { TransactionTimers, type TimerSettings } from '../../../gateway/sip/transaction/timers';
import { isLocalResponse, type Transaction } from '../../../gateway/sip/transaction/transaction';
import type { TransactionState } from '../../../gateway/sip/transaction/types';
import { flush, RecordingSender, request, response, T1, TCP_TARGET, UDP_TARGET } from './helpers';

function setup(target: SendTarget = UDP_TARGET, timers: Partial<TimerSettings> = {}) {
  const clock = new FakeClock();
  const sender = new RecordingSender(clock);
  const responses: SipResponse[] = [];
  const states: TransactionState[] = [];
  const errors: TransportError[] = [];
  const terminated: Transaction[] = [];
  const userErrors: unknown[] = [];
  const invite = request({ method: 'INVITE' });
  invite.headers.add('Route', '<sip:edge.example.net;lr>');
  const tx = new InviteClientTransaction(
    {
      clock,
      timers: new TransactionTimers(timers),
      sender,
      onTerminated: (t) => terminated.push(t),
      onUserError: (e) => userErrors.push(e),
    },
    invite,
    target,
    {
      onResponse: (r) => responses.push(r),
      onStateChange: (_t, s) => states.push(s),
      onTransportError: (_t, e) => errors.push(e),
    },
  );
  return { clock, sender, responses, states, errors, terminated, userErrors, invite, tx };
}

describe('RFC 3261 §17.1.1 INVITE client transaction', () => {
  describe('§17.1.1.2 Calling: Timers A and B', () => {
    it('Timer A: it MUST retransmit the INVITE at T1, 2T1, 4T1 ... on UDP until Timer B', () => {
      const { clock, sender, tx } = setup();
      tx.start();
      clock.advance(64 * T1 - 1);
      assert.deepEqual(sender.times(sender.requests('INVITE')), [0, 500, 1500, 3500, 7500, 15500, 31500]);
      clock.advance(100_000);
      assert.equal(sender.requests('INVITE').length, 7, 'no retransmission after Timer B');
    });

    it('it MUST NOT retransmit the INVITE on TCP (no Timer A)', () => {
      const { clock, sender, tx } = setup(TCP_TARGET);
      tx.start();
      assert.deepEqual(tx.activeTimers, ['B']);
      clock.advance(64 * T1 - 1);
      assert.equal(sender.requests('INVITE').length, 1);
    });

    it('Timer B fires 408 after 64*T1, the transaction terminates and sends no ACK', () => {
      const { clock, sender, responses, tx, terminated } = setup();
      tx.start();
      clock.advance(64 * T1 - 1);
      assert.equal(responses.length, 0);
      clock.advance(1);
      assert.equal(responses.length, 1);
      assert.equal(responses[0].status, 408);
      assert.ok(isLocalResponse(responses[0]));
      assert.equal(tx.state, 'Terminated');
      assert.deepEqual(terminated, [tx]);
      assert.equal(sender.requests('ACK').length, 0);
      assert.equal(clock.pending, 0);
    });

    it('Timer B also bounds an INVITE over TCP', () => {
      const { clock, responses, tx } = setup(TCP_TARGET);
      tx.start();
      clock.advance(64 * T1);
      assert.equal(responses[0]?.status, 408);
    });

    it('it MUST NOT be started twice', () => {
      const { tx } = setup();
      tx.start();
      assert.throws(() => tx.start(), TransactionStateError);
    });
  });

  describe('§17.1.1.2 Proceeding', () => {
    it('a provisional response moves to Proceeding, goes to the TU and stops Timers A and B', () => {
      const { clock, sender, responses, tx, states } = setup(UDP_TARGET, { timerC: 0 });
      tx.start();
      clock.advance(600);
      tx.receiveResponse(response(tx.request, 180));
      assert.equal(tx.state, 'Proceeding');
      assert.deepEqual(states, ['Proceeding']);
      assert.equal(responses[0].status, 180);
      clock.advance(10 * 64 * T1);
      assert.deepEqual(sender.times(sender.requests('INVITE')), [0, 500]);
      assert.equal(responses.length, 1, 'no 408 once Proceeding');
      assert.equal(tx.state, 'Proceeding');
    });

    it('Timer C: silence after a provisional gets the TU a 408, then a late non-2xx is ACKed but not passed up', () => {
      const { clock, sender, responses, tx } = setup();
      tx.start();
      tx.receiveResponse(response(tx.request, 183));
      clock.advance(60_000);
      tx.receiveResponse(response(tx.request, 180)); // re-arms Timer C
      clock.advance(180_000 - 1);
      assert.equal(responses.length, 2);
      clock.advance(1);
      assert.equal(responses[2].status, 408);
      assert.ok(isLocalResponse(responses[2]));
      tx.receiveResponse(response(tx.request, 487));
      assert.equal(sender.requests('ACK').length, 1);
      assert.equal(responses.length, 3, 'the 487 is not passed up after the 408');
      assert.equal(tx.state, 'Completed');
    });

    it('Timer C: with no final response at all the transaction ends 64*T1 after the 408', () => {
      const { clock, tx } = setup();
      tx.start();
      tx.receiveResponse(response(tx.request, 180));
      clock.advance(180_000 + 64 * T1 - 1);
      assert.equal(tx.state, 'Proceeding');
      clock.advance(1);
      assert.equal(tx.state, 'Terminated');
      assert.equal(clock.pending, 0);
    });
  });

  describe('RFC 6026 §7.2 / §8.4 Accepted and Timer M', () => {
    it('it MUST pass every 2xx up to the TU (retransmissions, forks) and MUST NOT ACK them', () => {
      const { sender, responses, tx } = setup();
      tx.start();
      tx.receiveResponse(response(tx.request, 200, 'fork-a'));
      assert.equal(tx.state, 'Accepted');
      tx.receiveResponse(response(tx.request, 200, 'fork-a'));
      tx.receiveResponse(response(tx.request, 200, 'fork-b'));
      tx.receiveResponse(response(tx.request, 486)); // not a 2xx: ignored in Accepted
      assert.deepEqual(responses.map((r) => r.status), [200, 200, 200]);
      assert.equal(sender.requests('ACK').length, 0);
    });

    it('Timer M: Accepted ends 64*T1 after the first 2xx; the 2xx stopped Timer A', () => {
      const { clock, sender, tx } = setup();
      tx.start();
      clock.advance(100);
      tx.receiveResponse(response(tx.request, 200));
      clock.advance(64 * T1 - 1);
      assert.equal(tx.state, 'Accepted');
      assert.equal(sender.requests('INVITE').length, 1);
      clock.advance(1);
      assert.equal(tx.state, 'Terminated');
      assert.equal(clock.pending, 0);
    });
  });

  describe('§17.1.1.2 / §17.1.1.3 Completed: the ACK for non-2xx and Timer D', () => {
    it('it MUST generate the ACK for a 300-699 response as §17.1.1.3 builds it', () => {
      const { sender, responses, tx, invite } = setup();
      tx.start();
      const busy = response(tx.request, 486, 'uas-tag');
      tx.receiveResponse(busy);
      assert.equal(tx.state, 'Completed');
      assert.equal(responses.length, 1);
      const [sent] = sender.requests('ACK');
      assert.ok(sent !== undefined);
      const ack = sent.msg as SipRequest;
      assert.deepEqual(sent.target, UDP_TARGET, 'same address, port and transport as the INVITE');
      assert.equal(ack.uri, invite.uri);
      assert.equal(ack.via.length, 1);
      assert.equal(ack.via[0].params.get('branch'), invite.via[0].params.get('branch'));
      assert.equal(ack.via[0].host, invite.via[0].host);
      assert.equal(ack.callId, invite.callId);
      assert.equal(ack.from.params.get('tag'), 'fromtag1');
      assert.equal(ack.to.params.get('tag'), 'uas-tag', 'To of the response');
      assert.deepEqual(ack.cseq, { seq: invite.cseq.seq, method: 'ACK' });
      assert.deepEqual(ack.headers.getAll('Route'), ['<sip:edge.example.net;lr>']);
      assert.equal(ack.body.length, 0);
    });

    it('a retransmitted final response gets the ACK again and is not passed to the TU', () => {
      const { sender, responses, tx } = setup();
      tx.start();
      tx.receiveResponse(response(tx.request, 503));
      tx.receiveResponse(response(tx.request, 503));
      tx.receiveResponse(response(tx.request, 503));
      assert.equal(sender.requests('ACK').length, 3);
      assert.equal(responses.length, 1);
    });

    it('Timer D: Completed lasts 32 s on UDP', () => {
      const { clock, tx } = setup();
      tx.start();
      tx.receiveResponse(response(tx.request, 404));
      clock.advance(32_000 - 1);
      assert.equal(tx.state, 'Completed');
      clock.advance(1);
      assert.equal(tx.state, 'Terminated');
    });

    it('Timer D is max(32 s, 64*T1) when T1 is raised', () => {
      const { clock, tx } = setup(UDP_TARGET, { t1: 1_000, t2: 4_000 });
      tx.start();
      tx.receiveResponse(response(tx.request, 404));
      clock.advance(64_000 - 1);
      assert.equal(tx.state, 'Completed');
      clock.advance(1);
      assert.equal(tx.state, 'Terminated');
    });

    it('Timer D is 0 on TCP: Terminated at once, no timer left', () => {
      const { clock, sender, tx, states } = setup(TCP_TARGET);
      tx.start();
      tx.receiveResponse(response(tx.request, 404));
      assert.deepEqual(states, ['Completed', 'Terminated']);
      assert.equal(sender.requests('ACK').length, 1);
      assert.equal(clock.pending, 0);
    });
  });

  describe('§17.1.1.2 / §8.1.3.1 transport errors', () => {
    it('a transport error in Calling reaches the TU as a 503 and terminates', async () => {
      const { clock, sender, responses, errors, tx } = setup();
      sender.failing = true;
      tx.start();
      await flush();
      assert.equal(errors.length, 1);
      assert.equal(responses.length, 1);
      assert.equal(responses[0].status, 503);
      assert.ok(isLocalResponse(responses[0]));
      assert.equal(tx.state, 'Terminated');
      assert.equal(clock.pending, 0);
    });

    it('a transport error on a Timer A retransmission is a 503 too', async () => {
      const { clock, sender, responses, tx } = setup();
      tx.start();
      sender.failing = true;
      clock.advance(T1);
      await flush();
      assert.equal(responses[0]?.status, 503);
      assert.equal(tx.state, 'Terminated');
    });

    it('a transport error sending the ACK terminates the Completed transaction', async () => {
      const { sender, errors, responses, tx } = setup();
      tx.start();
      await flush();
      sender.failing = true;
      tx.receiveResponse(response(tx.request, 486));
      await flush();
      assert.equal(errors.length, 1);
      assert.deepEqual(responses.map((r) => r.status), [486]);
      assert.equal(tx.state, 'Terminated');
    });
  });

  describe('§9.1 CANCEL timing', () => {
    it('a CANCEL asked for in Calling waits for the first provisional response', () => {
      const { tx } = setup();
      tx.start();
      let sent = 0;
      assert.equal(tx.requestCancel(() => sent++), true);
      assert.equal(sent, 0);
      tx.receiveResponse(response(tx.request, 180));
      assert.equal(sent, 1);
      tx.receiveResponse(response(tx.request, 183));
      assert.equal(tx.requestCancel(() => sent++), true, 'a second request is a no-op');
      assert.equal(sent, 1);
    });

    it('a CANCEL asked for in Proceeding goes at once; after a final response there is nothing to cancel', () => {
      const { tx } = setup();
      tx.start();
      tx.receiveResponse(response(tx.request, 180));
      let sent = 0;
      assert.equal(tx.requestCancel(() => sent++), true);
      assert.equal(sent, 1);
      const other = setup();
      other.tx.start();
      other.tx.receiveResponse(response(other.tx.request, 200));
      assert.equal(other.tx.requestCancel(() => sent++), false);
      assert.equal(sent, 1);
    });

    it('a final response in Calling drops the pending CANCEL', () => {
      const { tx } = setup();
      tx.start();
      let sent = 0;
      tx.requestCancel(() => sent++);
      tx.receiveResponse(response(tx.request, 486));
      assert.equal(sent, 0);
    });
  });

  it('an exception in the TU goes to onUserError and the machine still moves on', () => {
    const clock = new FakeClock();
    const userErrors: unknown[] = [];
    const tx = new InviteClientTransaction(
      { clock, timers: new TransactionTimers(), sender: new RecordingSender(clock), onUserError: (e) => userErrors.push(e) },
      request(),
      UDP_TARGET,
      {
        onResponse: () => {
          throw new Error('TU bug');
        },
      },
    );
    tx.start();
    tx.receiveResponse(response(tx.request, 486));
    assert.equal(userErrors.length, 1);
    assert.equal(tx.state, 'Completed');
  });
});
