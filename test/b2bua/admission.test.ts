/**
 * Issue 5 §5 and the INVITE checks before a call exists: TLS only for users, digest with 407
 * (RFC 3261 §22.3), From must be the authenticated user, 503 + Retry-After for the limits
 * (RFC 3261 §21.5.4), 422 for a too-small session interval (RFC 4028 §9), routing refusals, and
 * trunk calls: failover, a busy PBX, no codec in common (488), an inbound call to a user.
 */
import assert from 'node:assert/strict';
import { parseNameAddr, serializeUri } from '../../gateway/sip/message/grammar';
import { establish, hangup, waitFor } from './flows';
import { labWithPair } from './harness';
import { rtpSdp, SipUa, srtpSdp } from './sip-ua';

describe('B2BUA admission, limits and trunks (RFC 3261 §22.3, §21.5.4; RFC 4028 §9)', function () {
  this.timeout(20000);
  const f = labWithPair(['calls.maxPerUser=1', 'calls.cpsPerSource=20']);
  afterEach(async () => {
    await waitFor(() => f.lab.t.gw.b2bua.list().length === 0, 3000, 'calls over');
    for (const ua of [f.alice, f.bob, f.lab.pbx, f.lab.pbx2]) {
      ua.requests.length = 0;
      ua.responses.length = 0;
    }
  });

  it('MUST challenge a user INVITE with 407 and refuse a From that is not the authenticated user', async () => {
    const bare = f.alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000) });
    f.alice.send(bare);
    const challenge = await f.alice.finalFor(bare);
    assert.equal(challenge.status, 407);
    assert.ok(challenge.headers.getAll('Proxy-Authenticate').length >= 1);
    const spoof = f.alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000), from: parseNameAddr('<sip:bob@127.0.0.1>;tag=zz') });
    const res = await f.alice.transact(spoof);
    assert.equal(res.status, 403);
    await f.bob.expectNoRequest('INVITE', 200);
  });

  it('MUST refuse a user INVITE that does not come over TLS (403)', async () => {
    const tcp = await SipUa.tls(f.lab.t.port('TCP'), 'alice', 'Wonderland-Key-81', 'TCP');
    try {
      const res = await tcp.transact(tcp.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000) }));
      assert.equal(res.status, 403);
      assert.match(res.reason, /TLS/);
      await f.bob.expectNoRequest('INVITE', 200);
    } finally {
      tcp.close();
    }
  });

  it('MUST answer 503 with Retry-After when the user is at its concurrent-call limit', async () => {
    const e = await establish(f.alice, f.bob, 'sip:bob@127.0.0.1');
    const second = f.alice.request('INVITE', 'sip:carol@127.0.0.1', { sdp: srtpSdp(30000) });
    const res = await f.alice.transact(second);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('Retry-After'), '5');
    await hangup(f.alice, e);
  });

  it('MUST answer 422 with Min-SE to a session interval below it', async () => {
    const inv = f.alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: srtpSdp(30000), headers: [['Session-Expires', '30'], ['Supported', 'timer']] });
    const res = await f.alice.transact(inv);
    assert.equal(res.status, 422);
    assert.equal(res.headers.get('Min-SE'), '90');
  });

  it('MUST pass the router\'s refusals: 404 unknown, 480 offline', async () => {
    assert.equal((await f.alice.transact(f.alice.request('INVITE', 'sip:nobody@127.0.0.1', { sdp: srtpSdp(30000) }))).status, 404);
    assert.equal((await f.alice.transact(f.alice.request('INVITE', 'sip:carol@127.0.0.1', { sdp: srtpSdp(30000) }))).status, 480);
  });

  it('MUST answer 488 when the offer has no codec the trunk allows', async () => {
    // G.729 (RFC 3551 §4.5.6): a codec the engine cannot transcode.
    const g729 = srtpSdp(30000).replace('RTP/SAVP 0 101', 'RTP/SAVP 18 101').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:18 G729/8000');
    const res = await f.alice.transact(f.alice.request('INVITE', 'sip:+34600111222@127.0.0.1', { sdp: g729 }));
    assert.equal(res.status, 488);
    await f.lab.pbx.expectNoRequest('INVITE', 200);
  });

  it('MUST fail over to the next trunk on 503 and call out with plain RTP', async () => {
    const inv = f.alice.request('INVITE', 'sip:+34600111222@127.0.0.1', { sdp: srtpSdp(30000) });
    const final = f.alice.transact(inv, 8000);
    const first = await f.lab.pbx.waitRequest('INVITE', 5000);
    assert.match(first.body.toString(), /RTP\/AVP/);
    assert.doesNotMatch(first.body.toString(), /a=crypto/, 'no key toward a plain trunk');
    assert.match(serializeUri(first.uri), /^sip:\+34600111222@/);
    assert.equal(first.headers.get('P-Asserted-Identity'), '<sip:+34911000001@127.0.0.1>');
    f.lab.pbx.respond(first, 503, 'Service Unavailable');
    const second = await f.lab.pbx2.waitRequest('INVITE', 5000);
    f.lab.pbx2.respond(second, 200, 'OK', { sdp: rtpSdp(30600) });
    const ok = await final;
    assert.equal(ok.status, 200);
    assert.match(ok.body.toString(), /RTP\/SAVP/, 'alice keeps SRTP');
    const e = { callId: inv.callId, local: inv.from, remote: ok.to, target: 'sip:127.0.0.1' };
    f.alice.send(f.alice.inDialog('ACK', e, inv.cseq.seq));
    await f.lab.pbx2.waitRequest('ACK', 3000);
    f.alice.send(f.alice.inDialog('BYE', e, inv.cseq.seq + 1));
    await f.lab.pbx2.waitRequest('BYE', 3000);
  });

  it('MUST give the caller the PBX\'s busy without trying another trunk', async () => {
    const final = f.alice.transact(f.alice.request('INVITE', 'sip:+34600111222@127.0.0.1', { sdp: srtpSdp(30000) }), 8000);
    const first = await f.lab.pbx.waitRequest('INVITE', 5000);
    f.lab.pbx.respond(first, 486, 'Busy Here');
    assert.equal((await final).status, 486);
    await f.lab.pbx2.expectNoRequest('INVITE', 300);
  });

  it('MUST answer 503 (after failover) when every trunk fails', async () => {
    const final = f.alice.transact(f.alice.request('INVITE', 'sip:+34600111222@127.0.0.1', { sdp: srtpSdp(30000) }), 8000);
    f.lab.pbx.respond(await f.lab.pbx.waitRequest('INVITE', 5000), 503, 'Service Unavailable');
    f.lab.pbx2.respond(await f.lab.pbx2.waitRequest('INVITE', 5000), 503, 'Service Unavailable');
    const res = await final;
    assert.equal(res.status, 503);
    assert.ok(res.headers.get('Retry-After') !== undefined);
  });

  it('MUST ring a user called by a trunk over the user\'s TLS flow with an SRTP offer', async () => {
    const inv = f.lab.pbx.request('INVITE', `sip:+34911000002@127.0.0.1:${f.lab.udpPort}`, { sdp: rtpSdp(30700) });
    f.lab.pbx.send(inv);
    const atBob = await f.bob.waitRequest('INVITE', 5000);
    assert.match(atBob.body.toString(), /RTP\/SAVP/);
    assert.match(atBob.body.toString(), /a=crypto:/);
    f.bob.respond(atBob, 486, 'Busy Here');
    assert.equal((await f.lab.pbx.finalFor(inv)).status, 486);
  });

  it('MUST answer 503 with Retry-After above the calls-per-second limit of a source', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const inv = f.lab.pbx.request('INVITE', `sip:+34911000099@127.0.0.1:${f.lab.udpPort}`, { sdp: rtpSdp(30700) });
      f.lab.pbx.send(inv);
      statuses.push((await f.lab.pbx.finalFor(inv)).status);
    }
    assert.ok(statuses.includes(503), `statuses: ${statuses.join(',')}`);
    assert.ok(statuses.includes(404), 'the first ones were admitted (and routed: 404)');
  });
});
