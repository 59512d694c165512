/**
 * The gateway against SIPp (Debian sip-tester), a peer nobody here wrote: OPTIONS at 500/s for 10 s
 * over UDP and over TCP, with no failed transaction (RFC 3261 §11).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, startGateway, type GatewayProcess } from '../helpers/gateway-process';

const SCENARIO = path.join(REPO_ROOT, 'test', 'integration', 'scenarios', 'options-uac.xml');

interface SippRun {
  code: number | null;
  successful: number;
  failed: number;
  output: string;
}

/** Runs SIPp with a bounded call count and a hard global timeout; reads the final statistics CSV. */
function runSipp(transport: 'u1' | 't1', target: string, calls: number, rate: number): Promise<SippRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-sipp-'));
  const stf = path.join(dir, 'stats.csv');
  const args = [
    '-sf', SCENARIO, '-t', transport, '-i', '127.0.0.1', '-p', '0',
    '-m', String(calls), '-r', String(rate), '-l', String(rate * 2),
    '-timeout', '40s', '-timeout_error', '-nostdin',
    '-trace_stat', '-stf', stf, '-fd', '60', '-trace_err', '-error_file', path.join(dir, 'err.log'),
    target,
  ];
  return new Promise((resolve) => {
    const p = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.on('exit', (code) => {
      const csv = fs.existsSync(stf) ? fs.readFileSync(stf, 'utf8').trim().split('\n') : [];
      let successful = -1;
      let failed = -1;
      if (csv.length >= 2) {
        const head = csv[0].split(';');
        const last = csv[csv.length - 1].split(';');
        successful = Number(last[head.indexOf('SuccessfulCall(C)')]);
        failed = Number(last[head.indexOf('FailedCall(C)')]);
      }
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code, successful, failed, output });
    });
  });
}

describe('Integration: OPTIONS load from SIPp (RFC 3261 §11)', function () {
  this.timeout(90_000);
  let gw: GatewayProcess;

  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    await gw?.stop();
  });

  it('answers 5,000 OPTIONS at 500/s over UDP with no failed transaction', async () => {
    const r = await runSipp('u1', `127.0.0.1:${gw.udp.port}`, 5000, 500);
    assert.equal(r.code, 0, `sipp exit ${r.code}\n${r.output.slice(-2000)}`);
    assert.equal(r.failed, 0);
    assert.equal(r.successful, 5000);
  });

  it('answers 5,000 OPTIONS at 500/s over one TCP connection with no failed transaction', async () => {
    const r = await runSipp('t1', `127.0.0.1:${gw.tcp.port}`, 5000, 500);
    assert.equal(r.code, 0, `sipp exit ${r.code}\n${r.output.slice(-2000)}`);
    assert.equal(r.failed, 0);
    assert.equal(r.successful, 5000);
  });
});
