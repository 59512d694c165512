import assert from 'node:assert/strict';
import type { SipResponse } from '../../../gateway/sip/message/message';
import type { SendTarget, TransportError } from '../../../gateway/sip/transport/types';
import { FakeClock } from '../../../gateway/sip/transaction/clock';
import { NonInviteClientTransaction } from '../../../gateway/sip/transaction/client-non-invite';
import { TransactionTimers } from '../../../gateway/sip/transaction/timers';
import { isLocalResponse } from '../../../gateway/sip/transaction/transaction';
import { flush, RecordingSender, request, response, T1, T2, T4, TCP_TARGET, UDP_TARGET } from './helpers';

function setup(target: SendTarget = UDP_TARGET) {
  const clock = new FakeClock();
  const sender = new RecordingSender(clock);
  const responses: SipResponse[] = [];
  const errors: TransportError[] = [];
  const tx = new NonInviteClientTransaction(
    { clock, timers: new TransactionTimers(), sender },
    request({ method: 'OPTIONS' }),
    target,
    { onResponse: (r) => responses.push(r), onTransportError: (_t, e) => errors.push(e) },
  );
  return { clock, sender, responses, errors, tx };
}

describe('RFC 3261 §17.1.2 non-INVITE client transaction', () => {
  describe('§17.1.2.2 Trying and Proceeding: Timers E and F', () => {
    it('Timer E: it MUST retransmit at T1, 2T1, 4T1, then every T2 in Trying on UDP', () => {
      const { clock, sender, tx } = setup();
      tx.start();
      clock.advance(64 * T1 - 1);
      assert.deepEqual(
        sender.times(sender.requests('OPTIONS')),
        [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
      );
    });

    it('Timer E: in Proceeding it MUST retransmit every T2', () => {
      const { clock, sender, tx } = setup();
      tx.start();
      clock.advance(600);
      tx.receiveResponse(response(tx.request, 100));
      assert.equal(tx.state, 'Proceeding');
      clock.advance(12_000 - 600);
      // 500 (Trying), then the 1 000 ms interval already armed, then T2 each time.
      assert.deepEqual(sender.times(sender.requests('OPTIONS')), [0, 500, 1500, 1500 + T2, 1500 + 2 * T2]);
    });

    it('it MUST NOT retransmit on TCP (no Timer E)', () => {
      const { clock, sender, tx } = setup(TCP_TARGET);
      tx.start();
      assert.deepEqual(tx.activeTimers, ['F']);
      clock.advance(64 * T1 - 1);
      assert.equal(sender.requests('OPTIONS').length, 1);
    });

    it('Timer F fires 408 after 64*T1 in Trying', () => {
      const { clock, responses, tx } = setup();
      tx.start();
      clock.advance(64 * T1 - 1);
      assert.equal(responses.length, 0);
      clock.advance(1);
      assert.equal(responses[0]?.status, 408);
      assert.ok(isLocalResponse(responses[0]));
      assert.equal(tx.state, 'Terminated');
      assert.equal(clock.pending, 0);
    });

    it('Timer F fires 408 after 64*T1 in Proceeding too', () => {
      const { clock, responses, tx } = setup(TCP_TARGET);
      tx.start();
      tx.receiveResponse(response(tx.request, 100));
      clock.advance(64 * T1);
      assert.deepEqual(responses.map((r) => r.status), [100, 408]);
      assert.equal(tx.state, 'Terminated');
    });
  });

  describe('§17.1.2.2 Completed: Timer K', () => {
    it('a final response goes to the TU once; its retransmissions are absorbed; E and F stop', () => {
      const { clock, sender, responses, tx } = setup();
      tx.start();
      tx.receiveResponse(response(tx.request, 200));
      tx.receiveResponse(response(tx.request, 200));
      tx.receiveResponse(response(tx.request, 100));
      assert.deepEqual(responses.map((r) => r.status), [200]);
      assert.equal(tx.state, 'Completed');
      assert.deepEqual(tx.activeTimers, ['K']);
      clock.advance(T4);
      assert.equal(sender.requests('OPTIONS').length, 1);
    });

    it('Timer K: Completed lasts T4 on UDP', () => {
      const { clock, tx } = setup();
      tx.start();
      tx.receiveResponse(response(tx.request, 404));
      clock.advance(T4 - 1);
      assert.equal(tx.state, 'Completed');
      clock.advance(1);
      assert.equal(tx.state, 'Terminated');
      assert.equal(clock.pending, 0);
    });

    it('Timer K is 0 on TCP', () => {
      const { clock, tx } = setup(TCP_TARGET);
      tx.start();
      tx.receiveResponse(response(tx.request, 404));
      assert.equal(tx.state, 'Terminated');
      assert.equal(clock.pending, 0);
    });
  });

  describe('§17.1.2.2 / §8.1.3.1 transport errors', () => {
    it('a transport error reaches the TU as a 503 and terminates', async () => {
      const { clock, sender, responses, errors, tx } = setup();
      sender.failing = true;
      tx.start();
      await flush();
      assert.equal(errors.length, 1);
      assert.equal(responses[0]?.status, 503);
      assert.ok(isLocalResponse(responses[0]));
      assert.equal(tx.state, 'Terminated');
      assert.equal(clock.pending, 0);
    });

    it('a failure reported after the final response changes nothing', async () => {
      const { sender, responses, tx } = setup();
      sender.failing = true;
      tx.start();
      tx.receiveResponse(response(tx.request, 200));
      await flush();
      assert.deepEqual(responses.map((r) => r.status), [200]);
      assert.equal(tx.state, 'Completed');
    });
  });
});
