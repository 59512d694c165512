/**
 * `ciphergate zeroize` / scripts/ims-zeroing.sh: emergency erase of a gateway's data.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { defaultCommands } from '../../gateway/cli/registry';
import { runCli } from '../../gateway/cli/run';
import { ZeroizeRefusedError } from '../../gateway/ops/errors';
import { passphraseSecret } from '../../gateway/ops/backup-secret';
import { writePidFile } from '../../gateway/ops/pid-file';
import { zeroize } from '../../gateway/ops/zeroize';
import { formatZeroizeReport } from '../../gateway/ops/zeroize-report';
import { passPatterns } from '../../gateway/ops/zeroize-erase';
import { planZeroize } from '../../gateway/ops/zeroize-plan';
import { openAccountStore } from '../../gateway/store';
import { memoryIo, type MemoryIo } from '../helpers/cli-io';
import {
  filesContaining, hashTree, linkAll, makeImmutable, populate, readTree, removeTree, run, startGatewayOn, tempRoot, testConfig,
  ZEROING_SCRIPT, type RunningGateway,
} from './helpers';

const SECRET = passphraseSecret('a long enough backup passphrase');

/** A minimal data directory: the store (database + master key) and an audit log line. */
async function smallDataDir(dataDir: string): Promise<void> {
  const { store, masterKey } = await openAccountStore(dataDir);
  masterKey.dispose();
  await store.close();
  fs.writeFileSync(path.join(dataDir, 'audit.log'), '{"action":"user.add"}\n', { mode: 0o600 });
}

function inProcessIo(options: { tty?: boolean; input?: string } = {}): { io: MemoryIo; out: () => string; err: () => string } {
  const io = memoryIo({ stdin: options });
  return { io, out: io.out, err: io.err };
}

describe('zeroize (gateway/ops, ciphergate zeroize, scripts/ims-zeroing.sh)', function () {
  this.timeout(60_000);
  let root: string;
  let dataDir: string;
  beforeEach(() => {
    root = tempRoot();
    dataDir = path.join(root, 'data');
  });
  afterEach(() => removeTree(root));

  describe('end to end against a running gateway', () => {
    let gateway: RunningGateway | undefined;
    afterEach(() => gateway?.kill());

    it('it MUST stop the gateway and leave no sentinel or key byte in the data or log directory; a second run exits 0', async () => {
      const config = testConfig(dataDir);
      const data = await populate(config, root, SECRET);
      gateway = await startGatewayOn(dataDir);
      // Forensic view: hard links outside the data dir keep every inode reachable after unlink,
      // so we can see whether the blocks were overwritten in place or merely unlinked.
      const forensic = path.join(root, 'forensic');
      const links = [...linkAll(dataDir, forensic), ...linkAll(data.logDir, path.join(forensic, 'log'))];

      const extra = `ops.zeroize.extraPaths=["${data.logDir}"]`;
      const first = await run('bash', [ZEROING_SCRIPT, '--yes', '--set', `dataDir=${dataDir}`, '--set', extra]);
      assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
      assert.match(first.stdout, /gateway: pid \d+ stopped \(SIGTERM\)/);
      assert.match(first.stdout, /nothing remains\./);
      const exit = await Promise.race([gateway.exited, new Promise((r) => setTimeout(() => r('still running'), 5000))]);
      assert.notEqual(exit, 'still running', 'the gateway process must have exited');

      assert.equal(fs.existsSync(dataDir), false, 'the data directory is removed');
      assert.equal(fs.existsSync(data.logDir), false, 'the log directory is removed');
      const needles = [Buffer.from(data.sentinel), ...data.keyBytes];
      assert.deepEqual(filesContaining(readTree(root), needles), [], 'no sentinel or key bytes anywhere under the test root');
      for (const link of links) {
        const bytes = fs.readFileSync(link);
        assert.ok(bytes.every((b) => b === 0), `${path.basename(link)} was overwritten in place (last pass: zeros)`);
      }
      assert.ok(!first.stdout.includes(data.sentinel), 'the report never prints contents');

      const second = await run('bash', [ZEROING_SCRIPT, '--yes', '--set', `dataDir=${dataDir}`, '--set', extra]);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /Nothing left to erase\./);
    });
  });

  describe('pid file (<dataDir>/run/gateway.pid)', () => {
    it('the gateway MUST write it at start and remove it at a clean stop', async () => {
      const gw = await startGatewayOn(dataDir);
      try {
        assert.equal(fs.readFileSync(path.join(dataDir, 'run', 'gateway.pid'), 'utf8'), `${gw.child.pid}\n`);
        assert.equal(fs.statSync(path.join(dataDir, 'run', 'gateway.pid')).mode & 0o777, 0o600);
        gw.child.kill('SIGTERM');
        assert.equal(await gw.exited, 0);
        assert.equal(fs.existsSync(path.join(dataDir, 'run', 'gateway.pid')), false);
      } finally {
        gw.kill();
      }
    });
  });

  describe('confirmation and dry run', () => {
    it('it MUST refuse without --yes when stdin is not a terminal (exit 2, names the flag, nothing changed)', async () => {
      await smallDataDir(dataDir);
      const before = hashTree(dataDir);
      const { io, err } = inProcessIo();
      const code = await runCli(['zeroize', '--set', `dataDir=${dataDir}`], io, defaultCommands());
      assert.equal(code, 2);
      assert.match(err(), /--yes/);
      assert.equal(hashTree(dataDir), before);
    });

    it('it MUST erase only after the word ZEROIZE is typed on a terminal', async () => {
      await smallDataDir(dataDir);
      const before = hashTree(dataDir);
      const wrong = inProcessIo({ tty: true, input: 'yes\n' });
      assert.equal(await runCli(['zeroize', '--set', `dataDir=${dataDir}`], wrong.io, defaultCommands()), 1);
      assert.equal(hashTree(dataDir), before, 'a wrong answer changes nothing');
      const right = inProcessIo({ tty: true, input: 'ZEROIZE\n' });
      assert.equal(await runCli(['zeroize', '--set', `dataDir=${dataDir}`], right.io, defaultCommands()), 0, right.err());
      assert.equal(fs.existsSync(dataDir), false);
    });

    it('--dry-run MUST list every target and touch nothing', async () => {
      await smallDataDir(dataDir);
      fs.writeFileSync(path.join(dataDir, 'future-store.bin'), 'x');
      const before = hashTree(dataDir);
      const { io, out } = inProcessIo();
      assert.equal(await runCli(['zeroize', '--dry-run', '--set', `dataDir=${dataDir}`], io, defaultCommands()), 0);
      for (const name of ['keys/master.key', 'ciphergate.db', 'audit.log', 'future-store.bin']) {
        assert.ok(out().includes(path.join(dataDir, name)), `${name} listed:\n${out()}`);
      }
      assert.equal(hashTree(dataDir), before);
    });

    it('--passes must be 1 or 3 (exit 2)', async () => {
      const { io } = inProcessIo();
      assert.equal(await runCli(['zeroize', '--yes', '--passes', '2', '--set', `dataDir=${dataDir}`], io, defaultCommands()), 2);
    });
  });

  describe('targets and order', () => {
    it('it MUST destroy the keys first, the master key before any other', async () => {
      await smallDataDir(dataDir);
      fs.writeFileSync(path.join(dataDir, 'keys', 'admin-cli.token'), 'token', { mode: 0o600 });
      fs.mkdirSync(path.join(dataDir, 'tls'), { mode: 0o700 });
      fs.writeFileSync(path.join(dataDir, 'tls', 'key.pem'), 'key', { mode: 0o600 });
      fs.writeFileSync(path.join(dataDir, 'tls', 'cert.pem'), 'cert');
      const order: string[] = [];
      const report = await zeroize(testConfig(dataDir), { beforeErase: (t) => order.push(`${t.category}:${path.relative(dataDir, t.path)}`) });
      assert.ok(report.ok);
      assert.deepEqual(order, [
        'keys:keys/master.key', 'keys:keys/admin-cli.token', 'keys:tls/key.pem',
        'database:ciphergate.db', 'logs:audit.log', 'certificates:tls/cert.pem',
      ]);
    });

    it('it MUST cover files it does not know (everything under dataDir) and configured paths outside it', async () => {
      await smallDataDir(dataDir);
      fs.mkdirSync(path.join(dataDir, 'voicemail', 'alice'), { recursive: true });
      fs.writeFileSync(path.join(dataDir, 'voicemail', 'alice', '1.wav'), 'audio');
      const outside = path.join(root, 'etc');
      fs.mkdirSync(outside);
      for (const f of ['tls.key', 'tls.crt', 'backup.key', 'trunks.yaml']) fs.writeFileSync(path.join(outside, f), f, { mode: 0o600 });
      const config = testConfig(dataDir, [
        `tls.key=${outside}/tls.key`, `tls.cert=${outside}/tls.crt`, `ops.backup.keyFile=${outside}/backup.key`,
        `ops.zeroize.secretFiles=["${outside}/trunks.yaml"]`,
      ]);
      const plan = planZeroize(config);
      const byPath = new Map(plan.targets.map((t) => [t.path, t.category]));
      assert.equal(byPath.get(path.join(dataDir, 'voicemail', 'alice', '1.wav')), 'other');
      assert.equal(byPath.get(path.join(outside, 'tls.key')), 'keys');
      assert.equal(byPath.get(path.join(outside, 'backup.key')), 'keys');
      assert.equal(byPath.get(path.join(outside, 'tls.crt')), 'certificates');
      assert.equal(byPath.get(path.join(outside, 'trunks.yaml')), 'config-secrets');
      const report = await zeroize(config);
      assert.ok(report.ok, formatZeroizeReport(report).join('\n'));
      assert.deepEqual(fs.readdirSync(outside), [], 'configured files are erased');
      assert.equal(fs.existsSync(dataDir), false);
    });

    it('it MUST remove a symbolic link without following it', async () => {
      await smallDataDir(dataDir);
      const precious = path.join(root, 'precious.txt');
      fs.writeFileSync(precious, 'keep me');
      fs.symlinkSync(precious, path.join(dataDir, 'link.txt'));
      const report = await zeroize(testConfig(dataDir));
      assert.ok(report.ok);
      assert.equal(fs.readFileSync(precious, 'utf8'), 'keep me');
      assert.ok(report.erased.some((e) => e.kind === 'link' && e.path.endsWith('link.txt')));
    });

    it('in an external backup directory it MUST erase only backup files', async () => {
      await smallDataDir(dataDir);
      const backups = path.join(root, 'backups');
      fs.mkdirSync(backups);
      fs.writeFileSync(path.join(backups, 'ciphergate-20250101T000000Z.cgbk'), 'b');
      fs.writeFileSync(path.join(backups, 'someone-else.tar'), 'other');
      const report = await zeroize(testConfig(dataDir, [`ops.backup.dir=${backups}`]));
      assert.ok(report.ok);
      assert.deepEqual(fs.readdirSync(backups), ['someone-else.tar']);
    });

    it('it MUST refuse a file-system root, a top-level directory, or a directory that is not a data directory', async () => {
      await assert.rejects(zeroize(testConfig('/')), ZeroizeRefusedError);
      await assert.rejects(zeroize(testConfig('/tmp')), ZeroizeRefusedError);
      fs.mkdirSync(dataDir);
      fs.writeFileSync(path.join(dataDir, 'thesis.tex'), 'years of work');
      await assert.rejects(zeroize(testConfig(dataDir)), /does not look like a Ciphergate data directory/);
      assert.equal(fs.readFileSync(path.join(dataDir, 'thesis.tex'), 'utf8'), 'years of work');
    });

    it('it MUST NOT signal a process that a stale pid file names when it is not a gateway', async () => {
      await smallDataDir(dataDir);
      const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
      try {
        writePidFile(dataDir, sleeper.pid!);
        const report = await zeroize(testConfig(dataDir));
        assert.ok(report.ok);
        assert.equal(report.gateway.outcome, 'not-running');
        assert.equal(sleeper.exitCode, null);
        assert.equal(sleeper.signalCode, null, 'the unrelated process was not signalled');
      } finally {
        sleeper.kill('SIGKILL');
      }
    });
  });

  describe('overwrite', () => {
    it('it MUST overwrite in place before unlinking (3 passes: zeros, ones, zeros; 1 pass: zeros)', async () => {
      assert.deepEqual(passPatterns(3), [0x00, 0xff, 0x00]);
      assert.deepEqual(passPatterns(1), [0x00]);
      for (const passes of [1, 3]) {
        const dir = path.join(root, `d${passes}`);
        await smallDataDir(dir);
        const big = path.join(dir, 'cdr.csv');
        fs.writeFileSync(big, Buffer.alloc(9 * 1024 * 1024 + 17, 0x41)); // crosses several 4 MiB chunks
        const link = path.join(root, `held${passes}`);
        fs.linkSync(big, link);
        const report = await zeroize(testConfig(dir), { passes });
        assert.ok(report.ok);
        const bytes = fs.readFileSync(link);
        assert.equal(bytes.length, 9 * 1024 * 1024 + 17, 'same size: overwritten, not truncated');
        assert.ok(bytes.every((b) => b === 0));
        const cdr = report.erased.find((e) => e.path === big);
        assert.equal(cdr?.passes, passes);
        assert.equal(cdr?.bytes, bytes.length);
      }
    });
  });

  describe('partial failure', () => {
    it('it MUST exit non-zero and name the path when a file cannot be erased (chattr +i)', async function () {
      await smallDataDir(dataDir);
      fs.mkdirSync(path.join(dataDir, 'cdr'));
      const locked = path.join(dataDir, 'cdr', 'locked.csv');
      fs.writeFileSync(locked, 'alice,bob');
      if (!makeImmutable(locked)) this.skip(); // needs root and a file system with the attribute
      const r = await run(process.execPath, [path.join(__dirname, '..', '..', 'gateway', 'cli.js'), 'zeroize', '--yes', '--set', `dataDir=${dataDir}`]);
      assert.equal(r.code, 1, r.stdout);
      assert.ok(r.stdout.includes(`NOT ERASED   cdrs           ${locked}: open for writing: EPERM`), r.stdout);
      assert.equal(fs.existsSync(path.join(dataDir, 'keys', 'master.key')), false, 'the keys are destroyed anyway');
      assert.equal(fs.existsSync(path.join(dataDir, 'ciphergate.db')), false, 'the other files are erased anyway');
      // A re-run (the marker lets it recognise the half-erased directory) still reports the file.
      const again = await run(process.execPath, [path.join(__dirname, '..', '..', 'gateway', 'cli.js'), 'zeroize', '--yes', '--set', `dataDir=${dataDir}`]);
      assert.equal(again.code, 1);
      assert.ok(again.stdout.includes(locked));
    });

    it('it MUST go on after a failed target and report it (injected failure)', async () => {
      await smallDataDir(dataDir);
      const db = path.join(dataDir, 'ciphergate.db');
      const report = await zeroize(testConfig(dataDir), {
        beforeErase: (t) => { if (t.path === db) throw new Error('injected I/O error'); },
      });
      assert.equal(report.ok, false);
      assert.deepEqual(report.failed.filter((f) => f.path === db).map((f) => f.reason), ['Error: injected I/O error']);
      assert.ok(report.erased.some((e) => e.path.endsWith('audit.log')), 'later targets are still erased');
      assert.ok(formatZeroizeReport(report).some((l) => l.startsWith('NOT ERASED') && l.includes(db)));
    });
  });
});
