/**
 * Issue 5 §4 dialog handling: re-INVITE (hold, a re-INVITE without SDP), UPDATE, INFO, REFER,
 * BYE from the callee, glare and unknown dialogs (RFC 3261 §12.2.2, §14; RFC 3311; RFC 6086).
 */
import assert from 'node:assert/strict';
import { establish, hangup, waitFor, type Established } from './flows';
import { labWithPair } from './harness';
import { srtpAnswer, srtpSdp } from './sip-ua';

describe('B2BUA requests inside a call (RFC 3261 §14, RFC 3311, RFC 6086)', function () {
  this.timeout(20000);
  const f = labWithPair();
  let e: Established;
  beforeEach(async () => {
    e = await establish(f.alice, f.bob, 'sip:bob@127.0.0.1');
  });
  afterEach(async () => {
    if (f.lab.t.gw.b2bua.list().length > 0) await hangup(f.alice, e).catch(() => undefined);
    await waitFor(() => f.lab.t.gw.b2bua.list().length === 0, 3000, 'calls over');
    for (const ua of [f.alice, f.bob]) {
      ua.requests.length = 0;
      ua.responses.length = 0;
    }
  });

  it('MUST relay a hold (sendonly) re-INVITE through the engine and its answer back', async () => {
    const reinvite = f.alice.inDialog('INVITE', e.caller, e.cseq.caller++, { sdp: srtpSdp(30000, 2, 'sendonly') });
    f.alice.send(reinvite);
    const atBob = await f.bob.waitRequest('INVITE', 3000);
    assert.equal(atBob.callId, e.inbound.callId, 'inside the callee dialog');
    assert.match(atBob.body.toString(), /a=sendonly/);
    f.bob.respond(atBob, 200, 'OK', { sdp: srtpAnswer(atBob.body.toString(), 30300, 2, 'recvonly') });
    const ok = await f.alice.finalFor(reinvite);
    assert.equal(ok.status, 200);
    assert.match(ok.body.toString(), /a=recvonly/);
    await f.bob.waitRequest('ACK', 3000);
    f.alice.send(f.alice.inDialog('ACK', e.caller, reinvite.cseq.seq));
  });

  it('MUST answer a re-INVITE with an unchanged SDP version itself (a session refresh)', async () => {
    const reinvite = f.alice.inDialog('INVITE', e.caller, e.cseq.caller++, { sdp: e.invite.body.toString() });
    f.alice.send(reinvite);
    const ok = await f.alice.finalFor(reinvite);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), e.ok.body.toString(), 'the same answer again');
    await f.bob.expectNoRequest('INVITE', 300);
  });

  it('MUST pass a re-INVITE without SDP: offer in the 2xx, answer in the ACK', async () => {
    const reinvite = f.bob.inDialog('INVITE', e.callee, e.cseq.callee++);
    f.bob.send(reinvite);
    const atAlice = await f.alice.waitRequest('INVITE', 3000);
    assert.equal(atAlice.body.length, 0);
    f.alice.respond(atAlice, 200, 'OK', { sdp: srtpSdp(30000, 3) });
    const ok = await f.bob.finalFor(reinvite);
    assert.equal(ok.status, 200);
    const offer = ok.body.toString();
    assert.match(offer, /a=crypto:/, 'the offer for f.bob is the engine\'s');
    f.bob.send(f.bob.inDialog('ACK', e.callee, reinvite.cseq.seq, { sdp: srtpAnswer(offer, 30300, 3) }));
    const ack = await f.alice.waitRequest('ACK', 3000, (a) => a.cseq.seq === atAlice.cseq.seq);
    assert.match(ack.body.toString(), /a=crypto:/, 'alice gets the answer in the ACK');
  });

  it('MUST answer an UPDATE without SDP itself and relay one with SDP (RFC 3311)', async () => {
    const refresh = f.alice.inDialog('UPDATE', e.caller, e.cseq.caller++);
    f.alice.send(refresh);
    assert.equal((await f.alice.finalFor(refresh)).status, 200);
    await f.bob.expectNoRequest('UPDATE', 200);
    const update = f.alice.inDialog('UPDATE', e.caller, e.cseq.caller++, { sdp: srtpSdp(30000, 4, 'inactive') });
    f.alice.send(update);
    // bob's INVITE did not list UPDATE in Allow: the offer reaches it as a re-INVITE.
    const atBob = await f.bob.waitRequest('INVITE', 3000);
    assert.match(atBob.body.toString(), /a=inactive/);
    f.bob.respond(atBob, 200, 'OK', { sdp: srtpAnswer(atBob.body.toString(), 30300, 4, 'inactive') });
    const ok = await f.alice.finalFor(update);
    assert.equal(ok.status, 200);
    assert.match(ok.body.toString(), /a=inactive/);
  });

  it('MUST pass INFO with its body and return the far end\'s status', async () => {
    const info = f.alice.inDialog('INFO', e.caller, e.cseq.caller++, { body: Buffer.from('Signal=5\r\nDuration=160\r\n'), contentType: 'application/dtmf-relay' });
    f.alice.send(info);
    const atBob = await f.bob.waitRequest('INFO', 3000);
    assert.equal(atBob.headers.get('Content-Type'), 'application/dtmf-relay');
    assert.equal(atBob.body.toString(), 'Signal=5\r\nDuration=160\r\n');
    f.bob.respond(atBob, 200, 'OK');
    assert.equal((await f.alice.finalFor(info)).status, 200);
  });

  it('MUST refuse REFER on a call between two users with 501 and keep the call (transfer is for trunk calls)', async () => {
    const refer = f.alice.inDialog('REFER', e.caller, e.cseq.caller++, { headers: [['Refer-To', '<sip:carol@127.0.0.1>']] });
    f.alice.send(refer);
    const res = await f.alice.finalFor(refer);
    assert.equal(res.status, 501);
    assert.match(res.reason, /Transfer Only For Calls To Trunks/);
    assert.equal(f.lab.t.gw.b2bua.list().length, 1);
    const opts = f.alice.request('OPTIONS', 'sip:127.0.0.1');
    f.alice.send(opts);
    const allow = (await f.alice.finalFor(opts)).headers.getAll('Allow').join(', ');
    assert.match(allow, /REFER/, 'REFER is advertised (calls.transfer is on by default)');
    assert.match(allow, /UPDATE/);
  });

  it('MUST end the call on a BYE from the callee and BYE the caller', async () => {
    const bye = f.bob.inDialog('BYE', e.callee, e.cseq.callee++);
    f.bob.send(bye);
    assert.equal((await f.bob.finalFor(bye)).status, 200);
    const atAlice = await f.alice.waitRequest('BYE', 3000);
    assert.equal(atAlice.callId, e.invite.callId);
    await waitFor(() => f.lab.t.gw.b2bua.list().length === 0, 2000, 'call removed');
  });

  it('MUST answer 491 to a re-INVITE while another offer is pending (§14.2 glare)', async () => {
    const first = f.alice.inDialog('INVITE', e.caller, e.cseq.caller++, { sdp: srtpSdp(30000, 5, 'sendonly') });
    f.alice.send(first);
    const atBob = await f.bob.waitRequest('INVITE', 3000);
    const second = f.bob.inDialog('INVITE', e.callee, e.cseq.callee++, { sdp: srtpSdp(30300, 9) });
    f.bob.send(second);
    assert.equal((await f.bob.finalFor(second)).status, 491);
    f.bob.respond(atBob, 200, 'OK', { sdp: srtpAnswer(atBob.body.toString(), 30300, 2, 'recvonly') });
    assert.equal((await f.alice.finalFor(first)).status, 200);
    f.alice.send(f.alice.inDialog('ACK', e.caller, first.cseq.seq));
  });

  it('MUST answer 481 to a request for an unknown dialog and 500 to an out-of-order CSeq', async () => {
    const stray = f.alice.inDialog('BYE', { ...e.caller, callId: 'nope' }, 1);
    f.alice.send(stray);
    assert.equal((await f.alice.finalFor(stray)).status, 481);
    const old = f.alice.inDialog('INFO', e.caller, e.invite.cseq.seq - 1);
    f.alice.send(old);
    assert.equal((await f.alice.finalFor(old)).status, 500);
  });
});
