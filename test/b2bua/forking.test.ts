/**
 * Issue 5 §2 forking and §4 CANCEL (RFC 3261 §9, §13.2.2.4, §16.7): a user's devices ring in
 * parallel, the first 2xx wins, the others get CANCEL, a late 2xx gets ACK and BYE; a caller's
 * CANCEL gives it 487 and stops every device ringing.
 */
import assert from 'node:assert/strict';
import { tagOf } from '../../gateway/sip/message/message';
import { establish, hangup, waitFor } from './flows';
import { startLab, type CallsLab } from './harness';
import { srtpAnswer, srtpSdp, type SipUa } from './sip-ua';

describe('B2BUA forking and CANCEL (RFC 3261 §9, §16.7)', function () {
  this.timeout(20000);
  let lab: CallsLab;
  let alice: SipUa;
  let bob1: SipUa;
  let bob2: SipUa;

  before(async () => {
    lab = await startLab();
    alice = await lab.device('alice');
    bob1 = await lab.device('bob');
    bob2 = await lab.device('bob');
  });
  after(async () => {
    await lab?.stop();
  });
  afterEach(async () => {
    await waitFor(() => lab.t.gw.b2bua.list().length === 0, 3000, 'calls over');
    for (const ua of [alice, bob1, bob2]) {
      ua.requests.length = 0;
      ua.responses.length = 0;
    }
  });

  it('MUST ring every device in parallel and CANCEL the others when one answers', async () => {
    const invite = alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000) });
    const final = alice.transact(invite, 8000);
    const in1 = await bob1.waitRequest('INVITE', 5000);
    const in2 = await bob2.waitRequest('INVITE', 5000);
    assert.notEqual(in1.callId, in2.callId, 'each device gets a dialog of its own');
    // RFC 4568 §6.1: each device is a leg of its own and gets SDES keys of its own.
    const keys = (body: Buffer): string[] => [...body.toString().matchAll(/inline:([A-Za-z0-9+/=]+)/g)].map((m) => m[1]!);
    const k1 = keys(in1.body);
    const k2 = keys(in2.body);
    assert.ok(k1.length > 0 && k2.length > 0, 'both offers are SDES-keyed');
    assert.deepEqual(k1.filter((k) => k2.includes(k)), [], 'no key is offered to both devices');
    bob1.respond(in1, 180, 'Ringing');
    bob2.respond(in2, 180, 'Ringing');
    bob2.respond(in2, 200, 'OK', { sdp: srtpAnswer(in2.body.toString(), 30400) });
    const cancel = await bob1.waitRequest('CANCEL', 3000);
    assert.equal(cancel.callId, in1.callId);
    bob1.respond(cancel, 200, 'OK');
    bob1.respond(in1, 487, 'Request Terminated');
    assert.equal((await final).status, 200);
    await bob2.waitRequest('ACK', 3000);
    const ok = alice.responses.find((r) => r.status === 200) ?? (await final);
    const e = { invite, ok, caller: { callId: invite.callId, local: invite.from, remote: ok.to, target: 'sip:127.0.0.1' } };
    alice.send(alice.inDialog('ACK', e.caller, invite.cseq.seq));
    const bye = alice.inDialog('BYE', e.caller, invite.cseq.seq + 1);
    alice.send(bye);
    assert.equal((await bob2.waitRequest('BYE', 3000)).callId, in2.callId);
    assert.equal((await alice.finalFor(bye)).status, 200);
    await bob1.expectNoRequest('BYE', 300);
  });

  it('MUST ACK and BYE a second device that answers after the winner', async () => {
    const invite = alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000) });
    const final = alice.transact(invite, 8000);
    const in1 = await bob1.waitRequest('INVITE', 5000);
    const in2 = await bob2.waitRequest('INVITE', 5000);
    bob1.respond(in1, 180, 'Ringing');
    bob2.respond(in2, 200, 'OK', { sdp: srtpAnswer(in2.body.toString(), 30400) });
    // bob1 answers too, crossing the CANCEL (it never answers the CANCEL's INVITE with 487).
    bob1.respond(in1, 200, 'OK', { sdp: srtpAnswer(in1.body.toString(), 30500), toTag: 'late' });
    const ack = await bob1.waitRequest('ACK', 3000);
    assert.equal(tagOf(ack.to), 'late');
    const bye = await bob1.waitRequest('BYE', 3000);
    assert.equal(bye.callId, in1.callId);
    assert.match(bye.headers.get('Reason') ?? '', /Call completed elsewhere/);
    const ok = await final;
    assert.equal(ok.status, 200);
    const e = { callId: invite.callId, local: invite.from, remote: ok.to, target: 'sip:127.0.0.1' };
    alice.send(alice.inDialog('ACK', e, invite.cseq.seq));
    alice.send(alice.inDialog('BYE', e, invite.cseq.seq + 1));
    await bob2.waitRequest('BYE', 3000);
  });

  it('MUST answer the caller 487 on CANCEL and cancel every ringing device', async () => {
    const invite = alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000) });
    const final = alice.transact(invite, 8000);
    const in1 = await bob1.waitRequest('INVITE', 5000);
    const in2 = await bob2.waitRequest('INVITE', 5000);
    bob1.respond(in1, 180, 'Ringing');
    bob2.respond(in2, 180, 'Ringing');
    await alice.waitResponseTo(invite, (r) => r.status === 180, 3000);
    const cancel = alice.request('CANCEL', 'sip:bob@127.0.0.1', { callId: invite.callId, cseq: invite.cseq.seq, from: invite.from, to: invite.to });
    cancel.via = [invite.via[0]!];
    const cancelled = lab.t.gw.b2bua;
    const ended = new Promise<number>((resolve) => cancelled.once('callEnded', (_i, end) => resolve(end.status)));
    alice.send(cancel);
    assert.equal((await alice.finalFor(cancel)).status, 200);
    assert.equal((await final).status, 487);
    assert.equal(await ended, 487);
    for (const [ua, inv] of [[bob1, in1], [bob2, in2]] as const) {
      const c = await ua.waitRequest('CANCEL', 3000, (r) => r.callId === inv.callId);
      ua.respond(c, 200, 'OK');
      ua.respond(inv, 487, 'Request Terminated');
    }
  });

  it('MUST offer fresh keys when it retries a device after 422 (RFC 4028 §7.3, RFC 4568 §6.1)', async () => {
    const invite = alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000) });
    const final = alice.transact(invite, 8000);
    const in1 = await bob1.waitRequest('INVITE', 5000);
    const in2 = await bob2.waitRequest('INVITE', 5000);
    bob2.respond(in2, 480, 'Temporarily Unavailable');
    bob1.respond(in1, 422, 'Session Interval Too Small', { headers: [['Min-SE', '3600']] });
    const retry = await bob1.waitRequest('INVITE', 5000, (r) => r.callId === in1.callId && r.cseq.seq === in1.cseq.seq + 1);
    assert.equal(retry.headers.get('Min-SE'), '3600');
    const keys = (body: Buffer): string[] => [...body.toString().matchAll(/inline:([A-Za-z0-9+/=]+)/g)].map((m) => m[1]!);
    assert.ok(keys(retry.body).length > 0, 'the retry is SDES-keyed');
    assert.deepEqual(keys(retry.body).filter((k) => keys(in1.body).includes(k)), [], 'no key of the refused INVITE is offered again');
    bob1.respond(retry, 486, 'Busy Here');
    assert.equal((await final).status, 486);
  });

  it('MUST give the caller the best refusal of all devices (busy over unavailable)', async () => {
    const invite = alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000) });
    const final = alice.transact(invite, 8000);
    const in1 = await bob1.waitRequest('INVITE', 5000);
    const in2 = await bob2.waitRequest('INVITE', 5000);
    bob1.respond(in1, 480, 'Somewhere Internal');
    bob2.respond(in2, 486, 'Busy Here');
    const res = await final;
    assert.equal(res.status, 486);
    assert.equal(res.reason, 'Busy Here');
  });

  it('MUST let a device decline for every device (6xx wins)', async () => {
    const invite = alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000) });
    const final = alice.transact(invite, 8000);
    const in1 = await bob1.waitRequest('INVITE', 5000);
    const in2 = await bob2.waitRequest('INVITE', 5000);
    bob2.respond(in2, 180, 'Ringing');
    bob1.respond(in1, 603, 'Decline');
    // §16.7 step 6: a 6xx ends the search; the other device stops ringing at once.
    assert.equal((await final).status, 603);
    const c = await bob2.waitRequest('CANCEL', 3000);
    bob2.respond(c, 200, 'OK');
    bob2.respond(in2, 487, 'Request Terminated');
  });

  it('MUST keep working for a plain call after forking tests (sanity)', async () => {
    // Only bob1 answers; bob2 gets CANCEL.
    const p = establish(alice, bob1, 'sip:bob@127.0.0.1');
    const in2 = await bob2.waitRequest('INVITE', 5000);
    // §9.1: a CANCEL waits for a provisional response.
    bob2.respond(in2, 180, 'Ringing');
    const e = await p;
    const c = await bob2.waitRequest('CANCEL', 3000);
    bob2.respond(c, 200, 'OK');
    bob2.respond(in2, 487, 'Request Terminated');
    assert.equal((await hangup(alice, e)).status, 200);
  });

  it('MUST relay early media: a 183 with SDP reaches the caller answered by the engine', async () => {
    const invite = alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000) });
    const final = alice.transact(invite, 8000);
    const in1 = await bob1.waitRequest('INVITE', 5000);
    const in2 = await bob2.waitRequest('INVITE', 5000);
    const early = srtpAnswer(in1.body.toString(), 30600);
    bob1.respond(in1, 183, 'Session Progress', { sdp: early });
    const progress = await alice.waitResponseTo(invite, (r) => r.status === 183, 3000);
    const sdp = progress.body.toString();
    assert.match(sdp, /RTP\/SAVP/);
    assert.match(sdp, /a=crypto:/);
    assert.doesNotMatch(sdp, /m=audio 30600 /, 'the engine answers, not bob');
    assert.ok(!sdp.includes(/inline:([^\s|]+)/.exec(early)![1]!), 'bob\'s key never reaches alice');
    bob2.respond(in2, 180, 'Ringing');
    bob1.respond(in1, 486, 'Busy Here');
    bob2.respond(in2, 486, 'Busy Here');
    assert.equal((await final).status, 486);
  });
});
