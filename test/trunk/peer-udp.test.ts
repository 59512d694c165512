/**
 * Trunks over a real UDP socket on 127.0.0.1: the gateway's own transport, parser and
 * transaction layer against a small in-test PBX stand-in (its registrar uses our DigestServer),
 * and against SIPp (Debian sip-tester) answering OPTIONS, a peer nobody here wrote.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nullLogger } from '../../gateway/log/logger';
import { SipStack } from '../../gateway/sip/stack';
import { TransportLayer } from '../../gateway/sip/transport/transport-layer';
import { TrunkManager } from '../../gateway/trunk/manager';
import type { Trunk, TrunkConfig } from '../../gateway/trunk/types';
import { freePort } from '../integration/peers/ports';
import { FR } from './harness';
import { PASSWORD, REALM, TinyPbx } from './tiny-pbx';

async function gateway(trunks: TrunkConfig[]): Promise<{ transport: TransportLayer; stack: SipStack; manager: TrunkManager; stop(): Promise<void> }> {
  const transport = await TransportLayer.listen({ hosts: ['127.0.0.1'], udpPort: 0 });
  const stack = new SipStack(transport, { log: nullLogger, product: 'Ciphergate/test', transactions: { timers: { t1: 50, t2: 400, t4: 500 } } });
  const manager = await TrunkManager.create({
    trunks,
    transactions: stack.transactions,
    listening: transport.addresses(),
    numbering: FR,
    realm: 'gw.example',
    userAgent: 'Ciphergate/test',
    keepAliveTimeoutMs: 150,
    unregisterWaitMs: 500,
  });
  return {
    transport,
    stack,
    manager,
    async stop() {
      await manager.stop();
      stack.transactions.close();
      await transport.close();
    },
  };
}

function once<T>(register: (resolve: (v: T) => void) => void, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    register((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

describe('Trunks: against peers on 127.0.0.1 UDP', function () {
  this.timeout(20_000);

  describe('a PBX stand-in with our DigestServer (RFC 3261 §10.2, §11, §22.2)', () => {
    let pbx: TinyPbx;
    let gw: Awaited<ReturnType<typeof gateway>>;

    beforeEach(async () => {
      pbx = await TinyPbx.start();
    });
    afterEach(async () => {
      await gw?.stop();
      await pbx.close();
    });

    it('goes up on OPTIONS answers, down when the peer goes silent, and up again', async () => {
      gw = await gateway([{ name: 'pbx', host: '127.0.0.1', port: pbx.port, transport: 'UDP', keepAlive: { intervalSec: 0.2, failures: 2 } }]);
      const up = once<Trunk>((r) => gw.manager.once('up', r), 3000, 'up');
      gw.manager.start();
      assert.equal((await up).name, 'pbx');
      const options = pbx.of('OPTIONS')[0];
      assert.equal(options.via[0].host, '127.0.0.1');
      assert.equal(options.via[0].port, gw.transport.addresses()[0].port);

      pbx.silent = true;
      const down = once<Trunk>((r) => gw.manager.once('down', r), 3000, 'down');
      assert.equal((await down).status, 'down');
      assert.deepEqual(gw.manager.select([gw.manager.get('pbx') as Trunk]), []);

      pbx.silent = false;
      await once<Trunk>((r) => gw.manager.once('up', r), 3000, 'up again');
      assert.equal(gw.manager.select([gw.manager.get('pbx') as Trunk]).length, 1);
    });

    it('registers with digest, refreshes before the 2 s expiry, and un-registers on stop', async () => {
      gw = await gateway([{
        name: 'pbx', host: '127.0.0.1', port: pbx.port, transport: 'UDP',
        auth: { username: 'gw', password: PASSWORD, realm: REALM }, register: { enabled: true, expiresSec: 600 }, keepAlive: { intervalSec: 0 },
      }]);
      let registered = 0;
      const twice = once<void>((r) => gw.manager.on('registered', (_t, expires) => {
        assert.equal(expires, 2);
        if (++registered === 2) r();
      }), 5000, 'two registrations');
      gw.manager.start();
      await twice;
      const regs = pbx.of('REGISTER');
      assert.ok(regs.length >= 4, `${regs.length} REGISTERs`); // 401 + 200, twice
      assert.ok(regs.every((r) => r.callId === regs[0].callId));
      assert.ok(regs.every((r, i) => i === 0 || r.cseq.seq > regs[i - 1].cseq.seq));
      assert.ok(regs.every((r) => !JSON.stringify(r.headers.getAll('Authorization')).includes(PASSWORD)));
      await gw.manager.stop();
      assert.equal(pbx.of('REGISTER').at(-1)?.headers.get('Expires'), '0');
    });
  });

  describe('SIPp as the PBX (OPTIONS answered by a peer we did not write)', () => {
    const sippAvailable = spawnSync('sipp', ['-v'], { stdio: 'ignore' }).error === undefined;
    let sipp: ChildProcess | undefined;
    let dir: string;
    let gw: Awaited<ReturnType<typeof gateway>> | undefined;

    before(function () {
      if (!sippAvailable) this.skip();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-trunk-sipp-'));
      fs.writeFileSync(path.join(dir, 'uas.xml'), [
        '<?xml version="1.0" encoding="ISO-8859-1" ?>',
        '<scenario name="OPTIONS UAS">',
        '  <recv request="OPTIONS" />',
        '  <send><![CDATA[',
        '',
        '      SIP/2.0 200 OK',
        '      [last_Via:]',
        '      [last_From:]',
        '      [last_To:];tag=[pid]SIPpTag01[call_number]',
        '      [last_Call-ID:]',
        '      [last_CSeq:]',
        '      Content-Length: 0',
        '',
        '    ]]>',
        '  </send>',
        '</scenario>',
      ].join('\n'));
    });
    after(async () => {
      await gw?.stop();
      if (sipp !== undefined && sipp.exitCode === null) sipp.kill('SIGKILL');
      if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('sees the SIPp trunk up, then down once SIPp is gone', async () => {
      const port = await freePort();
      sipp = spawn('sipp', ['-sf', path.join(dir, 'uas.xml'), '-t', 'u1', '-i', '127.0.0.1', '-p', String(port), '-m', '1000', '-nostdin', '-timeout', '30s'], {
        cwd: dir,
        stdio: 'ignore',
      });
      gw = await gateway([{ name: 'sipp', host: '127.0.0.1', port, transport: 'UDP', keepAlive: { intervalSec: 0.25, failures: 2 } }]);
      const up = once<Trunk>((r) => gw?.manager.once('up', r), 8000, 'up from SIPp');
      gw.manager.start();
      assert.equal((await up).name, 'sipp');
      const down = once<Trunk>((r) => gw?.manager.once('down', r), 5000, 'down after SIPp exits');
      sipp.kill('SIGKILL');
      assert.equal((await down).status, 'down');
    });
  });
});
