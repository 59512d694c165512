/**
 * Issue 5 tests 2, 3, 6 and 9 with real peers: baresip clients over TLS with SRTP, and a baresip
 * PBX stand-in on UDP with plain RTP behind the trunks `dead` (TCP to a closed port: always down)
 * and `pbx`. Off-net numbers route to [dead, pbx]; the PBX's calls to a user's number ring the
 * user's device over its TLS flow. Audio: tones and sox; encryption: tshark (PEERS.md).
 */
import assert from 'node:assert/strict';
import type { Call } from '../../gateway/b2bua';
import type { CallStats } from '../../media/engine';
import { startTestGateway, type TestGateway } from '../helpers/in-process-gateway';
import { freeSipPort } from '../helpers/ports';
import { Capture, pbxAccount, Phone, registeredPhone, settledFile, toneOf } from './calls-harness';

const ALICE = { user: 'alice', password: 'Wonderland-Key-81', number: '+34911000001' };
/** The off-net number alice dials (the PBX stand-in answers it). */
const OFFNET = '+34600111222';
/** ausine's 1 kHz as PCMU (PEERS.md). */
const PCMU_1K = '12:11:22:aa:92:91:a2:2a';

describe('Calls with real peers: trunk to a PBX stand-in (issue 5 tests 2, 3, 6, 9)', function () {
  this.timeout(90_000);
  let t: TestGateway;
  let pbx: Phone;
  const phones: Phone[] = [];
  const base = 46000 + Math.floor(Math.random() * 10) * 500;
  const aliceRtp = { lo: base, hi: base + 19 };
  const pbxRtp = { lo: base + 20, hi: base + 39 };

  const alicePhone = async (tone = 1000): Promise<Phone> => {
    const p = await registeredPhone(t, { user: ALICE.user, password: ALICE.password, tone, rtpPorts: `${aliceRtp.lo}-${aliceRtp.hi}`, mediaenc: 'srtp-mand', codecs: 'PCMU' });
    phones.push(p);
    return p;
  };

  before(async () => {
    const closed = await freeSipPort();
    pbx = await Phone.start({ name: 'pbx', tone: 440, rtpPorts: `${pbxRtp.lo}-${pbxRtp.hi}`, account: pbxAccount(OFFNET, 'PCMA,PCMU'), extra: [] });
    t = await startTestGateway([
      'sip.domain=127.0.0.1', 'media.address=127.0.0.1', 'media.workers=1',
      `media.portMin=${base + 100}`, `media.portMax=${base + 299}`,
      'routing.countryCode=34', 'routing.rules=[{name: all, prefix: "+", trunks: [dead, pbx]}]',
      `trunks=[{name: dead, host: 127.0.0.1, port: ${closed}, transport: TCP, keepAlive: {intervalSec: 0}}, ` +
        `{name: pbx, host: 127.0.0.1, port: ${pbx.sipPort}, transport: UDP, keepAlive: {intervalSec: 0}}]`,
    ]);
    await t.gw.users.add(ALICE.user, { password: ALICE.password, number: ALICE.number, mayCallOffNet: true, mayCallInternational: true });
  });
  afterEach(async () => {
    for (const p of phones.splice(0)) await p.stop();
  });
  after(async () => {
    await pbx?.stop();
    await t?.stop();
  });

  it('2 + 9: alice calls an off-net number: the dead trunk fails over to the PBX, tones both ways, SRTP to alice and plain RTP to the PBX', async () => {
    const alice = await alicePhone();
    const cap = await Capture.start(`udp and ((portrange ${aliceRtp.lo}-${aliceRtp.hi}) or (portrange ${pbxRtp.lo}-${pbxRtp.hi}))`);
    try {
      const answered = new Promise<string | undefined>((resolve) => t.gw.b2bua.once('call', (c) => c.once('answered', () => resolve(c.trunk?.name))));
      alice.command('dial', `sip:${OFFNET}@127.0.0.1`);
      await alice.waitEvent('CALL_ESTABLISHED', 15_000);
      assert.equal(await answered, 'pbx', 'the call went out over the second trunk');
      await new Promise((r) => setTimeout(r, 3500));
      alice.command('hangup');
      await alice.waitEvent('CALL_CLOSED', 5000);
    } finally {
      await cap.stop();
    }
    const atPbx = await toneOf(await settledFile(() => pbx.received(), 5000));
    const atAlice = await toneOf(await settledFile(() => alice.received(), 5000));
    assert.ok(Math.abs(atPbx.frequency - 1000) < 60, `the PBX heard ${atPbx.frequency} Hz`);
    assert.ok(Math.abs(atAlice.frequency - 440) < 40, `alice heard ${atAlice.frequency} Hz`);
    const clientLeg = `udp.dstport >= ${aliceRtp.lo} && udp.dstport <= ${aliceRtp.hi} || udp.srcport >= ${aliceRtp.lo} && udp.srcport <= ${aliceRtp.hi}`;
    const pbxLeg = `udp.dstport >= ${pbxRtp.lo} && udp.dstport <= ${pbxRtp.hi} || udp.srcport >= ${pbxRtp.lo} && udp.srcport <= ${pbxRtp.hi}`;
    assert.ok((await cap.count(clientLeg)) > 100, 'the client leg carried media');
    assert.equal(await cap.count(`(${clientLeg}) && udp.payload contains ${PCMU_1K}`), 0, 'no plaintext on the client leg');
    assert.ok((await cap.count(`(${pbxLeg}) && udp.payload contains ${PCMU_1K}`)) > 50, 'the PBX leg is plain RTP');
    cap.remove();
  });

  it('3: the PBX calls alice\'s number: her device rings over its TLS flow with SRTP and audio flows', async () => {
    const alice = await alicePhone(1000);
    pbx.command('dial', `sip:${ALICE.number}@127.0.0.1:${t.port('UDP')}`);
    await alice.waitEvent('CALL_ESTABLISHED', 15_000);
    await pbx.waitEvent('CALL_ESTABLISHED', 5000, () => true);
    const menc = await alice.waitEvent('CALL_MENC', 5000);
    assert.match(menc.param ?? '', /AES/i, 'SRTP toward alice');
    await new Promise((r) => setTimeout(r, 3500));
    pbx.command('hangup');
    await alice.waitEvent('CALL_CLOSED', 5000);
    const atAlice = await toneOf(await settledFile(() => alice.received(), 5000));
    assert.ok(Math.abs(atAlice.frequency - 440) < 40, `alice heard ${atAlice.frequency} Hz`);
  });

  it('6: hold and resume, audio after resume; DTMF from alice reaches the PBX as RFC 4733 events', async () => {
    const alice = await alicePhone();
    const cap = await Capture.start(`udp and ((portrange ${aliceRtp.lo}-${aliceRtp.hi}) or (portrange ${pbxRtp.lo}-${pbxRtp.hi}))`);
    let resumedAt: number;
    let afterResume: CallStats | undefined;
    try {
      const call = new Promise<Call>((resolve) => t.gw.b2bua.once('call', resolve));
      alice.command('dial', `sip:${OFFNET}@127.0.0.1`);
      await alice.waitEvent('CALL_ESTABLISHED', 15_000);
      const id = (await call).id;
      await new Promise((r) => setTimeout(r, 1000));
      alice.command('hold');
      await new Promise((r) => setTimeout(r, 1500));
      alice.command('resume');
      await new Promise((r) => setTimeout(r, 1000));
      resumedAt = Date.now() / 1000;
      const before = await t.gw.media.query(id);
      for (const d of ['1', '2', '3']) {
        alice.command('sndcode', d);
        await new Promise((r) => setTimeout(r, 300));
      }
      await new Promise((r) => setTimeout(r, 2500));
      afterResume = await t.gw.media.query(id);
      // The engine decrypted alice's SRTP after the re-INVITEs: packets counted, none failing authentication.
      const rx = (s: CallStats): number => s.legs[0]!.streams[0]!.rx.packets;
      assert.ok(rx(afterResume) - rx(before) > 100, `alice → engine after resume: ${rx(afterResume) - rx(before)} packets`);
      assert.equal(afterResume.legs[0]!.streams[0]!.srtpAuthFailures, 0);
      alice.command('hangup');
      await alice.waitEvent('CALL_CLOSED', 5000);
    } finally {
      await cap.stop();
    }
    const toPbx = `udp.dstport >= ${pbxRtp.lo} && udp.dstport <= ${pbxRtp.hi}`;
    const toAlice = `udp.dstport >= ${aliceRtp.lo} && udp.dstport <= ${aliceRtp.hi}`;
    // RFC 4733 events: RTP payload type 101 (marker bit on the first packet of each event).
    const events = await cap.count(`(${toPbx}) && (udp.payload[1] == 0x65 || udp.payload[1] == 0xe5)`);
    assert.ok(events >= 3, `telephone-event packets at the PBX: ${events}`);
    // Audio after resume, both ways. baresip 1.0's sndfile stops recording at the first
    // re-INVITE, so this is read off the wire: alice's 1 kHz in clear toward the PBX, and SRTP
    // packets toward alice (the PBX's tone, encrypted).
    const later = `frame.time_epoch > ${resumedAt.toFixed(3)}`;
    assert.ok((await cap.count(`(${toPbx}) && ${later} && udp.payload contains ${PCMU_1K}`)) > 100, 'alice tone reaches the PBX after resume');
    assert.ok((await cap.count(`(${toAlice}) && ${later}`)) > 100, 'media reaches alice after resume');
    assert.equal(await cap.count(`(${toAlice}) && udp.payload contains ${PCMU_1K}`), 0);
    cap.remove();
  });
});
