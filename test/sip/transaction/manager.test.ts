import assert from 'node:assert/strict';
import { makeResponse, SipRequest, type SipResponse } from '../../../gateway/sip/message/message';
import type { ReceivedInfo, TransportError } from '../../../gateway/sip/transport/types';
import { FakeClock } from '../../../gateway/sip/transaction/clock';
import {
  DuplicateTransactionError,
  InvalidTransactionRequestError,
  TransactionLimitError,
} from '../../../gateway/sip/transaction/errors';
import {
  TransactionLayer,
  type ServerTransaction,
  type TransactionLayerOptions,
} from '../../../gateway/sip/transaction/manager';
import { InviteServerTransaction } from '../../../gateway/sip/transaction/server-invite';
import { isLocalResponse } from '../../../gateway/sip/transaction/transaction';
import { copyOf, flush, RecordingSender, request, response, T1, UDP_INFO, UDP_TARGET } from './helpers';

function setup(options: TransactionLayerOptions = {}) {
  const clock = new FakeClock();
  const sender = new RecordingSender(clock);
  const requests: Array<{ req: SipRequest; tx: ServerTransaction }> = [];
  const acks: SipRequest[] = [];
  const cancels: Array<{ cancel: SipRequest; ist: InviteServerTransaction }> = [];
  const ackTimeouts: SipResponse[] = [];
  const stray: SipResponse[] = [];
  const errors: TransportError[] = [];
  const layer = new TransactionLayer(
    sender,
    {
      onRequest: (req, tx) => requests.push({ req, tx }),
      onAck: (ack) => acks.push(ack),
      onCancel: (cancel, ist) => cancels.push({ cancel, ist }),
      onAckTimeout: (r) => ackTimeouts.push(r),
      onStrayResponse: (r) => stray.push(r),
      onTransportError: (e) => errors.push(e),
    },
    { clock, ...options },
  );
  return { clock, sender, layer, requests, acks, cancels, ackTimeouts, stray, errors };
}

/** The ACK a UAC sends for a 2xx (§13.2.2.4): a new branch, the dialog's tags, the INVITE's CSeq number. */
function ackFor2xx(invite: SipRequest, toTag: string): SipRequest {
  const ack = request({ method: 'ACK', callId: invite.callId, seq: invite.cseq.seq, toTag });
  return ack;
}

/** A CANCEL for `invite` as the peer would build it (§9.1). */
function cancelOf(invite: SipRequest): SipRequest {
  const cancel = copyOf(invite);
  cancel.method = 'CANCEL';
  cancel.cseq = { seq: invite.cseq.seq, method: 'CANCEL' };
  return cancel;
}

/** The ACK for a non-2xx as the peer would build it (§17.1.1.3). */
function ackOf(invite: SipRequest, toTag: string): SipRequest {
  const ack = copyOf(invite);
  ack.method = 'ACK';
  ack.cseq = { seq: invite.cseq.seq, method: 'ACK' };
  ack.to.params.set('tag', toTag);
  return ack;
}

const ist = (tx: ServerTransaction): InviteServerTransaction => {
  assert.ok(tx instanceof InviteServerTransaction);
  return tx;
};

describe('TransactionLayer (RFC 3261 §17.1.3, §17.2.3, §9)', () => {
  describe('§17.2.3 matching requests to server transactions', () => {
    it('a retransmitted request is absorbed and the last response resent', () => {
      const { layer, sender, requests } = setup();
      const invite = request();
      layer.receiveRequest(invite, UDP_INFO);
      ist(requests[0].tx).respond(makeResponse(requests[0].req, 180, 'Ringing', 'uas'));
      layer.receiveRequest(copyOf(invite), UDP_INFO);
      assert.equal(requests.length, 1);
      assert.equal(sender.responses(180).length, 2);
      assert.equal(layer.stats.retransmissionsAbsorbed, 1);
    });

    it('the same branch from another sent-by, or with another method, is another transaction', () => {
      const { layer, requests } = setup();
      layer.receiveRequest(request({ branch: 'z9hG4bKsame' }), UDP_INFO);
      layer.receiveRequest(request({ branch: 'z9hG4bKsame', viaHost: '192.0.2.11' }), UDP_INFO);
      layer.receiveRequest(request({ branch: 'z9hG4bKsame', method: 'OPTIONS' }), UDP_INFO);
      assert.equal(requests.length, 3);
      assert.equal(layer.size, 3);
    });

    it('the top Via is stamped with received before the TU sees the request (§18.2.1)', () => {
      const { layer, requests } = setup();
      layer.receiveRequest(request({ viaHost: 'alice-pc.example.com' }), UDP_INFO);
      assert.equal(requests[0].req.via[0].params.get('received'), '192.0.2.10');
    });

    it('an ACK for a non-2xx matches the INVITE transaction and is absorbed', () => {
      const { layer, requests, acks } = setup();
      const invite = request();
      layer.receiveRequest(invite, UDP_INFO);
      const tx = ist(requests[0].tx);
      tx.respond(makeResponse(requests[0].req, 486, 'Busy Here', 'uas'));
      layer.receiveRequest(ackOf(invite, 'uas'), UDP_INFO);
      assert.equal(tx.state, 'Confirmed');
      assert.equal(acks.length, 0);
      layer.receiveRequest(ackOf(invite, 'uas'), UDP_INFO);
      assert.equal(acks.length, 0);
      assert.equal(layer.stats.retransmissionsAbsorbed, 2);
    });
  });

  describe('RFC 6026 / §13.3.1.4 the 2xx and its ACK', () => {
    it('it MUST retransmit the 2xx until the ACK, which matches no transaction and goes to the TU', () => {
      const { clock, layer, sender, requests, acks, ackTimeouts } = setup();
      const invite = request();
      layer.receiveRequest(invite, UDP_INFO);
      ist(requests[0].tx).respond(makeResponse(requests[0].req, 200, 'OK', 'uas'));
      clock.advance(4_000);
      assert.deepEqual(sender.times(sender.responses(200)), [0, 500, 1500, 3500]);
      assert.equal(layer.pendingAcks, 1);
      layer.receiveRequest(ackFor2xx(invite, 'uas'), UDP_INFO);
      assert.equal(acks.length, 1);
      assert.equal(layer.pendingAcks, 0);
      clock.advance(64 * T1);
      assert.equal(sender.responses(200).length, 4, 'no 2xx after the ACK');
      assert.equal(ackTimeouts.length, 0);
    });

    it('an ACK with the INVITE branch reaching the Accepted transaction goes to the TU (RFC 6026 §7.1)', () => {
      const { layer, requests, acks } = setup();
      const invite = request();
      layer.receiveRequest(invite, UDP_INFO);
      ist(requests[0].tx).respond(makeResponse(requests[0].req, 200, 'OK', 'uas'));
      layer.receiveRequest(ackOf(invite, 'uas'), UDP_INFO);
      assert.equal(acks.length, 1);
      assert.equal(layer.pendingAcks, 0);
    });

    it('a 2xx never ACKed is reported after 64*T1 (§13.3.1.4)', () => {
      const { clock, layer, requests, ackTimeouts } = setup();
      layer.receiveRequest(request(), UDP_INFO);
      ist(requests[0].tx).respond(makeResponse(requests[0].req, 200, 'OK', 'uas'));
      clock.advance(64 * T1);
      assert.equal(ackTimeouts.length, 1);
      assert.equal(layer.pendingAcks, 0);
    });
  });

  describe('§17.2.3 RFC 2543 matching (no magic cookie)', () => {
    it('a retransmission is matched on Request-URI, tags, Call-ID, CSeq and top Via', () => {
      const { layer, sender, requests } = setup();
      const invite = request({ branch: null });
      layer.receiveRequest(invite, UDP_INFO);
      ist(requests[0].tx).respond(makeResponse(requests[0].req, 180, 'Ringing', 'uas'));
      layer.receiveRequest(copyOf(invite), UDP_INFO);
      assert.equal(requests.length, 1);
      assert.equal(sender.responses(180).length, 2);
      const later = copyOf(invite);
      later.cseq = { seq: 2, method: 'INVITE' };
      layer.receiveRequest(later, UDP_INFO);
      assert.equal(requests.length, 2, 'another CSeq is another transaction');
      const oldBranch = request({ branch: '1234abc', callId: 'x@y' });
      layer.receiveRequest(oldBranch, UDP_INFO);
      layer.receiveRequest(copyOf(oldBranch), UDP_INFO);
      assert.equal(requests.length, 3, 'a branch without the cookie uses RFC 2543 matching too');
    });

    it('an ACK matches when its To tag is the one of the response sent, else it goes to the TU', () => {
      const { layer, requests, acks } = setup();
      const invite = request({ branch: null });
      layer.receiveRequest(invite, UDP_INFO);
      const tx = ist(requests[0].tx);
      tx.respond(makeResponse(requests[0].req, 486, 'Busy Here', 'uas'));
      layer.receiveRequest(ackOf(invite, 'someone-else'), UDP_INFO);
      assert.equal(acks.length, 1);
      assert.equal(tx.state, 'Completed');
      layer.receiveRequest(ackOf(invite, 'uas'), UDP_INFO);
      assert.equal(acks.length, 1);
      assert.equal(tx.state, 'Confirmed');
    });

    it('an ACK for a 2xx that matches the Accepted transaction goes to the TU (RFC 6026 §6)', () => {
      const { layer, requests, acks } = setup();
      const invite = request({ branch: null });
      layer.receiveRequest(invite, UDP_INFO);
      ist(requests[0].tx).respond(makeResponse(requests[0].req, 200, 'OK', 'uas'));
      layer.receiveRequest(ackOf(invite, 'uas'), UDP_INFO);
      assert.equal(acks.length, 1);
      assert.equal(layer.pendingAcks, 0);
    });
  });

  describe('§9.2 CANCEL', () => {
    it('CANCEL → 200 to the CANCEL, TU notified, answerCancelled sends 487 with the same To tag', () => {
      const { layer, sender, requests, cancels } = setup();
      const invite = request();
      layer.receiveRequest(invite, UDP_INFO);
      layer.receiveRequest(cancelOf(invite), UDP_INFO);
      assert.equal(requests.length, 1, 'the CANCEL is not an onRequest');
      const ok = sender.responses(200)[0]?.msg as SipResponse;
      assert.equal(ok.cseq.method, 'CANCEL');
      assert.equal(cancels.length, 1);
      assert.equal(cancels[0].ist, requests[0].tx);
      assert.equal(layer.answerCancelled(cancels[0].ist), true);
      const terminated = sender.responses(487)[0]?.msg as SipResponse;
      assert.equal(terminated.cseq.method, 'INVITE');
      assert.equal(terminated.to.params.get('tag'), ok.to.params.get('tag'));
      assert.ok(ok.to.params.get('tag'));
      layer.receiveRequest(ackOf(invite, String(terminated.to.params.get('tag'))), UDP_INFO);
      assert.equal(cancels[0].ist.state, 'Confirmed');
    });

    it('a retransmitted CANCEL is absorbed and its 200 resent, the TU told once', () => {
      const { layer, sender, cancels } = setup();
      const invite = request();
      layer.receiveRequest(invite, UDP_INFO);
      layer.receiveRequest(cancelOf(invite), UDP_INFO);
      layer.receiveRequest(cancelOf(invite), UDP_INFO);
      assert.equal(sender.responses(200).length, 2);
      assert.equal(cancels.length, 1);
    });

    it('a CANCEL that matches nothing gets 481 and the TU is not told', () => {
      const { layer, sender, cancels } = setup();
      layer.receiveRequest(cancelOf(request()), UDP_INFO);
      const res = sender.responses(481)[0]?.msg as SipResponse;
      assert.ok(res?.to.params.get('tag'), 'a final response carries a To tag');
      assert.equal(cancels.length, 0);
      assert.equal(layer.stats.unmatchedCancels, 1);
    });

    it('a CANCEL after the final response gets 200 and changes nothing', () => {
      const { layer, sender, requests, cancels } = setup();
      const invite = request();
      layer.receiveRequest(invite, UDP_INFO);
      ist(requests[0].tx).respond(makeResponse(requests[0].req, 200, 'OK', 'uas'));
      layer.receiveRequest(cancelOf(invite), UDP_INFO);
      assert.equal(cancels.length, 0);
      const ok = sender.responses(200).find((r) => (r.msg as SipResponse).cseq.method === 'CANCEL');
      assert.equal((ok?.msg as SipResponse).to.params.get('tag'), 'uas');
    });

    it('a CANCEL of a non-INVITE gets 200 only', () => {
      const { layer, sender, cancels } = setup();
      const options = request({ method: 'OPTIONS' });
      layer.receiveRequest(options, UDP_INFO);
      layer.receiveRequest(cancelOf(options), UDP_INFO);
      assert.equal(sender.responses(200).length, 1);
      assert.equal(cancels.length, 0);
    });
  });

  describe('§17.1.3 client transactions', () => {
    it('responses match on branch and CSeq method: the 200 to the CANCEL does not reach the INVITE', () => {
      const { layer, sender } = setup();
      const inviteResponses: number[] = [];
      const cancelResponses: number[] = [];
      const ict = layer.sendInvite(request(), UDP_TARGET, { onResponse: (r) => inviteResponses.push(r.status) });
      assert.equal(layer.cancel(ict, { onResponse: (r) => cancelResponses.push(r.status) }), true);
      assert.equal(sender.requests('CANCEL').length, 0, '§9.1: no CANCEL before a provisional');
      layer.receiveResponse(response(ict.request, 180), UDP_INFO);
      const [cancel] = sender.requests('CANCEL');
      assert.ok(cancel !== undefined);
      const c = cancel.msg as SipRequest;
      assert.equal(c.via[0].params.get('branch'), ict.request.via[0].params.get('branch'));
      assert.deepEqual(c.cseq, { seq: ict.request.cseq.seq, method: 'CANCEL' });
      layer.receiveResponse(response(c, 200), UDP_INFO);
      layer.receiveResponse(response(ict.request, 487), UDP_INFO);
      assert.deepEqual(inviteResponses, [180, 487]);
      assert.deepEqual(cancelResponses, [200]);
      assert.equal(sender.requests('ACK').length, 1);
    });

    it('stray responses are dropped and counted', () => {
      const { layer, stray } = setup();
      const orphan = response(request({ branch: 'z9hG4bKnobody' }), 200);
      layer.receiveResponse(orphan, UDP_INFO);
      const noBranch = response(request({ branch: null }), 200);
      layer.receiveResponse(noBranch, UDP_INFO);
      assert.equal(layer.stats.strayResponses, 2);
      assert.deepEqual(stray, [orphan, noBranch]);
    });

    it('a missing branch is generated with the magic cookie; others are checked', () => {
      const { layer } = setup();
      const tx = layer.sendNonInvite(request({ method: 'OPTIONS', branch: null }), UDP_TARGET, { onResponse: () => undefined });
      assert.match(String(tx.request.via[0].params.get('branch')), /^z9hG4bK[A-Za-z0-9_-]{22}$/);
      assert.throws(
        () => layer.sendNonInvite(request({ method: 'OPTIONS', branch: 'old-style' }), UDP_TARGET, { onResponse: () => undefined }),
        InvalidTransactionRequestError,
      );
      assert.throws(() => layer.sendNonInvite(request({ method: 'ACK' }), UDP_TARGET, { onResponse: () => undefined }), InvalidTransactionRequestError);
      assert.throws(() => layer.sendInvite(request({ method: 'BYE' }), UDP_TARGET, { onResponse: () => undefined }), InvalidTransactionRequestError);
      const dup = request({ method: 'OPTIONS', branch: 'z9hG4bKdup' });
      layer.sendNonInvite(dup, UDP_TARGET, { onResponse: () => undefined });
      assert.throws(() => layer.sendNonInvite(copyOf(dup), UDP_TARGET, { onResponse: () => undefined }), DuplicateTransactionError);
    });

    it('a transport error reaches the TU as a 503 and frees the transaction', async () => {
      const { layer, sender } = setup();
      sender.failing = true;
      const got: SipResponse[] = [];
      layer.sendNonInvite(request({ method: 'REGISTER' }), UDP_TARGET, { onResponse: (r) => got.push(r) });
      await flush();
      assert.equal(got[0]?.status, 503);
      assert.ok(isLocalResponse(got[0]));
      assert.equal(layer.size, 0);
    });
  });

  describe('bounds', () => {
    it('the table is capped: clients get TransactionLimitError, requests a stateless 503', () => {
      const { layer, sender, requests } = setup({ maxTransactions: 2, overloadRetryAfter: 5 });
      layer.receiveRequest(request(), UDP_INFO);
      layer.sendNonInvite(request({ method: 'OPTIONS' }), UDP_TARGET, { onResponse: () => undefined });
      assert.throws(
        () => layer.sendNonInvite(request({ method: 'OPTIONS' }), UDP_TARGET, { onResponse: () => undefined }),
        TransactionLimitError,
      );
      layer.receiveRequest(request({ method: 'BYE' }), UDP_INFO);
      assert.equal(requests.length, 1);
      const busy = sender.responses(503)[0]?.msg as SipResponse;
      assert.deepEqual(busy.headers.getAll('Retry-After'), ['5']);
      assert.equal(layer.stats.rejectedOverload, 1);
      layer.receiveRequest(request({ method: 'ACK' }), UDP_INFO);
      assert.equal(sender.responses(503).length, 1, 'an ACK is never answered');
    });

    it('the table empties once the timers run out', () => {
      const { clock, layer, sender, requests } = setup();
      const noop = { onResponse: () => undefined };
      // Server side: a rejected INVITE (ACKed), an accepted one (never ACKed), an answered BYE, a CANCELled INVITE.
      const rejected = request();
      layer.receiveRequest(rejected, UDP_INFO);
      ist(requests[0].tx).respond(makeResponse(requests[0].req, 486, 'Busy Here', 'a'));
      layer.receiveRequest(ackOf(rejected, 'a'), UDP_INFO);
      layer.receiveRequest(request(), UDP_INFO);
      ist(requests[1].tx).respond(makeResponse(requests[1].req, 200, 'OK', 'b'));
      layer.receiveRequest(request({ method: 'BYE' }), UDP_INFO);
      requests[2].tx.respond(makeResponse(requests[2].req, 200, 'OK'));
      const cancelled = request();
      layer.receiveRequest(cancelled, UDP_INFO);
      layer.receiveRequest(cancelOf(cancelled), UDP_INFO);
      layer.answerCancelled(ist(requests[3].tx));
      // Client side: an INVITE rejected, one never answered, an OPTIONS answered, a CANCELled INVITE.
      const ict = layer.sendInvite(request(), UDP_TARGET, noop);
      layer.receiveResponse(response(ict.request, 404), UDP_INFO);
      layer.sendInvite(request(), UDP_TARGET, noop);
      const opt = layer.sendNonInvite(request({ method: 'OPTIONS' }), UDP_TARGET, noop);
      layer.receiveResponse(response(opt.request, 200), UDP_INFO);
      const ict2 = layer.sendInvite(request(), UDP_TARGET, noop);
      layer.receiveResponse(response(ict2.request, 180), UDP_INFO);
      layer.cancel(ict2);
      assert.ok(layer.size >= 9);
      clock.runAll();
      assert.equal(layer.size, 0);
      assert.equal(layer.pendingAcks, 0);
      assert.equal(clock.pending, 0);
      assert.ok(sender.sent.length > 0);
    });

    it('close() ends every transaction and 2xx retransmission and ignores later input', () => {
      const { clock, layer, requests } = setup();
      layer.receiveRequest(request(), UDP_INFO);
      ist(requests[0].tx).respond(makeResponse(requests[0].req, 200, 'OK', 'b'));
      layer.sendInvite(request(), UDP_TARGET, { onResponse: () => undefined });
      layer.close();
      assert.equal(layer.size, 0);
      assert.equal(layer.pendingAcks, 0);
      assert.equal(clock.pending, 0);
      layer.receiveRequest(request(), UDP_INFO);
      assert.equal(requests.length, 1);
    });
  });

  it('a TU that throws on a new request gets it answered 500, and the error propagates', () => {
    const clock = new FakeClock();
    const sender = new RecordingSender(clock);
    const layer = new TransactionLayer(
      sender,
      {
        onRequest: () => {
          throw new Error('TU bug');
        },
        onAck: () => undefined,
        onCancel: () => undefined,
      },
      { clock },
    );
    assert.throws(() => layer.receiveRequest(request({ method: 'OPTIONS' }), UDP_INFO), /TU bug/);
    assert.equal(sender.responses(500).length, 1);
    clock.runAll();
    assert.equal(layer.size, 0);
  });

  it('a request without a Via is dropped and counted', () => {
    const { layer, sender, requests } = setup();
    const bad = request();
    bad.via = [];
    layer.receiveRequest(bad, UDP_INFO as ReceivedInfo);
    assert.equal(requests.length, 0);
    assert.equal(sender.sent.length, 0);
    assert.equal(layer.stats.dropped, 1);
  });
});
