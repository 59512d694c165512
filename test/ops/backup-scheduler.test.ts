/**
 * Scheduled backups (BackupScheduler): interval, key file, retention of scheduled files only.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../config/load';
import type { Logger, LogFields } from '../../gateway/log/logger';
import { BackupScheduler, SCHEDULED_PREFIX } from '../../gateway/ops/backup-scheduler';
import { verifyBackup } from '../../gateway/ops/backup-restore';
import { generateKeyFile, readKeyFile } from '../../gateway/ops/backup-secret';
import { openAccountStore } from '../../gateway/store';
import { removeTree, tempRoot, testConfig } from './helpers';

function recordingLog(): Logger & { lines: { level: string; message: string; fields?: LogFields }[] } {
  const lines: { level: string; message: string; fields?: LogFields }[] = [];
  const log: Logger = {
    error: (message, fields) => { lines.push({ level: 'error', message, ...(fields && { fields }) }); },
    warn: (message, fields) => { lines.push({ level: 'warn', message, ...(fields && { fields }) }); },
    info: (message, fields) => { lines.push({ level: 'info', message, ...(fields && { fields }) }); },
    debug: () => undefined,
    child: () => log,
    isLevelEnabled: () => true,
  };
  return Object.assign(log, { lines });
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe('BackupScheduler (ops.backup.intervalHours / keep / keyFile)', function () {
  this.timeout(30_000);
  let root: string;
  let dataDir: string;
  let keyFile: string;
  beforeEach(async () => {
    root = tempRoot('cg-sched-');
    dataDir = path.join(root, 'data');
    const { store, masterKey } = await openAccountStore(dataDir);
    masterKey.dispose();
    await store.close();
    keyFile = path.join(root, 'backup.key');
    generateKeyFile(keyFile);
  });
  afterEach(() => removeTree(root));

  it('it MUST keep only the newest `keep` scheduled backups and never delete other files', async () => {
    // A key file inside keys/ (a likely choice): it must not end up in its own backups.
    fs.renameSync(keyFile, path.join(dataDir, 'keys', 'backup.key'));
    keyFile = path.join(dataDir, 'keys', 'backup.key');
    const config = testConfig(dataDir, [`ops.backup.keyFile=${keyFile}`, 'ops.backup.keep=2', 'ops.backup.intervalHours=24']);
    const dir = config.ops.backup.dir;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'ciphergate-20200101T000000Z.cgbk'), 'manual');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    let t = Date.parse('2025-01-01T00:00:00Z');
    const scheduler = new BackupScheduler({ config, log: recordingLog(), now: () => new Date(t) });
    for (let i = 0; i < 3; i++) {
      await scheduler.runOnce();
      t += 3_600_000;
    }
    assert.deepEqual(fs.readdirSync(dir).sort(), [
      'ciphergate-20200101T000000Z.cgbk',
      `${SCHEDULED_PREFIX}-20250101T010000Z.cgbk`,
      `${SCHEDULED_PREFIX}-20250101T020000Z.cgbk`,
      'notes.txt',
    ]);
    const manifest = await verifyBackup(path.join(dir, `${SCHEDULED_PREFIX}-20250101T020000Z.cgbk`), readKeyFile(keyFile));
    assert.ok(manifest.entries.some((e) => e.role === 'master-key'));
    assert.ok(!manifest.entries.some((e) => e.origin === keyFile), 'the backup key is not inside its own backups');
  });

  it('start() MUST take backups on the interval and stop() MUST end them', async () => {
    const config = testConfig(dataDir, [`ops.backup.keyFile=${keyFile}`, 'ops.backup.intervalHours=0.0002']); // 0.72 s
    const log = recordingLog();
    const scheduler = new BackupScheduler({ config, log });
    scheduler.start();
    try {
      const dir = config.ops.backup.dir;
      assert.ok(await waitFor(() => fs.existsSync(dir) && fs.readdirSync(dir).some((n) => n.startsWith(SCHEDULED_PREFIX)), 10_000));
    } finally {
      await scheduler.stop();
    }
    const count = fs.readdirSync(config.ops.backup.dir).length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(fs.readdirSync(config.ops.backup.dir).length, count, 'no backup after stop()');
    assert.ok(log.lines.some((l) => l.message === 'backup written'));
  });

  it('a failed run MUST be logged without key material and the schedule MUST go on', async () => {
    const config = testConfig(dataDir, [`ops.backup.keyFile=${keyFile}`, 'ops.backup.intervalHours=0.0001']); // 0.36 s
    fs.rmSync(keyFile);
    const log = recordingLog();
    const scheduler = new BackupScheduler({ config, log });
    scheduler.start();
    try {
      assert.ok(await waitFor(() => log.lines.filter((l) => l.message === 'scheduled backup failed').length >= 2, 10_000));
    } finally {
      await scheduler.stop();
    }
    const failure = log.lines.find((l) => l.message === 'scheduled backup failed');
    assert.match(String(failure?.fields?.error), /BackupSecretError: cannot read backup key file/);
  });

  it('intervalHours 0 MUST mean no scheduled backups; above 0 it MUST require a key file', async () => {
    const scheduler = new BackupScheduler({ config: testConfig(dataDir), log: recordingLog() });
    assert.equal(scheduler.intervalMs, 0);
    scheduler.start();
    await scheduler.stop();
    assert.equal(fs.existsSync(testConfig(dataDir).ops.backup.dir), false);
    assert.throws(() => testConfig(dataDir, ['ops.backup.intervalHours=6']), (err: unknown) =>
      err instanceof ConfigError && /ops\.backup\.keyFile: must be set when ops\.backup\.intervalHours is above 0/.test(err.message));
  });
});
