/**
 * Reliable provisional responses (RFC 3262): toward a caller that requires them (§3, §7;
 * gateway/b2bua/reliable.ts), and from a callee, which the gateway PRACKs (§4; gateway/b2bua/fork.ts). The lab runs with T1 = 50 ms so that the retransmissions and the
 * 64·T1 give-up happen within a test.
 */
import assert from 'node:assert/strict';
import type { SipRequest, SipResponse } from '../../gateway/sip/message/message';
import { waitFor } from './flows';
import { labWithPair } from './harness';
import { srtpAnswer, srtpSdp, uacDialog } from './sip-ua';

const T1 = 50;

describe('B2BUA: reliable provisional responses (RFC 3262)', function () {
  this.timeout(20000);
  const f = labWithPair([`sip.timers.t1=${T1}`, `sip.timers.t2=${8 * T1}`]);
  afterEach(async () => {
    await waitFor(() => f.lab.t.gw.b2bua.list().length === 0, 5000, 'calls over');
  });

  /** alice calls bob with `Require: 100rel`; resolves with the INVITE (as sent after the 407), its final response and bob's INVITE. */
  async function call(require = true): Promise<{ invite: ReturnType<typeof f.alice.request>; final: Promise<SipResponse>; inbound: Awaited<ReturnType<typeof f.bob.waitRequest>> }> {
    const invite = f.alice.request('INVITE', 'sip:bob@127.0.0.1', {
      sdp: srtpSdp(30000),
      headers: require ? [['Require', '100rel'], ['Supported', '100rel, timer']] : [['Supported', '100rel, timer']],
    });
    const final = f.alice.transact(invite, 10000);
    const inbound = await f.bob.waitRequest('INVITE', 5000);
    return { invite, final, inbound };
  }

  /** alice ACKs the 2xx `ok` and hangs up with CSeq `byeSeq`; bob answers the BYE. */
  async function ackAndHangUp(invite: ReturnType<typeof f.alice.request>, ok: SipResponse, byeSeq: number): Promise<SipRequest> {
    const dialog = uacDialog(invite, ok);
    f.alice.send(f.alice.inDialog('ACK', dialog, invite.cseq.seq));
    await f.bob.waitRequest('ACK', 3000);
    const bye = f.alice.inDialog('BYE', dialog, byeSeq);
    f.alice.send(bye);
    const atBob = await f.bob.waitRequest('BYE', 3000);
    f.bob.respond(atBob, 200, 'OK');
    assert.equal((await f.alice.finalFor(bye, 3000)).status, 200);
    return atBob;
  }

  const prack = (invite: ReturnType<typeof f.alice.request>, res: SipResponse, rack: string): ReturnType<typeof f.alice.request> => {
    const req = f.alice.inDialog('PRACK', uacDialog(invite, res), invite.cseq.seq + 1, { headers: [['RAck', rack]] });
    f.alice.send(req);
    return req;
  };

  it('MUST send each 18x with Require: 100rel and RSeq, retransmit it until the PRACK, and answer the PRACK 200 (§3, §7.1)', async () => {
    const { invite, final, inbound } = await call();
    assert.equal(inbound.headers.getAll('Supported').join(', '), '100rel, timer');
    f.bob.respond(inbound, 180, 'Ringing');
    const first = await f.alice.waitResponseTo(invite, (r) => r.status === 180, 3000);
    assert.equal(first.headers.get('Require'), '100rel');
    const rseq = Number(first.headers.get('RSeq'));
    assert.ok(Number.isInteger(rseq) && rseq >= 1 && rseq < 2 ** 31, 'RSeq in 1 .. 2**31-1');
    const again = await f.alice.waitResponseTo(invite, (r) => r.status === 180, 3 * T1 + 500);
    assert.equal(Number(again.headers.get('RSeq')), rseq, 'a retransmission, same RSeq');

    const req = prack(invite, first, `${rseq} ${invite.cseq.seq} INVITE`);
    assert.equal((await f.alice.finalFor(req, 3000)).status, 200);
    // Drain copies already on the way, then none may follow.
    await new Promise((r) => setTimeout(r, 2 * T1));
    for (let i = 0; i < 16; i++) if ((await f.alice.waitResponseTo(invite, (r) => r.status === 180, 1).catch(() => undefined)) === undefined) break;
    await assert.rejects(f.alice.waitResponseTo(invite, (r) => r.status === 180, 8 * T1), /no response/, 'no retransmission after the PRACK');

    f.bob.respond(inbound, 200, 'OK', { sdp: srtpAnswer(inbound.body.toString(), 30200) });
    const ok = await final;
    assert.equal(ok.status, 200);
    await ackAndHangUp(invite, ok, invite.cseq.seq + 2);
  });

  it('MUST hold the 2xx until the reliable 183 that carried SDP is acknowledged, and send the next 18x only after the PRACK (§3)', async () => {
    const { invite, final, inbound } = await call();
    f.bob.respond(inbound, 183, 'Session Progress', { sdp: srtpAnswer(inbound.body.toString(), 30200) });
    const early = await f.alice.waitResponseTo(invite, (r) => r.status === 183, 3000);
    assert.ok(early.body.length > 0, 'early media SDP');
    f.bob.respond(inbound, 180, 'Ringing');
    f.bob.respond(inbound, 200, 'OK', { sdp: srtpAnswer(inbound.body.toString(), 30200) });
    await assert.rejects(f.alice.waitResponseTo(invite, (r) => r.status === 200 || r.status === 180, 6 * T1), /no response/, 'neither the 180 nor the 2xx before the PRACK');

    const rseq = Number(early.headers.get('RSeq'));
    assert.equal((await f.alice.finalFor(prack(invite, early, `${rseq} ${invite.cseq.seq} INVITE`), 3000)).status, 200);
    const ringing = await f.alice.waitResponseTo(invite, (r) => r.status === 180, 3000);
    assert.equal(Number(ringing.headers.get('RSeq')), rseq + 1, 'the queued 180, next RSeq');
    const ok = await final;
    assert.equal(ok.status, 200, 'the 2xx follows the PRACK');
    await ackAndHangUp(invite, ok, invite.cseq.seq + 2);
  });

  it('MUST answer 481 to a PRACK whose RAck names no outstanding response (§3), and keep retransmitting', async () => {
    const { invite, final, inbound } = await call();
    f.bob.respond(inbound, 180, 'Ringing');
    const ringing = await f.alice.waitResponseTo(invite, (r) => r.status === 180, 3000);
    const rseq = Number(ringing.headers.get('RSeq'));
    assert.equal((await f.alice.finalFor(prack(invite, ringing, `${rseq + 1} ${invite.cseq.seq} INVITE`), 3000)).status, 481);
    await f.alice.waitResponseTo(invite, (r) => r.status === 180 && Number(r.headers.get('RSeq')) === rseq, 8 * T1);
    const cancel = f.alice.request('CANCEL', 'sip:bob@127.0.0.1', { callId: invite.callId, cseq: invite.cseq.seq, from: invite.from, to: invite.to });
    cancel.via = [invite.via[0]!];
    f.alice.send(cancel);
    assert.equal((await f.alice.finalFor(cancel)).status, 200);
    assert.equal((await final).status, 487);
    const atBob = await f.bob.waitRequest('CANCEL', 3000);
    f.bob.respond(atBob, 200, 'OK');
    f.bob.respond(inbound, 487, 'Request Terminated');
  });

  it('MUST refuse the INVITE with a 5xx and cancel the callee when no PRACK comes within 64·T1 (§3)', async () => {
    const { final, inbound } = await call();
    f.bob.respond(inbound, 180, 'Ringing');
    const res = await final;
    assert.ok(res.status >= 500 && res.status < 600, `got ${res.status}`);
    const cancel = await f.bob.waitRequest('CANCEL', 3000);
    assert.equal(cancel.callId, inbound.callId);
    f.bob.respond(cancel, 200, 'OK');
    f.bob.respond(inbound, 487, 'Request Terminated');
  });

  it('MUST send ordinary 18x to a caller that only supports 100rel (§3: the UAS chooses)', async () => {
    const { invite, final, inbound } = await call(false);
    f.bob.respond(inbound, 180, 'Ringing');
    const ringing = await f.alice.waitResponseTo(invite, (r) => r.status === 180, 3000);
    assert.equal(ringing.headers.get('RSeq'), undefined);
    assert.equal(ringing.headers.get('Require'), undefined);
    f.bob.respond(inbound, 200, 'OK', { sdp: srtpAnswer(inbound.body.toString(), 30200) });
    const ok = await final;
    await ackAndHangUp(invite, ok, invite.cseq.seq + 1);
  });

  it('MUST PRACK a callee\'s reliable 18x once, in its early dialog, and number the dialog\'s later requests after the PRACK (§4)', async () => {
    const invite = f.alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000) });
    const final = f.alice.transact(invite, 10000);
    const inbound = await f.bob.waitRequest('INVITE', 5000);
    const reliable: Array<[string, string]> = [['Require', '100rel'], ['RSeq', '7']];
    const answer = srtpAnswer(inbound.body.toString(), 30200);
    f.bob.respond(inbound, 183, 'Session Progress', { sdp: answer, headers: reliable });
    const prackIn = await f.bob.waitRequest('PRACK', 3000, (r) => r.callId === inbound.callId);
    assert.equal(prackIn.headers.get('RAck'), `7 ${inbound.cseq.seq} INVITE`);
    assert.ok(prackIn.cseq.seq > inbound.cseq.seq, 'a new CSeq of the early dialog');
    f.bob.respond(prackIn, 200, 'OK');
    f.bob.respond(inbound, 183, 'Session Progress', { sdp: answer, headers: reliable }); // a retransmission
    await f.bob.expectNoRequest('PRACK', 6 * T1);
    const early = await f.alice.waitResponseTo(invite, (r) => r.status === 183, 3000);
    assert.ok(early.body.length > 0, 'the early media reach the caller');
    await assert.rejects(f.alice.waitResponseTo(invite, (r) => r.status === 183, 4 * T1), /no response/, 'the retransmission is not relayed');

    f.bob.respond(inbound, 200, 'OK', { sdp: answer });
    const ok = await final;
    const byeIn = await ackAndHangUp(invite, ok, invite.cseq.seq + 1);
    assert.ok(byeIn.cseq.seq > prackIn.cseq.seq, 'the BYE numbered after the PRACK');
  });

  it('MUST PRACK in at most 16 early dialogs of one callee (each To tag is a dialog)', async () => {
    const invite = f.alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000) });
    const final = f.alice.transact(invite, 10000);
    const inbound = await f.bob.waitRequest('INVITE', 5000);
    for (let i = 0; i < 20; i++) f.bob.respond(inbound, 180, 'Ringing', { toTag: `t${i}`, headers: [['Require', '100rel'], ['RSeq', '1']] });
    let pracks = 0;
    while ((await f.bob.waitRequest('PRACK', 10 * T1, (r) => r.callId === inbound.callId).catch(() => undefined)) !== undefined) pracks++;
    assert.equal(pracks, 16);
    const cancel = f.alice.request('CANCEL', 'sip:bob@127.0.0.1', { callId: invite.callId, cseq: invite.cseq.seq, from: invite.from, to: invite.to });
    cancel.via = [invite.via[0]!];
    f.alice.send(cancel);
    f.bob.respond(await f.bob.waitRequest('CANCEL', 3000), 200, 'OK');
    f.bob.respond(inbound, 487, 'Request Terminated', { toTag: 't0' });
    assert.equal((await final).status, 487);
  });

  it('MUST NOT ask a callee for reliable 18x when the caller made no offer (§5: the PRACK would have to answer)', async () => {
    const invite = f.alice.request('INVITE', 'sip:bob@127.0.0.1');
    const final = f.alice.transact(invite, 10000);
    const inbound = await f.bob.waitRequest('INVITE', 5000);
    assert.equal(inbound.body.length, 0, 'a delayed offer');
    assert.doesNotMatch(inbound.headers.getAll('Supported').join(', '), /100rel/);
    f.bob.respond(inbound, 486, 'Busy Here');
    assert.equal((await final).status, 486);
    await f.bob.waitRequest('ACK', 3000, (r) => r.callId === inbound.callId);
  });

  it('MUST list PRACK in Allow and 100rel in Supported (OPTIONS, RFC 3262 §4)', async () => {
    const res = await f.alice.transact(f.alice.request('OPTIONS', 'sip:127.0.0.1'), 3000);
    assert.equal(res.status, 200);
    assert.match(res.headers.getAll('Allow').join(', '), /\bPRACK\b/);
    assert.match(res.headers.getAll('Supported').join(', '), /\b100rel\b/);
  });
});
