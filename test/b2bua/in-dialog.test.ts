/**
 * Issue 5 §4 dialog handling: re-INVITE (hold, a re-INVITE without SDP), UPDATE, INFO, REFER,
 * BYE from the callee, glare and unknown dialogs (RFC 3261 §12.2.2, §14; RFC 3311; RFC 6086).
 */
import assert from 'node:assert/strict';
import { establish, hangup, waitFor, type Established } from './flows';
import { startLab, type CallsLab } from './harness';
import { srtpAnswer, srtpSdp, type SipUa } from './sip-ua';

describe('B2BUA requests inside a call (RFC 3261 §14, RFC 3311, RFC 6086)', function () {
  this.timeout(20000);
  let lab: CallsLab;
  let alice: SipUa;
  let bob: SipUa;
  let e: Established;

  before(async () => {
    lab = await startLab();
    alice = await lab.device('alice');
    bob = await lab.device('bob');
  });
  after(async () => {
    await lab?.stop();
  });
  beforeEach(async () => {
    e = await establish(alice, bob, 'sip:bob@127.0.0.1');
  });
  afterEach(async () => {
    if (lab.t.gw.b2bua.list().length > 0) await hangup(alice, e).catch(() => undefined);
    await waitFor(() => lab.t.gw.b2bua.list().length === 0, 3000, 'calls over');
    for (const ua of [alice, bob]) {
      ua.requests.length = 0;
      ua.responses.length = 0;
    }
  });

  it('MUST relay a hold (sendonly) re-INVITE through the engine and its answer back', async () => {
    const reinvite = alice.inDialog('INVITE', e.caller, e.cseq.caller++, { sdp: srtpSdp(30000, 2, 'sendonly') });
    alice.send(reinvite);
    const atBob = await bob.waitRequest('INVITE', 3000);
    assert.equal(atBob.callId, e.inbound.callId, 'inside the callee dialog');
    assert.match(atBob.body.toString(), /a=sendonly/);
    bob.respond(atBob, 200, 'OK', { sdp: srtpAnswer(atBob.body.toString(), 30300, 2, 'recvonly') });
    const ok = await alice.finalFor(reinvite);
    assert.equal(ok.status, 200);
    assert.match(ok.body.toString(), /a=recvonly/);
    await bob.waitRequest('ACK', 3000);
    alice.send(alice.inDialog('ACK', e.caller, reinvite.cseq.seq));
  });

  it('MUST answer a re-INVITE with an unchanged SDP version itself (a session refresh)', async () => {
    const reinvite = alice.inDialog('INVITE', e.caller, e.cseq.caller++, { sdp: e.invite.body.toString() });
    alice.send(reinvite);
    const ok = await alice.finalFor(reinvite);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), e.ok.body.toString(), 'the same answer again');
    await bob.expectNoRequest('INVITE', 300);
  });

  it('MUST pass a re-INVITE without SDP: offer in the 2xx, answer in the ACK', async () => {
    const reinvite = bob.inDialog('INVITE', e.callee, e.cseq.callee++);
    bob.send(reinvite);
    const atAlice = await alice.waitRequest('INVITE', 3000);
    assert.equal(atAlice.body.length, 0);
    alice.respond(atAlice, 200, 'OK', { sdp: srtpSdp(30000, 3) });
    const ok = await bob.finalFor(reinvite);
    assert.equal(ok.status, 200);
    const offer = ok.body.toString();
    assert.match(offer, /a=crypto:/, 'the offer for bob is the engine\'s');
    bob.send(bob.inDialog('ACK', e.callee, reinvite.cseq.seq, { sdp: srtpAnswer(offer, 30300, 3) }));
    const ack = await alice.waitRequest('ACK', 3000, (a) => a.cseq.seq === atAlice.cseq.seq);
    assert.match(ack.body.toString(), /a=crypto:/, 'alice gets the answer in the ACK');
  });

  it('MUST answer an UPDATE without SDP itself and relay one with SDP (RFC 3311)', async () => {
    const refresh = alice.inDialog('UPDATE', e.caller, e.cseq.caller++);
    alice.send(refresh);
    assert.equal((await alice.finalFor(refresh)).status, 200);
    await bob.expectNoRequest('UPDATE', 200);
    const update = alice.inDialog('UPDATE', e.caller, e.cseq.caller++, { sdp: srtpSdp(30000, 4, 'inactive') });
    alice.send(update);
    // bob's INVITE did not list UPDATE in Allow: the offer reaches it as a re-INVITE.
    const atBob = await bob.waitRequest('INVITE', 3000);
    assert.match(atBob.body.toString(), /a=inactive/);
    bob.respond(atBob, 200, 'OK', { sdp: srtpAnswer(atBob.body.toString(), 30300, 4, 'inactive') });
    const ok = await alice.finalFor(update);
    assert.equal(ok.status, 200);
    assert.match(ok.body.toString(), /a=inactive/);
  });

  it('MUST pass INFO with its body and return the far end\'s status', async () => {
    const info = alice.inDialog('INFO', e.caller, e.cseq.caller++, { body: Buffer.from('Signal=5\r\nDuration=160\r\n'), contentType: 'application/dtmf-relay' });
    alice.send(info);
    const atBob = await bob.waitRequest('INFO', 3000);
    assert.equal(atBob.headers.get('Content-Type'), 'application/dtmf-relay');
    assert.equal(atBob.body.toString(), 'Signal=5\r\nDuration=160\r\n');
    bob.respond(atBob, 200, 'OK');
    assert.equal((await alice.finalFor(info)).status, 200);
  });

  it('MUST refuse REFER on a call between two users with 501 and keep the call (transfer is for trunk calls)', async () => {
    const refer = alice.inDialog('REFER', e.caller, e.cseq.caller++, { headers: [['Refer-To', '<sip:carol@127.0.0.1>']] });
    alice.send(refer);
    const res = await alice.finalFor(refer);
    assert.equal(res.status, 501);
    assert.match(res.reason, /Transfer Only For Calls To Trunks/);
    assert.equal(lab.t.gw.b2bua.list().length, 1);
    const opts = alice.request('OPTIONS', 'sip:127.0.0.1');
    alice.send(opts);
    const allow = (await alice.finalFor(opts)).headers.getAll('Allow').join(', ');
    assert.match(allow, /REFER/, 'REFER is advertised (calls.transfer is on by default)');
    assert.match(allow, /UPDATE/);
  });

  it('MUST end the call on a BYE from the callee and BYE the caller', async () => {
    const bye = bob.inDialog('BYE', e.callee, e.cseq.callee++);
    bob.send(bye);
    assert.equal((await bob.finalFor(bye)).status, 200);
    const atAlice = await alice.waitRequest('BYE', 3000);
    assert.equal(atAlice.callId, e.invite.callId);
    await waitFor(() => lab.t.gw.b2bua.list().length === 0, 2000, 'call removed');
  });

  it('MUST answer 491 to a re-INVITE while another offer is pending (§14.2 glare)', async () => {
    const first = alice.inDialog('INVITE', e.caller, e.cseq.caller++, { sdp: srtpSdp(30000, 5, 'sendonly') });
    alice.send(first);
    const atBob = await bob.waitRequest('INVITE', 3000);
    const second = bob.inDialog('INVITE', e.callee, e.cseq.callee++, { sdp: srtpSdp(30300, 9) });
    bob.send(second);
    assert.equal((await bob.finalFor(second)).status, 491);
    bob.respond(atBob, 200, 'OK', { sdp: srtpAnswer(atBob.body.toString(), 30300, 2, 'recvonly') });
    assert.equal((await alice.finalFor(first)).status, 200);
    alice.send(alice.inDialog('ACK', e.caller, first.cseq.seq));
  });

  it('MUST answer 481 to a request for an unknown dialog and 500 to an out-of-order CSeq', async () => {
    const stray = alice.inDialog('BYE', { ...e.caller, callId: 'nope' }, 1);
    alice.send(stray);
    assert.equal((await alice.finalFor(stray)).status, 481);
    const old = alice.inDialog('INFO', e.caller, e.invite.cseq.seq - 1);
    alice.send(old);
    assert.equal((await alice.finalFor(old)).status, 500);
  });
});
