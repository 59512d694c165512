/**
 * How calls end without a BYE from their users (issue 5 §4, §5): session timers (RFC 4028 §10,
 * refresh and expiry), a missing ACK (RFC 3261 §13.3.1.4), the maximum call duration, media
 * inactivity (the engine's `timeout` event) and a blocked user.
 */
import assert from 'node:assert/strict';
import type { CallEnd } from '../../gateway/b2bua';
import { establish, waitFor } from './flows';
import { startLab, type CallsLab } from './harness';
import { srtpAnswer, srtpSdp, type SipUa } from './sip-ua';

function nextEnd(lab: CallsLab): Promise<CallEnd> {
  return new Promise((resolve) => lab.t.gw.b2bua.once('callEnded', (_i, end) => resolve(end)));
}

describe('B2BUA teardown of dead calls', function () {
  this.timeout(30000);

  describe('session timers, ACK timeout, maximum duration, blocks', () => {
    let lab: CallsLab;
    let alice: SipUa;
    let bob: SipUa;

    before(async () => {
      // T1 = 50 ms: the 64*T1 ACK wait is 3.2 s. Calls last at most 5 s.
      lab = await startLab(['sip.timers.t1=50', 'calls.maxDurationSec=5']);
      alice = await lab.device('alice');
      bob = await lab.device('bob');
    });
    after(async () => {
      await lab?.stop();
    });
    afterEach(async () => {
      await waitFor(() => lab.t.gw.b2bua.list().length === 0, 8000, 'calls over');
      for (const ua of [alice, bob]) {
        ua.requests.length = 0;
        ua.responses.length = 0;
      }
    });

    it('MUST negotiate a session timer with the caller (RFC 4028 §9: refresher uac, Require: timer)', async () => {
      const e = await establish(alice, bob, 'sip:bob@127.0.0.1', { headers: [['Supported', 'timer'], ['Session-Expires', '600']] });
      assert.equal(e.ok.headers.get('Session-Expires'), '600;refresher=uac');
      assert.ok(e.ok.headers.getAll('Require').includes('timer'));
      assert.equal(e.inbound.headers.get('Session-Expires'), '1800', 'the callee leg asks for our own interval');
      assert.equal(e.inbound.headers.get('Min-SE'), '90');
      alice.send(alice.inDialog('BYE', e.caller, e.cseq.caller++));
      await bob.waitRequest('BYE', 3000);
    });

    it('MUST refresh the callee leg at half the interval when it is the refresher (UPDATE, §10)', async () => {
      const e = await establish(alice, bob, 'sip:bob@127.0.0.1', { calleeHeaders: [['Session-Expires', '2;refresher=uac'], ['Allow', 'INVITE, ACK, BYE, CANCEL, UPDATE']] });
      const update = await bob.waitRequest('UPDATE', 2500);
      assert.equal(update.callId, e.inbound.callId);
      assert.match(update.headers.get('Session-Expires') ?? '', /^2;refresher=uac$/);
      bob.respond(update, 200, 'OK', { headers: [['Session-Expires', '2;refresher=uac']] });
      const again = await bob.waitRequest('UPDATE', 2500);
      bob.respond(again, 200, 'OK', { headers: [['Session-Expires', '2;refresher=uac']] });
      assert.equal(lab.t.gw.b2bua.list().length, 1, 'refreshed calls live on');
      alice.send(alice.inDialog('BYE', e.caller, e.cseq.caller++));
      await bob.waitRequest('BYE', 3000);
    });

    it('MUST end the call when the refresher does not refresh in time (§10: BYE both legs)', async () => {
      const ended = nextEnd(lab);
      const started = Date.now();
      const e = await establish(alice, bob, 'sip:bob@127.0.0.1', { calleeHeaders: [['Session-Expires', '2;refresher=uas']] });
      const end = await ended;
      assert.equal(end.cause, 'session-timer');
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 1200 && elapsed < 2500, `ended after ${elapsed} ms (2 s − 2/3 s expected)`);
      const byeA = await alice.waitRequest('BYE', 2000);
      assert.equal(byeA.callId, e.invite.callId);
      assert.match(byeA.headers.get('Reason') ?? '', /Session timer expired/);
      await bob.waitRequest('BYE', 2000);
    });

    it('MUST end a call whose 2xx is never ACKed (§13.3.1.4)', async () => {
      const ended = nextEnd(lab);
      const invite = alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000) });
      const final = alice.transact(invite, 8000);
      const inb = await bob.waitRequest('INVITE', 5000);
      bob.respond(inb, 200, 'OK', { sdp: srtpAnswer(inb.body.toString(), 30300) });
      const ok = await final;
      assert.equal(ok.status, 200);
      // No ACK from alice.
      const end = await ended;
      assert.equal(end.cause, 'no-ack');
      await bob.waitRequest('BYE', 2000);
    });

    it('MUST end a call at the maximum duration', async () => {
      const ended = nextEnd(lab);
      await establish(alice, bob, 'sip:bob@127.0.0.1');
      const end = await ended;
      assert.equal(end.cause, 'max-duration');
      assert.equal(end.answered, true);
      await alice.waitRequest('BYE', 2000);
      await bob.waitRequest('BYE', 2000);
    });

    it('MUST end a blocked user\'s calls at once (BYE both legs)', async () => {
      const e = await establish(alice, bob, 'sip:bob@127.0.0.1');
      const ended = nextEnd(lab);
      const t0 = Date.now();
      await lab.t.gw.registrar.blockUser('bob');
      const end = await ended;
      assert.ok(Date.now() - t0 < 1000);
      assert.equal(end.cause, 'blocked');
      const bye = await alice.waitRequest('BYE', 1000);
      assert.equal(bye.callId, e.invite.callId);
      assert.match(bye.headers.get('Reason') ?? '', /blocked/);
    });
  });

  describe('media inactivity', () => {
    let lab: CallsLab;
    let alice: SipUa;
    let bob: SipUa;

    before(async () => {
      lab = await startLab(['media.inactivitySec=1']);
      alice = await lab.device('alice');
      bob = await lab.device('bob');
    });
    after(async () => {
      await lab?.stop();
    });

    it('MUST end a call whose media stopped (the engine\'s timeout event)', async () => {
      const ended = nextEnd(lab);
      await establish(alice, bob, 'sip:bob@127.0.0.1');
      const end = await ended;
      assert.equal(end.cause, 'media-timeout');
      assert.match((await alice.waitRequest('BYE', 3000)).headers.get('Reason') ?? '', /Media timeout/);
      await bob.waitRequest('BYE', 3000);
    });

    it('MUST end a call whose media the engine lost (its failed event) as a failure of ours, not a timeout', async () => {
      await establish(alice, bob, 'sip:bob@127.0.0.1');
      const [info] = lab.t.gw.b2bua.list();
      assert.ok(info, 'the call is up');
      const ended = nextEnd(lab);
      // What the engine reports when the call's relay thread stops (media/engine warm-streams test).
      lab.t.gw.media.emit('failed', { callId: info.mediaId, reason: 'relay-lost' });
      const end = await ended;
      assert.equal(end.cause, 'media-failed');
      for (const ua of [alice, bob]) assert.match((await ua.waitRequest('BYE', 3000)).headers.get('Reason') ?? '', /cause=500;text="Media relay failure"/);
    });
  });
});
