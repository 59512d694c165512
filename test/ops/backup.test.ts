/**
 * Backups end to end: create (online, while the gateway runs), verify, zeroize, restore; wrong
 * secrets and damaged files leave the data directory untouched; the restored store opens with the
 * restored master key and verifies digests.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { computeHa1 } from '../../gateway/admin/credentials';
import { UserService } from '../../gateway/admin/users';
import { defaultCommands } from '../../gateway/cli/registry';
import { runCli } from '../../gateway/cli/run';
import { createBackup } from '../../gateway/ops/backup-create';
import { restoreBackup, verifyBackup } from '../../gateway/ops/backup-restore';
import { generateKeyFile, passphraseSecret, readKeyFile } from '../../gateway/ops/backup-secret';
import { BackupCorruptError, BackupError, BackupKeyError, GatewayRunningError } from '../../gateway/ops/errors';
import { zeroize } from '../../gateway/ops/zeroize';
import { openAccountStore } from '../../gateway/store';
import { memoryIo } from '../helpers/cli-io';
import { hashTree, PASSWORD, readTree, populate, REALM, removeTree, startGatewayOn, tempRoot, TEST_SCRYPT, testConfig, type RunningGateway } from './helpers';

const PASSPHRASE = 'a long enough backup passphrase';
const SECRET = passphraseSecret(PASSPHRASE);

/** The HA1 the restored store yields for `name` equals one computed from the password: digest works. */
async function assertDigestWorks(dataDir: string, name: string): Promise<void> {
  const { store, masterKey } = await openAccountStore(dataDir);
  const users = new UserService({ store, masterKey, realm: REALM });
  try {
    for (const algorithm of ['MD5', 'SHA-256'] as const) {
      const ha1 = await users.ha1For(name, REALM, algorithm);
      assert.ok(ha1?.equals(computeHa1(algorithm, name, REALM, PASSWORD)), `${name} ${algorithm} HA1 opens and matches`);
    }
  } finally {
    users.dispose();
    masterKey.dispose();
    await store.close();
  }
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo({ env, stdin: {} });
  const code = await runCli(args, io, defaultCommands());
  return { code, out: io.out(), err: io.err() };
}

describe('backups (gateway/ops/backup*, ciphergate backup create|verify|restore)', function () {
  this.timeout(60_000);
  let root: string;
  let dataDir: string;
  beforeEach(() => {
    root = tempRoot('cg-backup-');
    dataDir = path.join(root, 'data');
  });
  afterEach(() => removeTree(root));

  it('it MUST restore users that authenticate after a backup, a zeroize and a restore', async () => {
    const config = testConfig(dataDir);
    const data = await populate(config, root, SECRET);
    const out = path.join(root, 'offsite.cgbk');
    const summary = await createBackup({ config, secret: SECRET, out, scrypt: TEST_SCRYPT });
    const roles = summary.manifest.entries.map((e) => e.role);
    for (const role of ['database', 'master-key', 'tls-cert', 'tls-key', 'effective-config'] as const) assert.ok(roles.includes(role), role);
    assert.ok(!fs.readFileSync(out).includes(Buffer.from(data.sentinel)), 'the file is encrypted');

    const zeroed = await zeroize(config);
    assert.ok(zeroed.ok);
    assert.equal(fs.existsSync(dataDir), false);

    const restored = await restoreBackup({ config, file: out, secret: SECRET });
    assert.ok(restored.restored.some((r) => r.role === 'master-key'));
    for (const name of data.users) await assertDigestWorks(dataDir, name);
    assert.equal(fs.statSync(path.join(dataDir, 'keys', 'master.key')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(dataDir, 'keys')).mode & 0o777, 0o700);
    assert.ok(fs.existsSync(path.join(dataDir, 'tls', 'key.pem')), 'the TLS key is back: the pinned fingerprint stays');
  });

  describe('online backup of a running gateway', () => {
    let gateway: RunningGateway | undefined;
    afterEach(() => gateway?.kill());

    it('it MUST take a consistent copy while the gateway runs, and refuse to restore into its data directory', async () => {
      const config = testConfig(dataDir);
      await populate(config, root, SECRET);
      gateway = await startGatewayOn(dataDir);
      const out = path.join(root, 'live.cgbk');
      await createBackup({ config, secret: SECRET, out, scrypt: TEST_SCRYPT });
      const manifest = await verifyBackup(out, SECRET);
      assert.ok(manifest.entries.some((e) => e.role === 'database' && e.size > 0));

      await assert.rejects(restoreBackup({ config, file: out, secret: SECRET, force: true }), GatewayRunningError);
      assert.deepEqual([...readTree(dataDir).keys()].filter((n) => n.includes('.restore-')), [], 'nothing staged');
      gateway.kill();
      await gateway.exited;
      // SIGKILL left the pid file behind; the process is gone, so restore proceeds.
      const elsewhere = path.join(root, 'elsewhere');
      await restoreBackup({ config: testConfig(elsewhere), file: out, secret: SECRET });
      await assertDigestWorks(elsewhere, 'alice');
    });
  });

  describe('integrity: wrong secret or damaged file leaves the data directory untouched', () => {
    let out: string;
    let target: string;
    let before: string;
    beforeEach(async () => {
      const config = testConfig(dataDir);
      await populate(config, root, SECRET);
      out = path.join(root, 'b.cgbk');
      await createBackup({ config, secret: SECRET, out, scrypt: TEST_SCRYPT });
      // A target data directory with different content, restored over with force.
      target = path.join(root, 'target');
      await populate(testConfig(target), path.join(root, 'x'), SECRET);
      before = hashTree(target);
    });

    const damaged = (f: (bytes: Buffer) => Buffer): string => {
      const file = path.join(root, 'damaged.cgbk');
      fs.writeFileSync(file, f(fs.readFileSync(out)));
      return file;
    };

    it('a wrong passphrase MUST be rejected with BackupKeyError', async () => {
      await assert.rejects(restoreBackup({ config: testConfig(target), file: out, secret: passphraseSecret('not the right passphrase'), force: true }), BackupKeyError);
      assert.equal(hashTree(target), before);
    });

    it('a flipped byte MUST be rejected with BackupCorruptError', async () => {
      const file = damaged((b) => { b[Math.floor(b.length / 2)]! ^= 0x80; return b; });
      await assert.rejects(restoreBackup({ config: testConfig(target), file, secret: SECRET, force: true }), BackupCorruptError);
      assert.equal(hashTree(target), before);
    });

    it('a truncated file MUST be rejected with BackupCorruptError', async () => {
      const file = damaged((b) => b.subarray(0, b.length - 1000));
      await assert.rejects(restoreBackup({ config: testConfig(target), file, secret: SECRET, force: true }), BackupCorruptError);
      assert.equal(hashTree(target), before);
    });

    it('restore MUST refuse to replace an existing database without --force', async () => {
      await assert.rejects(restoreBackup({ config: testConfig(target), file: out, secret: SECRET }), BackupError);
      assert.equal(hashTree(target), before);
    });

    it('with --force it MUST replace the database and master key as one set', async () => {
      await restoreBackup({ config: testConfig(target), file: out, secret: SECRET, force: true });
      assert.ok(fs.readFileSync(path.join(target, 'keys', 'master.key')).equals(fs.readFileSync(path.join(dataDir, 'keys', 'master.key'))));
      await assertDigestWorks(target, 'alice');
      const leftovers = [...readTree(target).keys()].filter((n) => n.includes('.restore-') || n.includes('.pre-restore-'));
      assert.deepEqual(leftovers, [], 'no staging or set-aside file remains');
    });
  });

  describe('the CLI', () => {
    it('backup create/verify/restore MUST work with CIPHERGATE_BACKUP_PASSPHRASE and with --key-file', async () => {
      const config = testConfig(dataDir);
      await populate(config, root, SECRET);
      const env = { CIPHERGATE_BACKUP_PASSPHRASE: PASSPHRASE };
      const created = await cli(['backup', 'create', '--out', path.join(root, 'p.cgbk'), '--set', `dataDir=${dataDir}`], env);
      assert.equal(created.code, 0, created.err);
      assert.ok(!created.out.includes(PASSPHRASE));
      const verified = await cli(['backup', 'verify', path.join(root, 'p.cgbk')], env);
      assert.equal(verified.code, 0, verified.err);
      assert.match(verified.out, /intact/);
      assert.match(verified.out, /master-key\s+data\/keys\/master\.key {2}32 bytes/);

      const keyFile = path.join(root, 'backup.key');
      assert.equal((await cli(['backup', 'keygen', keyFile])).code, 0);
      assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
      assert.equal(readKeyFile(keyFile).kind, 'key-file');
      const k = await cli(['backup', 'create', '--key-file', keyFile, '--out', path.join(root, 'k.cgbk'), '--set', `dataDir=${dataDir}`]);
      assert.equal(k.code, 0, k.err);
      const wrong = await cli(['backup', 'verify', path.join(root, 'k.cgbk')], env);
      assert.equal(wrong.code, 1);
      assert.match(wrong.err, /key file/);

      assert.equal((await zeroize(config)).ok, true);
      const restored = await cli(['backup', 'restore', path.join(root, 'k.cgbk'), '--key-file', keyFile, '--set', `dataDir=${dataDir}`]);
      assert.equal(restored.code, 0, restored.err);
      await assertDigestWorks(dataDir, 'bob');
    });

    it('it MUST name the ways to give a secret when there is none and no terminal (exit 2)', async () => {
      const r = await cli(['backup', 'create', '--set', `dataDir=${dataDir}`]);
      assert.equal(r.code, 2);
      assert.match(r.err, /--key-file FILE or --passphrase-file FILE, set CIPHERGATE_BACKUP_PASSPHRASE/);
    });

    it('a new backup MUST refuse a short passphrase; a key file readable by others is refused', async () => {
      const config = testConfig(dataDir);
      await populate(config, root, SECRET);
      const short = await cli(['backup', 'create', '--set', `dataDir=${dataDir}`], { CIPHERGATE_BACKUP_PASSPHRASE: 'short' });
      assert.equal(short.code, 1);
      assert.match(short.err, /at least 12 characters/);
      const keyFile = path.join(root, 'open.key');
      generateKeyFile(keyFile);
      fs.chmodSync(keyFile, 0o644);
      const open = await cli(['backup', 'create', '--key-file', keyFile, '--set', `dataDir=${dataDir}`]);
      assert.equal(open.code, 1);
      assert.match(open.err, /accessible by group or others/);
    });
  });
});
