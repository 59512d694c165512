/**
 * Transcoding asked for by the B2BUA (calls.transcode, gateway/b2bua/media.ts): a user is offered
 * the caller's codecs then the transcodable ones it lacks, a trunk its own codecs; two ends without
 * a codec in common are joined through the engine's transcoder (RFC 3264 §6.1), or refused with
 * 488 when calls.transcode is false.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CallMedia, TRANSCODE_APPEND } from '../../gateway/b2bua/media';
import type { MediaEngine } from '../../media/engine';
import { loadConfig } from '../../config/load';
import { establish, hangup, waitFor } from './flows';
import { labWithPair } from './harness';
import { dtlsSdp, rtpSdp, srtpAnswer, srtpSdp, uacDialog } from './sip-ua';

/** An Opus-only SDES-SRTP description (baresip with audio_codecs=opus/48000/2); `tag`: the a=crypto tag it answers. */
function opusSdp(port: number, tag = 1): string {
  return [
    'v=0', 'o=- 4000 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/SAVP 111 110`, 'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 stereo=1;sprop-stereo=1',
    'a=rtpmap:110 telephone-event/48000', 'a=fmtp:110 0-15',
    `a=crypto:${tag} AES_CM_128_HMAC_SHA1_80 inline:${randomBytes(30).toString('base64')}`, 'a=sendrecv', '',
  ].join('\r\n');
}

/** The m= line of an SDP body. */
const mLine = (sdp: string): string => /m=audio \d+ (\S+ [\d ]+)\r\n/.exec(sdp)?.[1] ?? '';

describe('B2BUA transcoding (calls.transcode)', function () {
  this.timeout(20000);

  describe('media flags', () => {
    const trunk = { kind: 'trunk', policy: { profile: 'RTP/AVP', codecs: ['PCMA', 'PCMU'], telephoneEvent: true } } as const;

    it('MUST give a user the append policy, a trunk transcoding, and end-to-end media neither', () => {
      const media = new CallMedia({} as MediaEngine, 'c', true, true);
      assert.deepEqual(TRANSCODE_APPEND, ['PCMU', 'PCMA', 'G722', 'opus']);
      assert.deepEqual(media.offerFlags({ kind: 'user' }, { kind: 'user' }, srtpSdp(1)), { transport: 'RTP/SAVP', codecs: { append: TRANSCODE_APPEND }, requireSecure: true });
      assert.deepEqual(media.offerFlags(trunk, { kind: 'user' }, rtpSdp(1)), { transport: 'RTP/SAVP', codecs: { append: TRANSCODE_APPEND }, requireSecure: false });
      assert.deepEqual(media.offerFlags({ kind: 'user' }, trunk, srtpSdp(1)), { transport: 'RTP/AVP', codecs: { allow: ['PCMA', 'PCMU'], transcode: true }, requireSecure: true });
      assert.deepEqual(media.offerFlags({ kind: 'user' }, { kind: 'user' }, dtlsSdp(1)), { transport: 'pass-through', requireSecure: true });
    });

    it('MUST ask for no transcoding with calls.transcode=false', () => {
      const media = new CallMedia({} as MediaEngine, 'c', true, false);
      assert.deepEqual(media.offerFlags({ kind: 'user' }, { kind: 'user' }, srtpSdp(1)), { transport: 'RTP/SAVP', requireSecure: true });
      assert.deepEqual(media.offerFlags({ kind: 'user' }, trunk, srtpSdp(1)), { transport: 'RTP/AVP', codecs: { allow: ['PCMA', 'PCMU'] }, requireSecure: true });
    });

    it('MUST default calls.transcode to true and take false', () => {
      assert.equal(loadConfig({ env: {} }).calls.transcode, true);
      assert.equal(loadConfig({ env: {}, set: ['calls.transcode=false'] }).calls.transcode, false);
    });
  });

  describe('calls.transcode=true (the default)', () => {
    const f = labWithPair();
    afterEach(async () => {
      await waitFor(() => f.lab.t.gw.b2bua.list().length === 0, 3000, 'calls over');
    });

    it('MUST connect an Opus-only caller to a PCMU-only callee: PCMU offered after Opus, each answered in its own codec', async () => {
      const e = await establish(f.alice, f.bob, 'sip:bob@127.0.0.1', { callerSdp: opusSdp(31000) });
      const offer = e.inbound.body.toString();
      assert.equal(mLine(offer), 'RTP/SAVP 111 0 8 9 110 101', 'Opus first, then what the engine can transcode to');
      assert.match(offer, /a=rtpmap:0 PCMU\/8000/);
      assert.match(offer, /a=rtpmap:101 telephone-event\/8000/);
      assert.equal(e.ok.status, 200);
      const answer = e.ok.body.toString();
      assert.equal(mLine(answer), 'RTP/SAVP 111 110', 'alice is answered in Opus, the codec she offered');
      assert.match(answer, /a=rtpmap:111 opus\/48000\/2/);
      assert.match(answer, /a=fmtp:111 stereo=1;sprop-stereo=1/);
      assert.doesNotMatch(answer, /PCMU|PCMA/);
      assert.match(answer, /a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/);
      assert.equal((await hangup(f.alice, e)).status, 200);
    });

    it('MUST relay, not transcode, when the callee shares the caller\'s codec', async () => {
      const e = await establish(f.alice, f.bob, 'sip:bob@127.0.0.1'); // PCMU both
      assert.equal(mLine(e.inbound.body.toString()), 'RTP/SAVP 0 8 9 96 101 97');
      assert.equal(mLine(e.ok.body.toString()), 'RTP/SAVP 0 101');
      assert.equal((await hangup(f.alice, e)).status, 200);
    });

    it('MUST connect an Opus-only user to a PCMA/PCMU trunk through the transcoder', async () => {
      const e = await establish(f.alice, f.lab.pbx, 'sip:+34600111222@127.0.0.1', { callerSdp: opusSdp(31000) });
      const offer = e.inbound.body.toString();
      assert.equal(mLine(offer), 'RTP/AVP 8 0 101', 'the trunk\'s codecs, telephone-event on their clock');
      assert.doesNotMatch(offer, /opus|a=crypto/);
      assert.equal(mLine(e.ok.body.toString()), 'RTP/SAVP 111 110');
      assert.equal((await hangup(f.alice, e)).status, 200);
    });

    it('MUST let an Opus-only user answer a trunk\'s G.711 call', async () => {
      const inv = f.lab.pbx.request('INVITE', `sip:+34911000001@127.0.0.1:${f.lab.udpPort}`, { sdp: rtpSdp(30700) });
      f.lab.pbx.send(inv);
      const atAlice = await f.alice.waitRequest('INVITE', 5000);
      const offer = atAlice.body.toString();
      assert.equal(mLine(offer), 'RTP/SAVP 8 0 9 96 101 97', 'the PBX\'s codecs, then G.722 and Opus');
      assert.match(offer, /a=rtpmap:96 opus\/48000\/2/);
      const tag = /a=crypto:(\d{1,3}) AES_CM_128_HMAC_SHA1_80 /.exec(offer)![1];
      f.alice.respond(atAlice, 200, 'OK', { sdp: opusSdp(31000, Number(tag)).replace('RTP/SAVP 111 110', 'RTP/SAVP 96 97').replace(/:111 /g, ':96 ').replace(/:110 /g, ':97 ') });
      const ok = await f.lab.pbx.finalFor(inv, 5000);
      assert.equal(ok.status, 200);
      assert.equal(mLine(ok.body.toString()), 'RTP/AVP 8 101', 'the PBX is answered in PCMA, its first choice');
      const dialog = uacDialog(inv, ok);
      f.lab.pbx.send(f.lab.pbx.inDialog('ACK', dialog, inv.cseq.seq));
      await f.alice.waitRequest('ACK', 3000);
      const bye = f.lab.pbx.inDialog('BYE', dialog, inv.cseq.seq + 1);
      f.lab.pbx.send(bye);
      await f.alice.waitRequest('BYE', 3000);
      assert.equal((await f.lab.pbx.finalFor(bye, 3000)).status, 200);
    });
  });

  describe('calls.transcode=false', () => {
    const f = labWithPair(['calls.transcode=false']);

    it('MUST answer 488 to an Opus-only caller whose callee answers PCMU, and end the callee\'s leg', async () => {
      const invite = f.alice.request('INVITE', 'sip:bob@127.0.0.1', { sdp: opusSdp(31000) });
      const final = f.alice.transact(invite, 8000);
      const inbound = await f.bob.waitRequest('INVITE', 5000);
      assert.equal(mLine(inbound.body.toString()), 'RTP/SAVP 111 110', 'nothing appended');
      // What a PCMU-only phone that ignored the offer's codecs would answer.
      f.bob.respond(inbound, 200, 'OK', { sdp: srtpAnswer(inbound.body.toString(), 32000) });
      assert.equal((await final).status, 488);
      await f.bob.waitRequest('ACK', 3000, (r) => r.callId === inbound.callId);
      await f.bob.waitRequest('BYE', 3000, (r) => r.callId === inbound.callId);
      await waitFor(() => f.lab.t.gw.b2bua.list().length === 0, 3000, 'call over');
    });

    it('MUST answer 488 to an Opus-only user calling a PCMA/PCMU trunk, without calling the trunk', async () => {
      const res = await f.alice.transact(f.alice.request('INVITE', 'sip:+34600111222@127.0.0.1', { sdp: opusSdp(31000) }), 8000);
      assert.equal(res.status, 488);
      await f.lab.pbx.expectNoRequest('INVITE', 200);
    });
  });
});
