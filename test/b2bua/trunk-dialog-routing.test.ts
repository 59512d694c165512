/**
 * Requests inside a trunk dialog go where the dialog says (RFC 3261 §8.1.2, §12.2.1.1): the first
 * route of a Record-Routing SBC, else the PBX's Contact, never a sips: target in clear; device
 * legs keep their own flow (RFC 5626 §5.3). The ACK for a 2xx carries the credentials of the
 * INVITE it acknowledges (§13.2.2.4, §22.1), after a 407 retry too.
 */
import assert from 'node:assert/strict';
import { DigestServer, computeHA1 } from '../../gateway/sip/digest';
import { parseUri, serializeUri } from '../../gateway/sip/message/grammar';
import { makeResponse, type SipRequest, type SipResponse } from '../../gateway/sip/message/message';
import { establish, waitFor } from './flows';
import { startLab, type CallsLab } from './harness';
import { rtpSdp, SipUa, srtpAnswer, srtpSdp, uacDialog, uasDialog } from './sip-ua';

const REALM = 'pbx-realm';
const TRUNK_PASSWORD = 'Trunk-Secret-77';

/** The PBX's 200 to `invite`, with its Contact and Record-Route as given. */
function answer(from: SipUa, invite: SipRequest, o: { contact: string; recordRoute?: string[] }): SipResponse {
  const res = makeResponse(invite, 200, 'OK', from.tag);
  res.contact = [{ uri: parseUri(o.contact), params: new Map() }];
  for (const rr of o.recordRoute ?? []) res.headers.add('Record-Route', rr);
  res.headers.add('Content-Type', 'application/sdp');
  res.body = Buffer.from(rtpSdp(30200));
  from.send(res);
  return res;
}

/** Alice calls a number routed to the trunk `pbx`; resolves with the INVITE the PBX got and alice's final response. */
async function callOut(lab: CallsLab, alice: SipUa, reply: (atPbx: SipRequest) => void): Promise<{ invite: SipRequest; atPbx: SipRequest; ok: SipResponse }> {
  const invite = alice.request('INVITE', 'sip:+34915550101@127.0.0.1', { sdp: srtpSdp(30000) });
  const final = alice.transact(invite, 8000);
  const atPbx = await lab.pbx.waitRequest('INVITE', 5000);
  reply(atPbx);
  const ok = await final;
  assert.equal(ok.status, 200);
  alice.send(alice.inDialog('ACK', uacDialog(invite, ok), invite.cseq.seq));
  return { invite, atPbx, ok };
}

function routes(req: SipRequest): string[] {
  return req.headers.getAll('Route');
}

describe('B2BUA: requests inside a trunk dialog follow the dialog (RFC 3261 §8.1.2, §12.2.1.1)', function () {
  this.timeout(30000);
  let lab: CallsLab;
  let alice: SipUa;
  let bob: SipUa;
  /** The PBX's other interface (its Contact) and an SBC in front of it (its Record-Route). */
  let pbxContact: SipUa;
  let sbc: SipUa;
  let cseq: number;

  before(async () => {
    lab = await startLab();
    alice = await lab.device('alice');
    bob = await lab.device('bob');
    pbxContact = await SipUa.udp(lab.udpPort, 'pbx-lan');
    sbc = await SipUa.udp(lab.udpPort, 'sbc');
  });
  after(async () => {
    pbxContact?.close();
    sbc?.close();
    await lab?.stop();
  });
  beforeEach(() => {
    cseq = 100;
  });
  afterEach(async () => {
    await waitFor(() => lab.t.gw.b2bua.list().length === 0, 5000, 'calls over');
    for (const ua of [alice, bob, lab.pbx, lab.pbx2, pbxContact, sbc]) {
      ua.requests.length = 0;
      ua.responses.length = 0;
    }
  });

  async function hangUp(invite: SipRequest, ok: SipResponse): Promise<void> {
    const bye = alice.inDialog('BYE', uacDialog(invite, ok), invite.cseq.seq + cseq++);
    alice.send(bye);
    assert.equal((await alice.finalFor(bye, 5000)).status, 200);
  }

  it('MUST send the ACK and the BYE to the first route (loose), with the route set as Route', async () => {
    const contact = `sip:pbx@127.0.0.1:${pbxContact.localPort}`;
    const first = `<sip:127.0.0.1:${sbc.localPort};lr>`;
    const second = '<sip:127.0.0.1:9;lr>';
    // The 2xx lists the SBC nearest the PBX last; our route set is the reverse (§12.1.2).
    const { invite, atPbx, ok } = await callOut(lab, alice, (inv) => answer(lab.pbx, inv, { contact, recordRoute: [`${second}, ${first}`] }));
    const ack = await sbc.waitRequest('ACK', 3000, (a) => a.callId === atPbx.callId);
    assert.equal(serializeUri(ack.uri), contact, 'Request-URI: the remote target');
    assert.deepEqual(routes(ack), [first, second]);
    await hangUp(invite, ok);
    const bye = await sbc.waitRequest('BYE', 3000, (b) => b.callId === atPbx.callId);
    assert.equal(serializeUri(bye.uri), contact);
    assert.deepEqual(routes(bye), [first, second]);
    await lab.pbx.expectNoRequest('BYE', 200);
    await pbxContact.expectNoRequest('BYE', 50);
    assert.equal(lab.pbx.requests.filter((r) => r.method === 'ACK').length, 0, 'nothing to the configured address');
  });

  it('MUST send the ACK and the BYE to the Contact when there is no Record-Route', async () => {
    const contact = `sip:pbx@127.0.0.1:${pbxContact.localPort}`;
    const { invite, atPbx, ok } = await callOut(lab, alice, (inv) => answer(lab.pbx, inv, { contact }));
    const ack = await pbxContact.waitRequest('ACK', 3000, (a) => a.callId === atPbx.callId);
    assert.equal(serializeUri(ack.uri), contact);
    assert.deepEqual(routes(ack), []);
    await hangUp(invite, ok);
    const bye = await pbxContact.waitRequest('BYE', 3000, (b) => b.callId === atPbx.callId);
    assert.equal(bye.via[0]?.transport, 'UDP');
    await lab.pbx.expectNoRequest('BYE', 200);
  });

  it('MUST send to a strict first route with it as Request-URI and the Contact as last Route', async () => {
    const contact = `sip:pbx@127.0.0.1:${pbxContact.localPort}`;
    const strict = `sip:127.0.0.1:${sbc.localPort}`;
    const { invite, atPbx, ok } = await callOut(lab, alice, (inv) => answer(lab.pbx, inv, { contact, recordRoute: [`<${strict}>`] }));
    const ack = await sbc.waitRequest('ACK', 3000, (a) => a.callId === atPbx.callId);
    assert.equal(serializeUri(ack.uri), strict);
    assert.deepEqual(routes(ack), [`<${contact}>`]);
    await hangUp(invite, ok);
    const bye = await sbc.waitRequest('BYE', 3000, (b) => b.callId === atPbx.callId);
    assert.equal(serializeUri(bye.uri), strict);
  });

  it('MUST NOT send anything of a sips: dialog over the UDP trunk (RFC 3261 §26.2.2), and still end the call', async () => {
    const contact = `sips:pbx@127.0.0.1:${pbxContact.localPort}`;
    const { invite, ok } = await callOut(lab, alice, (inv) => answer(lab.pbx, inv, { contact }));
    await hangUp(invite, ok);
    for (const ua of [lab.pbx, pbxContact]) {
      await ua.expectNoRequest('ACK', 150);
      await ua.expectNoRequest('BYE', 150);
    }
  });

  it('MUST send the BYE of an inbound trunk call to the PBX\'s Record-Route', async () => {
    const contact = `sip:pbx@127.0.0.1:${pbxContact.localPort}`;
    const route = `<sip:127.0.0.1:${sbc.localPort};lr>`;
    const inv = lab.pbx.request('INVITE', `sip:+34911000002@127.0.0.1:${lab.udpPort}`, { sdp: rtpSdp(30700), headers: [['Record-Route', route]] });
    inv.contact = [{ uri: parseUri(contact), params: new Map() }];
    lab.pbx.send(inv);
    const atBob = await bob.waitRequest('INVITE', 5000);
    bob.respond(atBob, 200, 'OK', { sdp: srtpAnswer(atBob.body.toString(), 30300) });
    const ok = await lab.pbx.finalFor(inv, 5000);
    assert.equal(ok.status, 200);
    lab.pbx.send(lab.pbx.inDialog('ACK', uacDialog(inv, ok), inv.cseq.seq));
    await bob.waitRequest('ACK', 3000);
    const bobBye = bob.inDialog('BYE', uasDialog(atBob, bob.tag), 2);
    bob.send(bobBye);
    assert.equal((await bob.finalFor(bobBye)).status, 200);
    const bye = await sbc.waitRequest('BYE', 3000, (b) => b.callId === inv.callId);
    assert.equal(serializeUri(bye.uri), contact);
    assert.deepEqual(routes(bye), [route]);
    await lab.pbx.expectNoRequest('BYE', 200);
  });

  it('MUST keep sending a device\'s in-dialog requests over its flow, whatever its route set (RFC 5626 §5.3)', async () => {
    // bob's 2xx names a route nobody listens on: the ACK and the BYE still come over bob's TLS flow.
    const e = await establish(alice, bob, 'sip:bob@127.0.0.1', { calleeHeaders: [['Record-Route', '<sip:127.0.0.1:9;lr>']] });
    const bye = alice.inDialog('BYE', e.caller, e.cseq.caller++);
    alice.send(bye);
    const atBob = await bob.waitRequest('BYE', 3000, (b) => b.callId === e.inbound.callId);
    assert.deepEqual(routes(atBob), ['<sip:127.0.0.1:9;lr>'], 'the route set is written, the flow is used');
    assert.equal(atBob.via[0]?.transport, 'TLS');
    assert.equal((await alice.finalFor(bye)).status, 200);
  });
});

describe('B2BUA: the ACK for a trunk 2xx carries its INVITE\'s credentials (RFC 3261 §13.2.2.4, §22.1)', function () {
  this.timeout(30000);
  let lab: CallsLab;
  let alice: SipUa;
  let pbxContact: SipUa;
  const server = new DigestServer();
  const lookup = (u: string, r: string, h: Parameters<typeof computeHA1>[0]): string | undefined => (u === 'gw' && r === REALM ? computeHA1(h, u, r, TRUNK_PASSWORD) : undefined);

  before(async () => {
    lab = await startLab([], { pbxFields: `, auth: {username: gw, password: ${TRUNK_PASSWORD}, realm: ${REALM}}` });
    alice = await lab.device('alice');
    pbxContact = await SipUa.udp(lab.udpPort, 'pbx-lan');
  });
  after(async () => {
    pbxContact?.close();
    await lab?.stop();
  });

  function challenge(from: SipUa, req: SipRequest): void {
    const res = makeResponse(req, 407, 'Proxy Authentication Required', from.tag);
    for (const v of server.challenge({ realm: REALM, proxy: true })) res.headers.add('Proxy-Authenticate', v);
    from.send(res);
  }

  it('MUST copy the retried INVITE\'s Proxy-Authorization into the ACK, for the INVITE and a re-INVITE', async () => {
    const contact = `sip:pbx@127.0.0.1:${pbxContact.localPort}`;
    const invite = alice.request('INVITE', 'sip:+34915550102@127.0.0.1', { sdp: srtpSdp(30000) });
    const final = alice.transact(invite, 8000);
    const first = await lab.pbx.waitRequest('INVITE', 5000);
    challenge(lab.pbx, first);
    const retried = await lab.pbx.waitRequest('INVITE', 5000, (r) => r.callId === first.callId && r.cseq.seq === first.cseq.seq + 1);
    const credentials = retried.headers.getAll('Proxy-Authorization');
    assert.equal(credentials.length, 1);
    assert.equal(server.verify({ method: 'INVITE', credentials, realm: REALM, lookup }).status, 'ok');
    answer(lab.pbx, retried, { contact });
    const ok = await final;
    assert.equal(ok.status, 200);
    const ack = await pbxContact.waitRequest('ACK', 3000, (a) => a.callId === first.callId);
    assert.equal(ack.cseq.seq, retried.cseq.seq);
    assert.deepEqual(ack.headers.getAll('Proxy-Authorization'), credentials, 'the same nonce, nc and response: not fresh ones');
    alice.send(alice.inDialog('ACK', uacDialog(invite, ok), invite.cseq.seq));

    // A re-INVITE toward the PBX (alice holds), challenged again: its ACK copies the retry's credentials.
    const caller = uacDialog(invite, ok);
    const hold = alice.inDialog('INVITE', caller, invite.cseq.seq + 1, { sdp: srtpSdp(30000, 2, 'sendonly') });
    alice.send(hold);
    const reinvite = await pbxContact.waitRequest('INVITE', 3000, (r) => r.callId === first.callId);
    challenge(pbxContact, reinvite);
    const reRetried = await pbxContact.waitRequest('INVITE', 3000, (r) => r.callId === first.callId && r.cseq.seq === reinvite.cseq.seq + 1);
    const reCredentials = reRetried.headers.getAll('Proxy-Authorization');
    assert.equal(reCredentials.length, 1);
    answer(pbxContact, reRetried, { contact });
    assert.equal((await alice.finalFor(hold, 5000)).status, 200);
    const reAck = await pbxContact.waitRequest('ACK', 3000, (a) => a.callId === first.callId && a.cseq.seq === reRetried.cseq.seq);
    assert.deepEqual(reAck.headers.getAll('Proxy-Authorization'), reCredentials);
    alice.send(alice.inDialog('ACK', caller, hold.cseq.seq));

    const bye = alice.inDialog('BYE', caller, invite.cseq.seq + 2);
    alice.send(bye);
    assert.equal((await alice.finalFor(bye, 5000)).status, 200);
    await pbxContact.waitRequest('BYE', 3000, (b) => b.callId === first.callId);
    await waitFor(() => lab.t.gw.b2bua.list().length === 0, 5000, 'call over');
  });
});
