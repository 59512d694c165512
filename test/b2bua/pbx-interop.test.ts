/**
 * The PBXs of issue 5 ("Connect to Asterisk", "Connect to FreeSWITCH" in the README) as their stock
 * configurations speak: neither Asterisk nor FreeSWITCH is packaged for Debian 12, so the PBX side
 * here is the test UA sending what chan_pjsip (Asterisk 20, endpoint defaults: 100rel=yes,
 * timers=yes) and mod_sofia (FreeSWITCH 1.10, default gateway profile) put in their messages:
 * their Supported/Allow sets, RFC 4028 session timers, identity headers, early media in a 183, an
 * SDP with telephone-event 0-16 and maxptime, CN, and a hold re-INVITE. What is asserted is what
 * such a PBX needs back to keep the call.
 */
import assert from 'node:assert/strict';
import { waitFor } from './flows';
import { labWithPair } from './harness';
import { srtpAnswer, srtpSdp, uacDialog, uasDialog } from './sip-ua';

/** chan_pjsip's SDP for a PCMA/PCMU endpoint with RFC 4733 DTMF (dtmf_mode=rfc4733). */
function asteriskSdp(port: number, version = 1183546711): string {
  return [
    'v=0', `o=- 1183546711 ${version} IN IP4 127.0.0.1`, 's=Asterisk', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 8 0 101`, 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=maxptime:150', 'a=sendrecv', '',
  ].join('\r\n');
}

/** Headers chan_pjsip adds to an INVITE with the endpoint defaults. */
const ASTERISK_INVITE: Array<[string, string]> = [
  ['Allow', 'OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, PUBLISH, INVITE, ACK, BYE, CANCEL, UPDATE, PRACK, MESSAGE, REFER'],
  ['Supported', '100rel, timer, replaces, norefersub'],
  ['Session-Expires', '1800'],
  ['Min-SE', '90'],
  ['P-Asserted-Identity', '"Reception" <sip:+34915550100@127.0.0.1>'],
  ['User-Agent', 'Asterisk PBX 20.5.0'],
];

/** mod_sofia's SDP: PCMA/PCMU, telephone-event 0-15, CN (suppress-cng false). */
function freeswitchSdp(port: number, version: number, direction = 'sendrecv'): string {
  return [
    'v=0', `o=FreeSWITCH 1700000000 ${version} IN IP4 127.0.0.1`, 's=FreeSWITCH', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 8 0 101 13`, 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=rtpmap:13 CN/8000', 'a=ptime:20', `a=${direction}`, '',
  ].join('\r\n');
}

const FREESWITCH_INVITE: Array<[string, string]> = [
  ['User-Agent', 'FreeSWITCH-mod_sofia/1.10.11-release~64bit'],
  ['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, REGISTER, REFER, NOTIFY'],
  ['Supported', 'timer, path, replaces'],
  ['Allow-Events', 'talk, hold, conference, refer'],
  ['Remote-Party-ID', '"Reception" <sip:+34915550100@127.0.0.1>;party=calling;screen=yes;privacy=off'],
  ['X-FS-Support', 'update_display,send_info'],
];

/** The m= line of an SDP body. */
const mLine = (sdp: string): string => /m=audio \d+ (\S+ [\d ]+)\r\n/.exec(sdp)?.[1] ?? '';

describe('B2BUA with stock PBX messages (README "Connect to Asterisk / FreeSWITCH")', function () {
  this.timeout(20000);
  const f = labWithPair();
  afterEach(async () => {
    await waitFor(() => f.lab.t.gw.b2bua.list().length === 0, 3000, 'calls over');
  });

  it('Asterisk calls a user: the device rings over TLS with SRTP, Asterisk gets its timer and codecs back, a refresh re-INVITE keeps the call', async () => {
    const pbx = f.lab.pbx;
    const inv = pbx.request('INVITE', `sip:+34911000001@127.0.0.1:${f.lab.udpPort};user=phone`, { sdp: asteriskSdp(30700), headers: ASTERISK_INVITE });
    pbx.send(inv);
    const atAlice = await f.alice.waitRequest('INVITE', 5000);
    assert.match(atAlice.body.toString(), /RTP\/SAVP/, 'SRTP towards the device');
    assert.equal(atAlice.headers.get('P-Asserted-Identity'), '"Reception" <sip:+34915550100@127.0.0.1>', 'a trunk\'s identity passes (calls.passHeaders)');
    assert.doesNotMatch(atAlice.headers.get('User-Agent') ?? '', /Asterisk/, 'topology hiding: the PBX\'s own headers do not cross');
    f.alice.respond(atAlice, 200, 'OK', { sdp: srtpAnswer(atAlice.body.toString(), 31000) });
    const ok = await pbx.finalFor(inv, 5000);
    assert.equal(ok.status, 200);
    // RFC 4028 §9: Asterisk supports timer and asked 1800 s; the 2xx says who refreshes, and requires timer for it.
    assert.match(ok.headers.get('Session-Expires') ?? '', /^1800;refresher=ua[cs]$/);
    assert.match(ok.headers.get('Require') ?? '', /\btimer\b/);
    assert.equal(mLine(ok.body.toString()), 'RTP/AVP 0 101', 'the codec the device chose among the PBX\'s, and its telephone-event');
    assert.match(ok.body.toString(), /a=fmtp:101 0-16/);
    const dialog = uacDialog(inv, ok);
    pbx.send(pbx.inDialog('ACK', dialog, inv.cseq.seq));
    await f.alice.waitRequest('ACK', 3000);

    // chan_pjsip's session refresh: a re-INVITE with the same SDP (same o= version).
    const refresh = pbx.inDialog('INVITE', dialog, inv.cseq.seq + 1, { sdp: asteriskSdp(30700), headers: [['Session-Expires', '1800;refresher=uac'], ['Supported', 'timer']] });
    pbx.send(refresh);
    const refreshed = await pbx.finalFor(refresh, 5000);
    assert.equal(refreshed.status, 200);
    assert.equal(mLine(refreshed.body.toString()), 'RTP/AVP 0 101');
    pbx.send(pbx.inDialog('ACK', dialog, refresh.cseq.seq));

    const bye = pbx.inDialog('BYE', dialog, refresh.cseq.seq + 1);
    pbx.send(bye);
    await f.alice.waitRequest('BYE', 3000);
    assert.equal((await pbx.finalFor(bye, 3000)).status, 200);
  });

  it('a user calls out through Asterisk: its reliable 183 is PRACKed, its early media and its 200 (timer required, refresher=uac) reach the device', async () => {
    const pbx = f.lab.pbx;
    const invite = f.alice.request('INVITE', 'sip:+34600111222@127.0.0.1', { sdp: srtpSdp(31100) });
    const final = f.alice.transact(invite, 8000);
    const atPbx = await pbx.waitRequest('INVITE', 5000);
    assert.equal(mLine(atPbx.body.toString()), 'RTP/AVP 0 101', 'plain RTP, the caller\'s codec within the trunk\'s PCMA/PCMU policy, and DTMF');
    assert.equal(atPbx.headers.getAll('Supported').join(', '), '100rel, timer');
    pbx.respond(atPbx, 100, 'Trying');
    // Progress() in the dialplan: 183 with SDP, early media from the PBX; with 100rel=yes and a
    // caller that supports it, chan_pjsip sends it reliably (RFC 3262) and waits for the PRACK.
    pbx.respond(atPbx, 183, 'Session Progress', { sdp: asteriskSdp(30900), headers: [['Require', '100rel'], ['RSeq', '1'], ['Supported', '100rel, timer, replaces, norefersub']] });
    const prack = await pbx.waitRequest('PRACK', 3000, (r) => r.callId === atPbx.callId);
    assert.equal(prack.headers.get('RAck'), `1 ${atPbx.cseq.seq} INVITE`);
    pbx.respond(prack, 200, 'OK');
    const early = await f.alice.waitResponse((r) => r.status === 183, 5000);
    assert.match(early.body.toString(), /RTP\/SAVP/, 'early media towards the device is SRTP');
    pbx.respond(atPbx, 200, 'OK', { sdp: asteriskSdp(30900), headers: [['Session-Expires', '1800;refresher=uac'], ['Require', 'timer'], ['Supported', '100rel, timer, replaces, norefersub']] });
    const ok = await final;
    assert.equal(ok.status, 200);
    const cd = uacDialog(invite, ok);
    f.alice.send(f.alice.inDialog('ACK', cd, invite.cseq.seq));
    await pbx.waitRequest('ACK', 3000, (a) => a.callId === atPbx.callId);
    f.alice.send(f.alice.inDialog('BYE', cd, invite.cseq.seq + 1));
    const bye = await pbx.waitRequest('BYE', 3000, (b) => b.callId === atPbx.callId);
    pbx.respond(bye, 200, 'OK');
  });

  it('FreeSWITCH calls a user and puts the call on hold: the sendonly re-INVITE reaches the device and its recvonly comes back', async () => {
    const pbx = f.lab.pbx;
    const inv = pbx.request('INVITE', `sip:+34911000001@127.0.0.1:${f.lab.udpPort}`, { sdp: freeswitchSdp(30740, 1700000001), headers: FREESWITCH_INVITE });
    pbx.send(inv);
    const atAlice = await f.alice.waitRequest('INVITE', 5000);
    assert.equal(atAlice.headers.get('Remote-Party-ID'), undefined, 'not on the allow-list: it does not cross');
    f.alice.respond(atAlice, 200, 'OK', { sdp: srtpAnswer(atAlice.body.toString(), 31200) });
    const ok = await pbx.finalFor(inv, 5000);
    assert.equal(ok.status, 200);
    assert.equal(mLine(ok.body.toString()), 'RTP/AVP 0 101');
    const dialog = uacDialog(inv, ok);
    pbx.send(pbx.inDialog('ACK', dialog, inv.cseq.seq));
    await f.alice.waitRequest('ACK', 3000);

    const hold = pbx.inDialog('INVITE', dialog, inv.cseq.seq + 1, { sdp: freeswitchSdp(30740, 1700000002, 'sendonly') });
    pbx.send(hold);
    const reinvite = await f.alice.waitRequest('INVITE', 5000, (r) => r.callId === atAlice.callId);
    assert.match(reinvite.body.toString(), /a=sendonly/);
    f.alice.respond(reinvite, 200, 'OK', { sdp: srtpAnswer(reinvite.body.toString(), 31200, 2, 'recvonly') });
    const held = await pbx.finalFor(hold, 5000);
    assert.equal(held.status, 200);
    assert.match(held.body.toString(), /a=recvonly/);
    pbx.send(pbx.inDialog('ACK', dialog, hold.cseq.seq));
    await f.alice.waitRequest('ACK', 3000, (r) => r.callId === atAlice.callId);

    const bye = pbx.inDialog('BYE', dialog, hold.cseq.seq + 1);
    pbx.send(bye);
    const atAliceBye = await f.alice.waitRequest('BYE', 3000);
    assert.equal(atAliceBye.callId, uasDialog(atAlice, f.alice.tag).callId);
    assert.equal((await pbx.finalFor(bye, 3000)).status, 200);
  });
});
