/**
 * One real-peer check of the *_32 SRTCP interop (RFC 3711 §3.4, §5.2 vs libre): baresip 1.0 with
 * its built-in srtp module (libre) tags SRTCP with 32 bits on AES_CM_128_HMAC_SHA1_32. Through the
 * engine (worker-thread mode, as deployed) its SRTCP MUST authenticate, and ours MUST reach it
 * with the same tag length once its own was seen.
 * Harness: test/media/engine/sip-harness.ts; peers: work/shared/PEERS.md.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { EmbeddedMediaEngine, type StreamLegStats } from '../../../media/engine';
import { engineSettings, sleep, waitFor } from '../engine/helpers';
import { BaresipUa, MiniB2bua, waitEvent } from '../engine/sip-harness';

describe('baresip (libre srtp) on AES_CM_128_HMAC_SHA1_32 through the relay', function () {
  this.timeout(60_000);
  let engine: EmbeddedMediaEngine | undefined;
  let harness: MiniB2bua | undefined;
  const uas: BaresipUa[] = [];

  before(() => {
    try {
      execFileSync('sh', ['-c', 'command -v baresip'], { stdio: 'ignore' });
    } catch {
      throw new Error('baresip is not installed: run scripts/install-test-peers.sh (this test is never skipped)');
    }
  });
  after(async () => {
    for (const ua of uas.splice(0)) {
      await ua.stop();
      ua.remove();
    }
    harness?.close();
    await engine?.close();
  });

  it('its 32-bit-tagged SRTCP MUST NOT be dropped as srtp-auth, and once seen it MUST get 32-bit tags back', async () => {
    engine = new EmbeddedMediaEngine({ media: engineSettings({ inThread: false, workers: 1 }) });
    // baresip 1.0 offers only AES_CM_128_HMAC_SHA1_80: it answers our _32-only offer instead.
    const a = await BaresipUa.start({ name: 'a', tone: 1000, rtpPorts: '35200-35299' });
    const b = await BaresipUa.start({ name: 'b', tone: 440, mediaenc: 'srtp-mand', rtpPorts: '35300-35399' });
    uas.push(a, b);
    harness = new MiniB2bua(engine, b.sipPort, { transport: 'RTP/SAVP', sdesSuites: ['AES_CM_128_HMAC_SHA1_32'] });
    await harness.listen();
    await waitFor(() => a.log().includes('baresip is ready'), 10_000, 'baresip a to be ready');
    a.command('dial', `sip:b@127.0.0.1:${harness.port}`);
    await waitFor(() => harness!.established, 15_000, `the call to be established; harness errors: ${harness.errors.join('; ')}\n${a.log().slice(-1500)}`);
    const srtpLeg = async (): Promise<StreamLegStats> => (await engine!.query(harness!.callId!)).legs[1]!.streams[0]!;
    // Until baresip's first SRTCP authenticates, ours carries the RFC's 80-bit tag (baresip drops it).
    let sentBefore = 0;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(100)) {
      const s = await srtpLeg();
      if (s.rx.rtcpPackets >= 1) {
        sentBefore = s.tx.rtcpPackets;
        break;
      }
    }
    let leg = await srtpLeg();
    assert.ok(leg.rx.rtcpPackets >= 1, `baresip's SRTCP was accepted (${leg.rx.rtcpPackets})`);
    for (const deadline = Date.now() + 20_000; leg.tx.rtcpPackets <= sentBefore && Date.now() < deadline; await sleep(100)) leg = await srtpLeg();
    await sleep(500); // let baresip log what it made of our last SRTCP
    a.command('hangup');
    await waitEvent(a, 'CALL_CLOSED', 5000);
    assert.deepEqual(harness.errors, []);
    assert.equal(leg.mode, 'srtp');
    assert.equal(leg.suite, 'AES_CM_128_HMAC_SHA1_32');
    assert.match(b.log(), /cryptosuite=AES_CM_128_HMAC_SHA1_32/);
    assert.ok(leg.rx.packets > 100, `SRTP flowed from baresip: ${leg.rx.packets}`);
    assert.equal(leg.srtpAuthFailures, 0, 'no SRTP or SRTCP packet of baresip failed authentication');
    assert.equal(leg.dropped['srtp-auth'], 0);
    assert.ok(leg.tx.rtcpPackets > sentBefore, `SRTCP went to baresip after it was learnt (${leg.tx.rtcpPackets} > ${sentBefore})`);
    const refusedByBaresip = b.log().match(/failed to decrypt RTCP/g)?.length ?? 0;
    assert.ok(refusedByBaresip <= sentBefore, `baresip refused ${refusedByBaresip} SRTCP packets; only the ${sentBefore} sent before learning may fail`);
  });
});
