/**
 * Worker-thread mode (issue "media plane" §7): the relay runs in node:worker_threads, calls are
 * spread over the workers, keys cross the thread boundary only as needed, and a flooded call
 * delays neither signalling nor a call on another worker.
 */
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { EmbeddedMediaEngine, resolveMediaSettings } from '../../../media/engine';
import { bridge, engineSettings, rtpPacket, sleep, peerFixture } from './helpers';

/** A flood source in a thread of its own, so that the test's event loop stays free. */
function flood(port: number, ms: number): Promise<number> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const s = require('node:dgram').createSocket('udp4');
    const junk = Buffer.alloc(172, 0x80);
    let n = 0;
    s.bind(0, '127.0.0.1', () => {
      const end = Date.now() + workerData.ms;
      const burst = () => {
        for (let i = 0; i < 200; i++) { s.send(junk, workerData.port, '127.0.0.1'); n++; }
        if (Date.now() < end) setImmediate(burst); else setTimeout(() => { parentPort.postMessage(n); s.close(); }, 20);
      };
      burst();
    });`;
  const w = new Worker(code, { eval: true, workerData: { port, ms } });
  return new Promise((resolve, reject) => {
    w.once('message', (n: number) => {
      void w.terminate();
      resolve(n);
    });
    w.once('error', reject);
  });
}

describe('media engine in worker threads', () => {
  let engine: EmbeddedMediaEngine;
  const open = peerFixture(() => engine);

  beforeEach(() => {
    engine = new EmbeddedMediaEngine({ media: engineSettings({ inThread: false, workers: 2 }) });
  });

  it('MUST default to one worker per core minus one for signalling, at least one', () => {
    const s = engineSettings({ inThread: false, workers: 0 });
    assert.equal(resolveMediaSettings(s, 2).threads, 1);
    assert.equal(resolveMediaSettings(s, 1).threads, 1);
    assert.equal(resolveMediaSettings(s, 8).threads, 7);
    assert.equal(resolveMediaSettings({ ...s, workers: 3 }, 8).threads, 3);
    assert.equal(resolveMediaSettings({ ...s, inThread: true }, 8).threads, 0);
    assert.equal(engine.threads, 2);
  });

  it('MUST bridge SRTP ↔ RTP from a worker thread with the real SRTP contexts', async () => {
    const a = await open({ kind: 'srtp', mux: true });
    const b = await open({ kind: 'rtp' });
    await bridge(engine, 'w1', a, b, 'RTP/AVP');
    for (let seq = 0; seq < 5; seq++) a.sendRtp(rtpPacket({ seq, payload: Buffer.alloc(160, seq) }));
    const atB = await b.waitRtp(5);
    assert.deepEqual(atB.map((p) => p[12]), [0, 1, 2, 3, 4]);
    b.sendRtp(rtpPacket({ seq: 9, ssrc: 0x99 }));
    await a.waitRtp(1);
    assert.equal(a.refused, 0);
    const stats = await engine.query('w1');
    assert.equal(stats.legs[0]!.streams[0]!.rx.packets, 5);
    assert.equal(stats.legs[1]!.streams[0]!.tx.packets, 5);
    assert.equal(stats.legs[0]!.streams[0]!.mode, 'srtp');
  });

  it('MUST keep signalling and a call on another worker going while one call is flooded', async function () {
    this.timeout(15000);
    const a1 = await open({ kind: 'srtp' });
    const b1 = await open({ kind: 'rtp' });
    await bridge(engine, 'flooded', a1, b1, 'RTP/AVP');
    const a2 = await open({ kind: 'srtp' });
    const b2 = await open({ kind: 'rtp' });
    await bridge(engine, 'quiet', a2, b2, 'RTP/AVP'); // the other worker: fewest calls
    const flooding = flood(a1.engineRtp, 1500);
    await sleep(100);
    const signalling: number[] = [];
    for (let i = 0; i < 20; i++) {
      a2.sendRtp(rtpPacket({ seq: 100 + i }));
      const t0 = performance.now();
      const p = await open({ kind: 'rtp' });
      await engine.offer(`s${i}`, 'x', p.sdp(), { transport: 'RTP/AVP' });
      signalling.push(performance.now() - t0);
      await sleep(20);
    }
    const sent = await flooding;
    await b2.waitRtp(20, 3000);
    const f = (await engine.query('flooded')).legs[0]!.streams[0]!;
    assert.ok(sent > 5000, `the flood sent ${sent} packets`);
    assert.ok(f.dropped.flood + f.dropped['srtp-auth'] > 1000, 'the flood was dropped and counted');
    assert.equal(b1.rtp.length, 0, 'none of it reached the other leg');
    assert.ok(Math.max(...signalling) < 500, `offers took at most ${Math.max(...signalling).toFixed(1)} ms`);
    assert.equal(b2.rtp.length, 20, 'the call on the other worker lost nothing');
  });
});
