/**
 * Blind transfer with a real transferor (RFC 5589 §6): baresip over TLS with SRTP calls a number
 * behind the trunk `pbx` and transfers it with its own `transfer` command to a number behind
 * `pbx2`. The PBXs are scripted stand-ins (test/b2bua/sip-ua.ts), so every message the gateway
 * sends them can be checked; baresip's side is what a real phone does with our 202 and NOTIFYs.
 */
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../helpers/in-process-gateway';
import { rtpSdp, SipUa, uasDialog } from '../b2bua/sip-ua';
import { registeredPhone, type Phone } from './calls-harness';

const ALICE = { user: 'alice', password: 'Wonderland-Key-81', number: '+34911000001' };
const P_NUMBER = '+34915550101';
const C_NUMBER = '+34915550901';

describe('Calls with a real peer: baresip transfers a trunk call (RFC 5589 §6)', function () {
  this.timeout(60_000);
  let t: TestGateway;
  let pbx: SipUa;
  let pbx2: SipUa;
  let alice: Phone | undefined;
  const base = 47000 + Math.floor(Math.random() * 10) * 300;

  before(async () => {
    pbx = await SipUa.udp(0, 'pbx');
    pbx2 = await SipUa.udp(0, 'pbx2');
    const trunk = (name: string, port: number): string => `{name: ${name}, host: 127.0.0.1, port: ${port}, transport: UDP, keepAlive: {intervalSec: 0}}`;
    t = await startTestGateway([
      'sip.domain=127.0.0.1', 'media.address=127.0.0.1', 'media.inThread=true',
      `media.portMin=${base + 100}`, `media.portMax=${base + 299}`,
      'routing.countryCode=34', 'routing.rules=[{name: target, prefix: "+349155509", trunks: [pbx2]}, {name: all, prefix: "+", trunks: [pbx]}]',
      `trunks=[${trunk('pbx', pbx.localPort)}, ${trunk('pbx2', pbx2.localPort)}]`,
    ]);
    pbx.gatewayPort = t.port('UDP');
    pbx2.gatewayPort = t.port('UDP');
    await t.gw.users.add(ALICE.user, { password: ALICE.password, number: ALICE.number, mayCallOffNet: true, mayCallInternational: true });
  });
  after(async () => {
    await alice?.stop();
    alice?.remove();
    pbx?.close();
    pbx2?.close();
    await t?.stop();
  });

  it('MUST connect the PBX to the target and let baresip hang up after the final NOTIFY', async () => {
    alice = await registeredPhone(t, { ...ALICE, tone: 1000, rtpPorts: `${base}-${base + 19}`, mediaenc: 'srtp-mand', codecs: 'PCMU' });
    alice.command('dial', `sip:${P_NUMBER}@127.0.0.1`);
    const atP = await pbx.waitRequest('INVITE', 10_000);
    pbx.respond(atP, 200, 'OK', { sdp: rtpSdp(base + 40) });
    await alice.waitEvent('CALL_ESTABLISHED', 10_000);
    await pbx.waitRequest('ACK', 5000);

    alice.command('transfer', `sip:${C_NUMBER}@127.0.0.1`);
    const atC = await pbx2.waitRequest('INVITE', 10_000);
    assert.equal(atC.body.length, 0, 'RFC 3725 §4.1: no offer to the target');
    assert.equal((atC.from.uri as { user?: string }).user, P_NUMBER);
    pbx2.respond(atC, 200, 'OK', { sdp: rtpSdp(base + 60) });
    const reinvite = await pbx.waitRequest('INVITE', 5000, (r) => r.callId === atP.callId);
    pbx.respond(reinvite, 200, 'OK', { sdp: rtpSdp(base + 40, 2) });
    const ack = await pbx2.waitRequest('ACK', 5000, (a) => a.callId === atC.callId);
    assert.ok(ack.body.length > 0, 'the target gets the answer in the ACK');

    // baresip gets NOTIFY 100 and 200 and ends its call (its own BYE, or ours after the grace).
    await alice.waitEvent('CALL_CLOSED', 10_000);
    const info = t.gw.b2bua.list();
    assert.equal(info.length, 1, 'the transferred call goes on');
    assert.deepEqual([info[0]!.caller, info[0]!.callee], [P_NUMBER, C_NUMBER]);
    await pbx.expectNoRequest('BYE', 500);
    const log = alice.log();
    assert.doesNotMatch(log, /transfer failure/i, log);

    const bye = pbx2.inDialog('BYE', uasDialog(atC, pbx2.tag), 1);
    pbx2.send(bye);
    assert.equal((await pbx2.finalFor(bye, 3000)).status, 200);
    await pbx.waitRequest('BYE', 3000, (b) => b.callId === atP.callId);
  });
});
