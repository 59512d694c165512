/**
 * Graceful stop (issue 7 §4) through `ciphergate start` itself, with the real gateway and the
 * signal watch replaced by a promise: on SIGTERM /readyz turns 503, new INVITEs get 503 with
 * Retry-After (RFC 3261 §21.5.4), and calls in progress get a BYE only after service.drainSec.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createStartCommand } from '../../gateway/cli/start';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { establish, hangup } from '../b2bua/flows';
import { SipUa, srtpSdp } from '../b2bua/sip-ua';
import { get } from './scrape';

const PASSWORDS = { alice: 'Wonderland-Key-81', bob: 'Builder-Tool-Box-22' } as const;
let mediaBase = 45000 + Math.floor(Math.random() * 20) * 250;

interface Served {
  readonly gw: RunningGateway;
  readonly alice: SipUa;
  readonly bob: SipUa;
  /** Requests the stop as SIGTERM would (start.ts's ShutdownWatch). */
  sigterm(): void;
  /** `ciphergate start`'s exit status. */
  readonly exited: Promise<number>;
  cleanup(): void;
}

/** `ciphergate start` in this process, with alice and bob registered over TLS. */
async function serve(drainSec: number): Promise<Served> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-drain-'));
  const portMin = mediaBase;
  mediaBase += 250;
  let gwReady: (gw: RunningGateway) => void = () => undefined;
  const started = new Promise<RunningGateway>((r) => { gwReady = r; });
  let signal: (s: string) => void = () => undefined;
  const requested = new Promise<string>((r) => { signal = r; });
  const cmd = createStartCommand({
    logStream: new PassThrough().resume(),
    startGateway: async (config, log, tls) => {
      const gw = await startGateway(config, log, tls);
      gwReady(gw);
      return gw;
    },
    watchShutdown: () => ({ requested, dispose: () => undefined }),
  });
  const io = { stdout: new PassThrough().resume(), stderr: new PassThrough().resume(), env: {}, cwd: dir };
  const exited = cmd.run({
    set: [
      `dataDir=${dir}`, 'sip.host=127.0.0.1', 'sip.udpPort=0', 'sip.tcpPort=0', 'sip.tlsPort=0', 'admin.port=0', 'sip.domain=127.0.0.1',
      'media.inThread=true', 'media.address=127.0.0.1', `media.portMin=${portMin}`, `media.portMax=${portMin + 249}`,
      'log.level=error', `service.drainSec=${drainSec}`,
    ],
  }, io, []);
  const gw = await Promise.race([started, exited.then((code) => { throw new Error(`start exited ${code}`); })]);
  for (const [name, password] of Object.entries(PASSWORDS)) await gw.users.add(name, { password });
  const tlsPort = gw.transport.addresses().find((a) => a.protocol === 'TLS')!.port;
  const device = async (name: keyof typeof PASSWORDS): Promise<SipUa> => {
    const ua = await SipUa.tls(tlsPort, name, PASSWORDS[name]);
    assert.equal((await ua.register()).status, 200);
    return ua;
  };
  const alice = await device('alice');
  const bob = await device('bob');
  return {
    gw, alice, bob, exited,
    sigterm: () => signal('SIGTERM'),
    cleanup() {
      alice.close();
      bob.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

describe('graceful stop on SIGTERM (service.drainSec)', function () {
  this.timeout(30000);
  let s: Served | undefined;
  afterEach(async () => {
    if (s !== undefined) {
      s.sigterm();
      await within(s.exited, 10000, 'stop').catch(() => undefined);
      s.cleanup();
      s = undefined;
    }
  });

  it('MUST refuse new calls 503 + Retry-After, turn /readyz 503, and BYE an active call only after drainSec', async () => {
    s = await serve(1);
    const url = s.gw.admin.url;
    assert.equal((await get(url, '/readyz')).status, 200);
    await establish(s.alice, s.bob, 'sip:bob@127.0.0.1');

    const t0 = Date.now();
    s.sigterm();
    const byeAtAlice = s.alice.waitRequest('BYE', 5000);
    const byeAtBob = s.bob.waitRequest('BYE', 5000);

    const ready = await get(url, '/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(JSON.parse(ready.body), { status: 'not-ready', reason: 'draining' });
    assert.ok(ready.headers['retry-after'] !== undefined);

    const invite = s.bob.request('INVITE', 'sip:alice@127.0.0.1', { sdp: srtpSdp(30700) });
    const refused = await s.bob.transact(invite, 3000);
    assert.equal(refused.status, 503, 'RFC 3261 §21.5.4: a stopping server refuses new calls');
    assert.match(refused.headers.get('Retry-After') ?? '', /^\d+$/);
    assert.equal(s.gw.b2bua.list().length, 1, 'the call in progress goes on');

    const bye = await byeAtAlice;
    await byeAtBob;
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 900, `BYE only after drainSec (came after ${elapsed} ms)`);
    assert.match(bye.headers.get('Reason') ?? '', /shutting down/i);
    assert.equal(await within(s.exited, 10000, 'exit'), 0);
  });

  it('MUST stop at once when no call is in progress, whatever drainSec', async () => {
    s = await serve(30);
    const t0 = Date.now();
    s.sigterm();
    assert.equal(await within(s.exited, 8000, 'exit'), 0);
    assert.ok(Date.now() - t0 < 8000);
  });

  it('MUST end the drain as soon as the last call ends', async () => {
    s = await serve(30);
    const e = await establish(s.alice, s.bob, 'sip:bob@127.0.0.1');
    s.sigterm();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(s.gw.lifecycle.draining, true);
    assert.equal((await hangup(s.alice, e)).status, 200);
    const t0 = Date.now();
    assert.equal(await within(s.exited, 8000, 'exit'), 0);
    assert.ok(Date.now() - t0 < 8000, 'long before drainSec (30 s)');
  });
});
