import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { findPackageRoot } from '../../config/load';
import { defaultCommands } from '../../gateway/cli/registry';
import { runCli } from '../../gateway/cli/run';
import type { StartDeps } from '../../gateway/cli/start';
import { generateSelfSigned } from '../../gateway/tls/certificate';
import { memoryIo } from '../helpers/cli-io';

const ROOT = findPackageRoot();
const CLI = path.join(ROOT, 'dist', 'gateway', 'cli.js');
const FAKE_SERVER = path.join(__dirname, 'fixtures', 'fake-server.js');
const RUN_TIMEOUT_MS = 15_000;

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/**
 * Runs `node [-r preload] dist/gateway/cli.js args...` with a clean environment (no inherited
 * CIPHERGATE_* variables). `whenStdout` lets a test act (send a signal) once a text appears.
 */
function runNode(args: string[], opts: {
  cwd: string; env?: NodeJS.ProcessEnv; preload?: string; whenStdout?: [string, (pid: number) => void];
}): Promise<Run> {
  const nodeArgs = [...(opts.preload ? ['-r', opts.preload] : []), CLI, ...args];
  const child = spawn(process.execPath, nodeArgs, {
    cwd: opts.cwd, env: { PATH: process.env.PATH, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let triggered = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (opts.whenStdout && !triggered && stdout.includes(opts.whenStdout[0])) {
      triggered = true;
      opts.whenStdout[1](child.pid as number);
    }
  });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cli did not exit within ${RUN_TIMEOUT_MS} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('cli (ciphergate)', () => {
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cli-')); });
  afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

  describe('global flags and usage errors', () => {
    it('starts with a node shebang (npm "bin" target)', () => {
      assert.ok(fs.readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n'));
    });

    it('--help lists the commands, exit 0', async () => {
      const r = await runNode(['--help'], { cwd: tmp });
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^Usage: ciphergate <command>/);
      assert.match(r.stdout, /\n {2}start +Start the gateway/);
      assert.match(r.stdout, /\n {2}check-config +Validate/);
    });

    it('--version prints the package.json version, exit 0', async () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
      const r = await runNode(['--version'], { cwd: tmp });
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `ciphergate ${pkg.version}\n`);
    });

    it('no command: usage on stderr, exit 2', async () => {
      const r = await runNode([], { cwd: tmp });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /no command given[\s\S]*Usage: ciphergate/);
    });

    it('unknown command: names it, prints usage, exit 2', async () => {
      const r = await runNode(['frob'], { cwd: tmp });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^ciphergate: unknown command 'frob'\n[\s\S]*Usage: ciphergate <command>/);
    });

    it('unknown flag (global and per command): names it, prints usage, exit 2', async () => {
      const global = await runNode(['--frob'], { cwd: tmp });
      assert.equal(global.code, 2);
      assert.match(global.stderr, /unknown option '--frob'/);
      const local = await runNode(['check-config', '--frob'], { cwd: tmp });
      assert.equal(local.code, 2);
      assert.match(local.stderr, /^ciphergate: check-config: unknown option '--frob'\n[\s\S]*Usage: ciphergate check-config/);
    });

    it('a missing option value or a stray argument is a usage error, exit 2', async () => {
      assert.equal((await runNode(['check-config', '--config'], { cwd: tmp })).code, 2);
      const stray = await runNode(['check-config', 'extra'], { cwd: tmp });
      assert.equal(stray.code, 2);
      assert.match(stray.stderr, /'extra'/);
    });

    it('<command> --help prints the command usage, exit 0', async () => {
      const r = await runNode(['start', '--help'], { cwd: tmp });
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^Usage: ciphergate start \[--config FILE\] \[--set key=value \.\.\.\]/);
    });
  });

  describe('check-config', () => {
    it('valid configuration: "config OK" and a summary, exit 0, no files created', async () => {
      const r = await runNode(['check-config'], { cwd: tmp });
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n');
      assert.equal(lines[0], 'config OK');
      assert.ok(lines.includes(`  dataDir      ${path.join(tmp, 'data')}`), r.stdout);
      assert.ok(lines.includes('  sip          udp 5060, tcp 5060, tls 5061 on 0.0.0.0'), r.stdout);
      assert.ok(lines.includes('  sip.domain   ciphergate.local (realm ciphergate.local)'), r.stdout);
      assert.deepEqual(fs.readdirSync(tmp), [], 'check-config must not create dataDir');
    });

    it('invalid value: the error on stderr, exit 1', async () => {
      const r = await runNode(['check-config', '--set', 'sip.tlsPort=abc'], { cwd: tmp });
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'config: sip.tlsPort: must be an integer 0..65535 (got "abc")\n');
      assert.equal(r.stdout, '');
    });

    it('--config FILE, --set and the environment all reach the summary', async () => {
      fs.writeFileSync(path.join(tmp, 'cg.yaml'), 'sip:\n  udpPort: 5070\n  hosts: ["0.0.0.0", "::"]\n');
      const r = await runNode(['check-config', '-c', 'cg.yaml', '--set', 'sip.tlsPort=5091', '-s', 'sip.tcpPort=5090'], {
        cwd: tmp, env: { CIPHERGATE_DATA: '/srv/cg-data', CIPHERGATE__LOG__FORMAT: 'text' },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\n {2}dataDir {6}\/srv\/cg-data\n/);
      assert.match(r.stdout, /\n {2}sip {10}udp 5070, tcp 5090, tls 5091 on 0\.0\.0\.0, \[::\]\n/);
      assert.match(r.stdout, /\n {2}log {10}info, text, bodies off\n/);
    });

    it('unreadable --config FILE: exit 1 naming the file', async () => {
      const r = await runNode(['check-config', '--config', 'missing.yaml'], { cwd: tmp });
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `config: ${path.join(tmp, 'missing.yaml')}: cannot read (no such file)\n`);
    });

    it('checks a configured certificate/key pair and prints its fingerprint', async () => {
      const pems = await generateSelfSigned('sip.example.org');
      fs.writeFileSync(path.join(tmp, 'c.pem'), pems.cert);
      fs.writeFileSync(path.join(tmp, 'k.pem'), pems.key, { mode: 0o600 });
      const ok = await runNode(['check-config', '--set', 'tls.cert=c.pem', '--set', 'tls.key=k.pem'], { cwd: tmp });
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^TLS certificate SHA-256 fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}\nconfig OK\n/);
      const bad = await runNode(['check-config', '--set', 'tls.cert=c.pem', '--set', 'tls.key=c.pem'], { cwd: tmp });
      assert.equal(bad.code, 1);
      assert.equal(bad.stderr, `tls.key: ${path.join(tmp, 'c.pem')}: not an unencrypted PEM private key\n`);
    });
  });

  describe('start (in-process, fake gateway)', () => {
    function fakeDeps(events: string[], overrides: Partial<StartDeps> = {}): Partial<StartDeps> {
      let stopRequested: (signal: string) => void = () => undefined;
      return {
        logStream: new PassThrough().resume(),
        startGateway: async (config, _log, tlsMaterial) => {
          events.push(`start ${config.sip.tlsPort} ${tlsMaterial.fingerprint.length}`);
          setImmediate(() => stopRequested('SIGTERM'));
          return {
            listening: ['SIP/UDP 127.0.0.1:5060', 'SIP/TLS 127.0.0.1:5061'],
            stop: async () => { events.push('stop'); },
          };
        },
        watchShutdown: () => ({
          requested: new Promise((resolve) => { stopRequested = resolve; }),
          dispose: () => events.push('dispose'),
        }),
        ...overrides,
      };
    }

    it('loads config, creates dataDir 0700, ensures the certificate, prints listening + ready, stops on signal', async () => {
      const events: string[] = [];
      const io = memoryIo({ cwd: tmp });
      const code = await runCli(['start', '--set', 'sip.tlsPort=5071', '--set', 'dataDir=state'], io, defaultCommands(fakeDeps(events)));
      assert.equal(code, 0, io.err());
      assert.deepEqual(events, ['start 5071 95', 'stop', 'dispose']);
      assert.equal(fs.statSync(path.join(tmp, 'state')).mode & 0o777, 0o700);
      const lines = io.out().split('\n');
      assert.match(lines[0], /^TLS certificate SHA-256 fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      assert.equal(lines[1], `TLS certificate: ${path.join(tmp, 'state', 'tls', 'cert.pem')} (generated now, self-signed)`);
      assert.deepEqual(lines.slice(2), ['SIP/UDP 127.0.0.1:5060', 'SIP/TLS 127.0.0.1:5061', 'Ciphergate ready', '']);

      const again = memoryIo({ cwd: tmp });
      assert.equal(await runCli(['start', '--set', 'dataDir=state'], again, defaultCommands(fakeDeps([]))), 0);
      assert.equal(again.out().split('\n')[0], lines[0], 'the same certificate is reused');
      assert.match(again.out(), /\(loaded\)\n/);
    });

    it('a gateway that fails to start: message on stderr, exit 1', async () => {
      const io = memoryIo({ cwd: tmp });
      const deps = fakeDeps([], { startGateway: async () => { throw new Error('EADDRINUSE 0.0.0.0:5061'); } });
      assert.equal(await runCli(['start'], io, defaultCommands(deps)), 1);
      assert.equal(io.err(), 'ciphergate: cannot start: EADDRINUSE 0.0.0.0:5061\n');
      assert.ok(!io.out().includes('Ciphergate ready'));
    });

    it('a configuration error: message on stderr, exit 1, nothing started', async () => {
      const events: string[] = [];
      const io = memoryIo({ cwd: tmp });
      assert.equal(await runCli(['start', '--set', 'media.portMin=1'], io, defaultCommands(fakeDeps(events))), 1);
      assert.equal(io.err(), 'config: media.portMin: must be an integer 1024..65535 (got 1)\n');
      assert.deepEqual(events, []);
      assert.deepEqual(fs.readdirSync(tmp), []);
    });
  });

  describe('start (spawned, signals)', () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`on ${signal} calls gateway.stop() and exits 0`, async () => {
        const r = await runNode(['start', '--set', 'dataDir=d'], {
          cwd: tmp, preload: FAKE_SERVER, whenStdout: ['Ciphergate ready\n', (pid) => process.kill(pid, signal)],
        });
        assert.equal(r.code, 0, `signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
        assert.match(r.stdout, /SIP\/TLS fake 127\.0\.0\.1:0\nCiphergate ready\nfake gateway stopped\n$/);
      });
    }

    it('a SIGTERM during start-up still ends in a clean stop, exit 0', async () => {
      const r = await runNode(['start', '--set', 'dataDir=d'], {
        cwd: tmp, preload: FAKE_SERVER, whenStdout: ['TLS certificate: ', (pid) => process.kill(pid, 'SIGTERM')],
      });
      assert.equal(r.code, 0, `signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.match(r.stdout, /fake gateway stopped\n$/);
    });
  });
});
