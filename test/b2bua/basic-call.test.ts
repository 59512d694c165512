/**
 * RFC 3261 §13, §15 through the B2BUA: an on-net call between two registered devices over TLS,
 * with topology hiding (issue 5 §1) checked on what the callee receives.
 */
import assert from 'node:assert/strict';
import { serializeNameAddr } from '../../gateway/sip/message/grammar';
import { tagOf } from '../../gateway/sip/message/message';
import { labWithPair } from './harness';
import { srtpAnswer, srtpSdp, uacDialog } from './sip-ua';

describe('B2BUA basic call (RFC 3261 §13, §15)', function () {
  this.timeout(20000);
  const f = labWithPair();

  it('MUST connect f.alice to f.bob with two separate dialogs and hide f.alice topology', async () => {
    const offer = srtpSdp(31000);
    const invite = f.alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: offer, headers: [['P-Asserted-Identity', '<sip:mallory@evil>'], ['Privacy', 'none'], ['X-Secret', 'internal']] });
    const final = f.alice.transact(invite, 8000);
    const inb = await f.bob.waitRequest('INVITE', 5000);
    // §1 topology hiding: new Call-ID, tags, Via, Contact; nothing else of alice's request.
    assert.notEqual(inb.callId, invite.callId);
    assert.equal(inb.via.length, 1);
    assert.notEqual(tagOf(inb.from), f.alice.tag);
    assert.equal(inb.headers.get('X-Secret'), undefined);
    assert.equal(inb.headers.get('P-Asserted-Identity'), undefined, 'a user PAI is not believed');
    assert.equal(inb.headers.get('Privacy'), 'none');
    assert.match(serializeNameAddr(inb.from), /sip:alice@127\.0\.0\.1/);
    const inSdp = inb.body.toString();
    assert.match(inSdp, /RTP\/SAVP/);
    assert.doesNotMatch(inSdp, /m=audio 31000 /, 'the media address is the engine, not alice');
    const aliceKey = /inline:([^\s|]+)/.exec(offer)![1];
    assert.ok(!inSdp.includes(aliceKey), 'alice SDES key never reaches bob');

    f.bob.respond(inb, 180, 'Ringing');
    const ringing = await f.alice.waitResponseTo(invite, (r) => r.status === 180, 3000);
    assert.ok(tagOf(ringing.to));
    const answer = srtpAnswer(inSdp, 32000);
    f.bob.respond(inb, 200, 'OK', { sdp: answer });
    const ok = await final;
    assert.equal(ok.status, 200);
    assert.doesNotMatch(ok.body.toString(), /m=audio 32000 /);
    assert.equal(tagOf(ok.to), tagOf(ringing.to), 'the 180 and the 200 belong to one early dialog');
    // The gateway ACKs f.bob itself.
    const bobAck = await f.bob.waitRequest('ACK', 3000);
    assert.equal(bobAck.callId, inb.callId);

    const ad = uacDialog(invite, ok);
    f.alice.send(f.alice.inDialog('ACK', ad, invite.cseq.seq));
    const bye = f.alice.inDialog('BYE', ad, invite.cseq.seq + 1);
    f.alice.send(bye);
    const byeAtBob = await f.bob.waitRequest('BYE', 3000);
    assert.equal(byeAtBob.callId, inb.callId);
    assert.equal(tagOf(byeAtBob.from), tagOf(inb.from));
    assert.equal(tagOf(byeAtBob.to), f.bob.tag);
    assert.equal((await f.alice.finalFor(bye)).status, 200);
    // Nothing of the dialog is left.
    await waitFor(() => f.lab.t.gw.b2bua.list().length === 0, 2000);
  });
});

export async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
