/**
 * Blind transfer (RFC 3515 REFER, RFC 5589 §6): a user on a call with a trunk party transfers
 * that party to a number the dial plan routes to another trunk. The target is invited without SDP
 * and the transferee re-INVITEd with the engine's offer built from the target's (RFC 3725 §4.1);
 * the transferor hears of it in NOTIFYs (message/sipfrag) and leaves the call.
 *
 * Lab: alice, bob are users; `pbx` is the transferee's trunk (every number but +349155509xx),
 * `pbx2` the target's (+349155509xx).
 */
import assert from 'node:assert/strict';
import type { Call } from '../../gateway/b2bua';
import { parseUri } from '../../gateway/sip/message/grammar';
import type { SipRequest } from '../../gateway/sip/message/message';
import { serializeMessage } from '../../gateway/sip/message/serializer';
import { establish, waitFor, type Established } from './flows';
import { startLab, type CallsLab } from './harness';
import { rtpSdp, srtpAnswer, type SipUa, uacDialog, uasDialog } from './sip-ua';

const ROUTES = 'routing.rules=[{name: target, prefix: "+349155509", trunks: [pbx2]}, {name: all, prefix: "+", trunks: [pbx, pbx2]}]';
const P_NUMBER = '+34915550101';
const C_NUMBER = '+34915550901';
const C_URI = `<sip:${C_NUMBER}@127.0.0.1>`;

/** o= fields (RFC 4566 §5.2) of an SDP. */
function origin(sdp: string): string[] {
  const line = sdp.split('\r\n').find((l) => l.startsWith('o='));
  assert.ok(line !== undefined, 'SDP has an o= line');
  return line.slice(2).split(' ');
}

function sipfragOf(req: SipRequest): string {
  return req.body.toString('utf8').trim();
}

describe('B2BUA: blind transfer with REFER (RFC 3515, RFC 5589 §6)', function () {
  this.timeout(30000);
  let lab: CallsLab;
  let alice: SipUa;
  let bob: SipUa;
  let calls: Call[];

  before(async () => {
    lab = await startLab([ROUTES]);
    alice = await lab.device('alice');
    bob = await lab.device('bob');
    for (const ua of [alice, bob]) ua.autoAnswer.add('NOTIFY');
    for (const ua of [lab.pbx, lab.pbx2]) ua.autoAnswer.add('INFO');
    lab.t.gw.b2bua.on('call', (c) => calls.push(c));
  });
  after(async () => {
    await lab?.stop();
  });
  beforeEach(() => {
    calls = [];
  });
  afterEach(async function () {
    // A failed test may leave its call up: end it, so that the next one starts clean.
    if (this.currentTest?.state === 'failed') for (const c of calls) c.terminate('test-failed', 'SIP;cause=500');
    await waitFor(() => lab.t.gw.b2bua.list().length === 0, 8000, 'calls over');
    for (const ua of [alice, bob, lab.pbx, lab.pbx2]) {
      ua.requests.length = 0;
      ua.responses.length = 0;
    }
  });

  /** alice calls the trunk party P (pbx) and it answers. */
  function callOut(): Promise<Established> {
    return establish(alice, lab.pbx, `sip:${P_NUMBER}@127.0.0.1`);
  }

  /** A REFER from `ua` in its dialog of `e` (`side`: its part in the call). */
  async function refer(ua: SipUa, e: Established, referTo: string, side: 'caller' | 'callee' = 'caller'): Promise<{ req: SipRequest; status: number; reason: string }> {
    const req = ua.inDialog('REFER', side === 'caller' ? e.caller : e.callee, e.cseq[side]++, {
      headers: [['Refer-To', referTo], ['Referred-By', `<sip:${ua.user}@127.0.0.1>`]],
    });
    ua.send(req);
    const res = await ua.finalFor(req, 5000);
    return { req, status: res.status, reason: res.reason };
  }

  /** The target (pbx2) gets an INVITE without SDP and answers with its offer. */
  async function targetAnswers(): Promise<SipRequest> {
    const invite = await lab.pbx2.waitRequest('INVITE', 5000);
    lab.pbx2.respond(invite, 200, 'OK', { sdp: rtpSdp(30400) });
    return invite;
  }

  /** The transferee (pbx) gets the re-INVITE in its dialog and answers it. */
  async function transfereeAnswers(e: Established): Promise<SipRequest> {
    const reinvite = await lab.pbx.waitRequest('INVITE', 5000, (r) => r.callId === e.inbound.callId);
    lab.pbx.respond(reinvite, 200, 'OK', { sdp: rtpSdp(30500, 2) });
    await lab.pbx.waitRequest('ACK', 3000, (a) => a.callId === e.inbound.callId);
    return reinvite;
  }

  /** The target hangs up the transferred call; the transferee gets the BYE. */
  async function targetHangsUp(invite: SipRequest): Promise<void> {
    const bye = lab.pbx2.inDialog('BYE', uasDialog(invite, lab.pbx2.tag), 1);
    lab.pbx2.send(bye);
    assert.equal((await lab.pbx2.finalFor(bye, 3000)).status, 200);
    await lab.pbx.waitRequest('BYE', 3000);
  }

  describe('RFC 3515 §2.4: REFER accepted, NOTIFY of the outcome', () => {
    it('MUST connect the transferee to the target and NOTIFY 100 then 200 (caller transfers)', async () => {
      const e = await callOut();
      const call = calls[0]!;
      const { req, status } = await refer(alice, e, C_URI);
      assert.equal(status, 202);
      const trying = await alice.waitRequest('NOTIFY', 3000);
      assert.equal(trying.headers.get('Event'), `refer;id=${req.cseq.seq}`);
      assert.match(trying.headers.get('Subscription-State') ?? '', /^active;expires=\d+$/);
      assert.equal(trying.headers.get('Content-Type'), 'message/sipfrag;version=2.0');
      assert.equal(sipfragOf(trying), 'SIP/2.0 100 Trying');
      assert.ok(trying.contact !== undefined && trying.contact !== '*' && trying.contact.length === 1, 'NOTIFY has a Contact (RFC 6665)');

      const atTarget = await targetAnswers();
      assert.equal(atTarget.body.length, 0, 'RFC 3725 §4.1: the target is invited without an offer');
      assert.equal((atTarget.uri as { user?: string }).user, C_NUMBER);
      assert.equal((atTarget.from.uri as { user?: string }).user, P_NUMBER, 'the transferee is presented');
      assert.equal(atTarget.headers.get('P-Asserted-Identity'), `<sip:${P_NUMBER}@127.0.0.1>`);
      assert.equal(atTarget.headers.get('Referred-By'), undefined, 'Referred-By only when passHeaders lists it');
      const wire = serializeMessage(atTarget).toString();
      assert.ok(!wire.includes('alice') && !wire.includes(e.invite.callId) && !wire.includes(e.inbound.callId), 'nothing of the other dialogs');

      const reinvite = await transfereeAnswers(e);
      const sdpForP = reinvite.body.toString();
      const before = origin(e.inbound.body.toString());
      const after = origin(sdpForP);
      assert.equal(after[1], before[1], 'RFC 3264 §8: same session id');
      assert.equal(BigInt(after[2]!), BigInt(before[2]!) + 1n, 'RFC 3264 §8: version + 1');
      assert.ok(!sdpForP.includes('30400'), 'the engine anchors the target\'s media');

      const ack = await lab.pbx2.waitRequest('ACK', 3000, (a) => a.callId === atTarget.callId);
      assert.ok(ack.body.length > 0 && !ack.body.toString().includes('30500'), 'the ACK carries the engine\'s answer');

      const done = await alice.waitRequest('NOTIFY', 3000);
      assert.equal(sipfragOf(done), 'SIP/2.0 200 OK');
      assert.equal(done.headers.get('Subscription-State'), 'terminated;reason=noresource');
      // RFC 5589 §6: the transferor hangs up after the final NOTIFY.
      const bye = alice.inDialog('BYE', e.caller, e.cseq.caller++);
      alice.send(bye);
      assert.equal((await alice.finalFor(bye, 3000)).status, 200);

      // Media: a new engine call with the transferee and the target; the old one is gone.
      const engine = lab.t.gw.media;
      assert.notEqual(call.media.id, call.id);
      const stats = await engine.query(call.media.id);
      assert.deepEqual(new Set(stats.legs.map((l) => l.tag)), new Set(['t1', 'b1']));
      for (const leg of stats.legs) assert.equal(leg.streams[0]?.mode, 'rtp');
      await assert.rejects(engine.query(call.id), (err: { code?: string }) => err.code === 'unknown-call', 'the transferor\'s engine call is deleted');
      const info = lab.t.gw.b2bua.list()[0]!;
      assert.deepEqual([info.direction, info.caller, info.callee, info.trunk], ['outbound', P_NUMBER, C_NUMBER, 'pbx2']);
      await lab.pbx.expectNoRequest('BYE', 200);
      const limiter = lab.t.gw.b2bua.limiter;
      assert.deepEqual([limiter.concurrent, limiter.callsOf('alice')], [1, 0], 'one call in progress, none of alice\'s');

      await targetHangsUp(atTarget);
      const cdrs = (): ReturnType<typeof lab.t.gw.cdrs.store.list> => lab.t.gw.cdrs.store.list().filter((r) => r.endedAt !== undefined);
      await waitFor(() => cdrs().length >= 2, 3000, 'CDRs written');
      const original = cdrs().find((r) => r.caller === 'alice');
      const transferred = cdrs().find((r) => r.callee === C_NUMBER);
      assert.deepEqual([original!.caller, original!.callee, original!.disposition, original!.endedBy], ['alice', P_NUMBER, 'transferred', 'caller']);
      assert.deepEqual([transferred!.direction, transferred!.caller, transferred!.callee, transferred!.trunk, transferred!.disposition, transferred!.endedBy],
        ['outbound', P_NUMBER, C_NUMBER, 'pbx2', 'answered', 'callee']);
    });

    it('MUST transfer an inbound call (the callee transfers), presenting the trunk caller\'s id', async () => {
      const inv = lab.pbx.request('INVITE', `sip:+34911000002@127.0.0.1:${lab.udpPort}`, { sdp: rtpSdp(30700), from: { uri: parseUri('sip:+34915557777@127.0.0.1'), params: new Map([['tag', lab.pbx.tag]]) } });
      lab.pbx.send(inv);
      const atBob = await bob.waitRequest('INVITE', 5000);
      bob.respond(atBob, 200, 'OK', { sdp: srtpAnswer(atBob.body.toString(), 30300) });
      const ok = await lab.pbx.finalFor(inv, 5000);
      lab.pbx.send(lab.pbx.inDialog('ACK', uacDialog(inv, ok), inv.cseq.seq));
      await bob.waitRequest('ACK', 3000);
      await waitFor(() => calls[0]?.ackPending === false, 3000, 'the PBX\'s ACK');
      const e: Established = { invite: inv, ok, inbound: atBob, caller: uacDialog(inv, ok), callee: uasDialog(atBob, bob.tag), cseq: { caller: inv.cseq.seq + 1, callee: 10 } };
      assert.equal((await refer(bob, e, C_URI, 'callee')).status, 202);
      const atTarget = await targetAnswers();
      assert.equal((atTarget.from.uri as { user?: string }).user, '+34915557777');
      const reinvite = await lab.pbx.waitRequest('INVITE', 5000, (r) => r.callId === inv.callId);
      lab.pbx.respond(reinvite, 200, 'OK', { sdp: rtpSdp(30800, 2) });
      await lab.pbx2.waitRequest('ACK', 3000, (a) => a.callId === atTarget.callId);
      await bob.waitRequest('NOTIFY', 3000, (n) => sipfragOf(n) === 'SIP/2.0 200 OK');
      // bob does not hang up: the gateway does after its grace period, with a Reason.
      const byeAtBob = await bob.waitRequest('BYE', 5000);
      assert.match(byeAtBob.headers.get('Reason') ?? '', /transferred/i);
      // The transferee hangs up: the target gets the BYE.
      const pbxBye = lab.pbx.inDialog('BYE', uacDialog(inv, ok), inv.cseq.seq + 5);
      lab.pbx.send(pbxBye);
      assert.equal((await lab.pbx.finalFor(pbxBye, 3000)).status, 200);
      await lab.pbx2.waitRequest('BYE', 3000, (b) => b.callId === atTarget.callId);
    });
  });

  describe('RFC 5589 §6: a transfer that fails leaves the transferor its call', () => {
    it('MUST NOTIFY the target\'s 486 and keep alice and the PBX connected', async () => {
      const e = await callOut();
      const call = calls[0]!;
      assert.equal((await refer(alice, e, C_URI)).status, 202);
      const atTarget = await lab.pbx2.waitRequest('INVITE', 5000);
      lab.pbx2.respond(atTarget, 486, 'Busy Here');
      const done = await alice.waitRequest('NOTIFY', 3000, (n) => sipfragOf(n) !== 'SIP/2.0 100 Trying');
      assert.equal(sipfragOf(done), 'SIP/2.0 486 Busy Here');
      assert.equal(done.headers.get('Subscription-State'), 'terminated;reason=noresource');
      assert.equal(call.media.id, call.id, 'the call keeps its media');
      assert.deepEqual(new Set((await lab.t.gw.media.query(call.id)).legs.map((l) => l.tag)), new Set(['a', 'b1']));
      await lab.pbx.expectNoRequest('INVITE', 200);
      // Still connected: an INFO from alice reaches the PBX.
      const info = alice.inDialog('INFO', e.caller, e.cseq.caller++, { body: Buffer.from('Signal=1\r\n'), contentType: 'application/dtmf-relay' });
      alice.send(info);
      assert.equal((await alice.finalFor(info, 3000)).status, 200);
      await lab.pbx.waitRequest('INFO', 3000);
      const bye = alice.inDialog('BYE', e.caller, e.cseq.caller++);
      alice.send(bye);
      assert.equal((await alice.finalFor(bye, 3000)).status, 200);
      await lab.pbx.waitRequest('BYE', 3000);
    });

    it('MUST refuse a target the dial plan refuses with its 403 and keep the call', async () => {
      await lab.t.gw.users.update('alice', { mayCallInternational: false });
      try {
        const e = await callOut();
        const r = await refer(alice, e, '<sip:+442071234567@127.0.0.1>');
        assert.equal(r.status, 403);
        assert.match(r.reason, /International/);
        await lab.pbx2.expectNoRequest('INVITE', 200);
        await alice.expectNoRequest('NOTIFY', 50);
        assert.equal(lab.t.gw.b2bua.list()[0]?.state, 'confirmed');
        const bye = alice.inDialog('BYE', e.caller, e.cseq.caller++);
        alice.send(bye);
        assert.equal((await alice.finalFor(bye, 3000)).status, 200);
      } finally {
        await lab.t.gw.users.update('alice', { mayCallInternational: true });
      }
    });

    it('MUST keep the call when the transferee refuses the new media (re-INVITE 488), and BYE the target', async () => {
      const e = await callOut();
      const call = calls[0]!;
      assert.equal((await refer(alice, e, C_URI)).status, 202);
      const atTarget = await targetAnswers();
      const reinvite = await lab.pbx.waitRequest('INVITE', 5000, (r) => r.callId === e.inbound.callId);
      lab.pbx.respond(reinvite, 488, 'Not Acceptable Here');
      const ack = await lab.pbx2.waitRequest('ACK', 3000, (r) => r.callId === atTarget.callId);
      assert.equal(ack.body.length, 0);
      const byeAtTarget = await lab.pbx2.waitRequest('BYE', 3000, (r) => r.callId === atTarget.callId);
      assert.match(byeAtTarget.headers.get('Reason') ?? '', /cause=488/);
      const done = await alice.waitRequest('NOTIFY', 3000, (n) => sipfragOf(n) !== 'SIP/2.0 100 Trying');
      assert.equal(sipfragOf(done), 'SIP/2.0 488 Not Acceptable Here');
      assert.equal(call.media.id, call.id);
      assert.equal(lab.t.gw.b2bua.list()[0]?.caller, 'alice');
      await lab.pbx.expectNoRequest('BYE', 200);
      const bye = alice.inDialog('BYE', e.caller, e.cseq.caller++);
      alice.send(bye);
      assert.equal((await alice.finalFor(bye, 3000)).status, 200);
      await lab.pbx.waitRequest('BYE', 3000, (r) => r.callId === e.inbound.callId);
    });

    it('MUST end the transferee\'s call when the transfer fails after the transferor hung up', async () => {
      const e = await callOut();
      assert.equal((await refer(alice, e, C_URI)).status, 202);
      const bye = alice.inDialog('BYE', e.caller, e.cseq.caller++);
      alice.send(bye);
      assert.equal((await alice.finalFor(bye, 3000)).status, 200);
      await lab.pbx.expectNoRequest('BYE', 200);
      const atTarget = await lab.pbx2.waitRequest('INVITE', 5000);
      lab.pbx2.respond(atTarget, 486, 'Busy Here');
      const pbxBye = await lab.pbx.waitRequest('BYE', 3000);
      assert.match(pbxBye.headers.get('Reason') ?? '', /cause=486/);
    });
  });

  describe('RFC 5589 §6: the transferor may hang up before the outcome', () => {
    it('MUST go on with the transfer when alice sends BYE right after the 202', async () => {
      const e = await callOut();
      const call = calls[0]!;
      assert.equal((await refer(alice, e, C_URI)).status, 202);
      const bye = alice.inDialog('BYE', e.caller, e.cseq.caller++);
      alice.send(bye);
      assert.equal((await alice.finalFor(bye, 3000)).status, 200);
      const atTarget = await targetAnswers();
      await transfereeAnswers(e);
      await lab.pbx2.waitRequest('ACK', 3000, (a) => a.callId === atTarget.callId);
      await waitFor(() => call.media.id !== call.id, 2000, 'media moved');
      await alice.expectNoRequest('BYE', 300);
      assert.equal(alice.requests.filter((r) => r.method === 'NOTIFY' && sipfragOf(r).includes('200')).length, 0, 'no NOTIFY after its BYE');
      await targetHangsUp(atTarget);
    });
  });

  describe('Refusals', () => {
    it('MUST refuse an attended transfer (Replaces, RFC 3891) with 403', async () => {
      const e = await callOut();
      const r = await refer(alice, e, `<sip:${C_NUMBER}@127.0.0.1?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>`);
      assert.equal(r.status, 403);
      assert.match(r.reason, /Attended Transfer/);
      const r2 = await refer(alice, e, `<sip:${C_NUMBER}@127.0.0.1;method=BYE>`);
      assert.equal(r2.status, 403);
      const bye = alice.inDialog('BYE', e.caller, e.cseq.caller++);
      alice.send(bye);
      assert.equal((await alice.finalFor(bye, 3000)).status, 200);
    });

    it('MUST answer 400 to a REFER without Refer-To (RFC 3515 §2.4.1)', async () => {
      const e = await callOut();
      const req = alice.inDialog('REFER', e.caller, e.cseq.caller++);
      alice.send(req);
      assert.equal((await alice.finalFor(req, 3000)).status, 400);
      const bye = alice.inDialog('BYE', e.caller, e.cseq.caller++);
      alice.send(bye);
      await alice.finalFor(bye, 3000);
    });

    it('MUST answer 501 to a transfer of a call between two users, and list REFER in Allow', async () => {
      const e = await establish(alice, bob, 'sip:bob@127.0.0.1');
      assert.ok(e.ok.headers.getAll('Allow').join(',').includes('REFER'));
      const r = await refer(alice, e, C_URI);
      assert.equal(r.status, 501);
      assert.match(r.reason, /Trunks/);
      const bye = alice.inDialog('BYE', e.caller, e.cseq.caller++);
      alice.send(bye);
      await alice.finalFor(bye, 3000);
    });
  });
});

describe('B2BUA: a transfer is a call for calls.maxConcurrent', function () {
  this.timeout(30000);
  let lab: CallsLab;
  let alice: SipUa;

  before(async () => {
    lab = await startLab([ROUTES, 'calls.maxConcurrent=1']);
    alice = await lab.device('alice');
  });
  after(async () => {
    await lab?.stop();
  });

  it('MUST answer 503 with Retry-After when the gateway is at its call limit, and keep the call', async () => {
    const e = await establish(alice, lab.pbx, `sip:${P_NUMBER}@127.0.0.1`);
    const req = alice.inDialog('REFER', e.caller, e.cseq.caller++, { headers: [['Refer-To', C_URI]] });
    alice.send(req);
    const res = await alice.finalFor(req, 3000);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('Retry-After'), '5');
    await lab.pbx2.expectNoRequest('INVITE', 200);
    assert.equal(lab.t.gw.b2bua.limiter.concurrent, 1);
    const bye = alice.inDialog('BYE', e.caller, e.cseq.caller++);
    alice.send(bye);
    assert.equal((await alice.finalFor(bye, 3000)).status, 200);
    await waitFor(() => lab.t.gw.b2bua.limiter.concurrent === 0, 3000, 'slot released');
  });
});

describe('B2BUA: calls.transfer=false', function () {
  this.timeout(30000);
  let lab: CallsLab;
  let alice: SipUa;

  before(async () => {
    lab = await startLab([ROUTES, 'calls.transfer=false']);
    alice = await lab.device('alice');
  });
  after(async () => {
    await lab?.stop();
  });

  it('MUST answer REFER with 501 and not list it in Allow', async () => {
    const e = await establish(alice, lab.pbx, `sip:${P_NUMBER}@127.0.0.1`);
    assert.ok(!e.ok.headers.getAll('Allow').join(',').includes('REFER'));
    const req = alice.inDialog('REFER', e.caller, e.cseq.caller++, { headers: [['Refer-To', C_URI]] });
    alice.send(req);
    const res = await alice.finalFor(req, 3000);
    assert.equal(res.status, 501);
    await lab.pbx2.expectNoRequest('INVITE', 200);
    const bye = alice.inDialog('BYE', e.caller, e.cseq.caller++);
    alice.send(bye);
    assert.equal((await alice.finalFor(bye, 3000)).status, 200);
  });
});

describe('B2BUA: blind transfer, failover, no answer and Referred-By', function () {
  this.timeout(30000);
  let lab: CallsLab;
  let alice: SipUa;
  let calls: Call[] = [];

  before(async () => {
    lab = await startLab([
      'routing.rules=[{name: target, prefix: "+349155509", trunks: [pbx2, pbx]}, {name: all, prefix: "+", trunks: [pbx]}]',
      'calls.ringTimeoutSec=1', 'calls.passHeaders=[P-Asserted-Identity, Privacy, Referred-By]',
    ]);
    alice = await lab.device('alice');
    alice.autoAnswer.add('NOTIFY');
    lab.t.gw.b2bua.on('call', (c) => calls.push(c));
  });
  beforeEach(() => {
    calls = [];
  });
  after(async () => {
    await lab?.stop();
  });
  afterEach(async () => {
    await waitFor(() => lab.t.gw.b2bua.list().length === 0, 8000, 'calls over');
    for (const ua of [alice, lab.pbx, lab.pbx2]) {
      ua.requests.length = 0;
      ua.responses.length = 0;
    }
  });

  it('MUST give up a target that does not answer within calls.ringTimeoutSec (CANCEL, NOTIFY 408)', async () => {
    const e = await establish(alice, lab.pbx, `sip:${P_NUMBER}@127.0.0.1`);
    assert.equal((await alice.transact(alice.inDialog('REFER', e.caller, e.cseq.caller++, { headers: [['Refer-To', C_URI]] }))).status, 202);
    const atTarget = await lab.pbx2.waitRequest('INVITE', 3000);
    assert.equal(atTarget.headers.get('Referred-By'), '<sip:+34911000001@127.0.0.1>', 'RFC 3892, as passHeaders allows');
    lab.pbx2.respond(atTarget, 180, 'Ringing');
    const cancel = await lab.pbx2.waitRequest('CANCEL', 4000);
    lab.pbx2.respond(cancel, 200, 'OK');
    lab.pbx2.respond(atTarget, 487, 'Request Terminated');
    const done = await alice.waitRequest('NOTIFY', 3000, (n) => sipfragOf(n) !== 'SIP/2.0 100 Trying');
    assert.equal(sipfragOf(done), 'SIP/2.0 408 Request Timeout');
    assert.equal(lab.t.gw.b2bua.list()[0]?.state, 'confirmed');
    const bye = alice.inDialog('BYE', e.caller, e.cseq.caller++);
    alice.send(bye);
    assert.equal((await alice.finalFor(bye, 3000)).status, 200);
  });

  it('MUST fail over to the next trunk of the target\'s route on 503', async () => {
    const e = await establish(alice, lab.pbx, `sip:${P_NUMBER}@127.0.0.1`);
    assert.equal((await alice.transact(alice.inDialog('REFER', e.caller, e.cseq.caller++, { headers: [['Refer-To', C_URI]] }))).status, 202);
    const first = await lab.pbx2.waitRequest('INVITE', 3000);
    lab.pbx2.respond(first, 503, 'Service Unavailable');
    const atTarget = await lab.pbx.waitRequest('INVITE', 3000, (r) => r.callId !== e.inbound.callId);
    assert.equal(atTarget.body.length, 0);
    lab.pbx.respond(atTarget, 200, 'OK', { sdp: rtpSdp(30600), toTag: 'target' });
    const reinvite = await lab.pbx.waitRequest('INVITE', 3000, (r) => r.callId === e.inbound.callId);
    lab.pbx.respond(reinvite, 200, 'OK', { sdp: rtpSdp(30500, 2) });
    await lab.pbx.waitRequest('ACK', 3000, (r) => r.callId === atTarget.callId);
    const done = await alice.waitRequest('NOTIFY', 3000, (n) => sipfragOf(n) !== 'SIP/2.0 100 Trying');
    assert.equal(sipfragOf(done), 'SIP/2.0 200 OK');
    assert.equal(lab.t.gw.b2bua.list()[0]?.trunk, 'pbx');
    // The new engine call's media timeout ends the transferred call (b2bua.ts maps its id back).
    const call = calls[0]!;
    assert.notEqual(call.media.id, call.id, 'the transferred call has an engine call of its own');
    lab.t.gw.media.emit('timeout', { callId: call.id, idleSec: 30 });
    await lab.pbx.expectNoRequest('BYE', 200);
    lab.t.gw.media.emit('timeout', { callId: call.media.id, idleSec: 30 });
    await lab.pbx.waitRequest('BYE', 3000, (r) => r.callId === e.inbound.callId);
    await lab.pbx.waitRequest('BYE', 3000, (r) => r.callId === atTarget.callId);
  });
});
