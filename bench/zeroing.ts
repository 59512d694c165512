/**
 * Benchmark of emergency zeroing: a 1 GiB data directory (three large files, 2,000 small ones, the
 * account database with users, keys and a certificate) erased by `zeroize` in-process. Reports the
 * seconds per pass count; the target is under 10 s for 1 GiB.
 *
 *   npm run bench -- zeroing          3 passes (the default) and 1 pass
 *   npm run bench -- zeroing 3        one pass count only
 *
 * The data is random and fsynced before the clock starts, so the blocks exist on disk and the
 * overwrite is a real in-place rewrite, not a write into a fresh allocation.
 */
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load';
import { UserService } from '../gateway/admin/users';
import { nullLogger } from '../gateway/log/logger';
import { zeroize } from '../gateway/ops/zeroize';
import { openAccountStore } from '../gateway/store';
import { ensureCertificate } from '../gateway/tls/certificate';

const MiB = 1024 * 1024;
const LARGE_FILES = [{ dir: 'messages', size: 400 * MiB }, { dir: 'cdr', size: 300 * MiB }, { dir: 'backups', size: 250 * MiB }];
const SMALL_FILES = 2000;
const SMALL_SIZE = 16 * 1024;

export async function run(args: string[] = []): Promise<Record<string, number | string | boolean>> {
  const counts = args.length > 0 ? args.map(Number) : [3, 1];
  const result: Record<string, number | string | boolean> = {};
  for (const passes of counts) {
    if (passes !== 1 && passes !== 3) throw new Error(`passes must be 1 or 3 (got ${passes})`);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-bench-zeroing-'));
    try {
      const dataDir = path.join(root, 'data');
      const config = loadConfig({ env: {}, set: [`dataDir=${dataDir}`] });
      const bytes = await generate(config);
      const started = process.hrtime.bigint();
      const report = await zeroize(config, { passes });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (!report.ok) throw new Error(`zeroize left ${report.failed.length} item(s)`);
      const files = report.erased.filter((e) => e.kind === 'file').length;
      result[`seconds_${passes}pass`] = round(seconds);
      result[`MiBps_written_${passes}pass`] = Math.round((bytes * passes) / MiB / seconds);
      result.dataBytes = bytes;
      result.files = files;
      result[`under10s_${passes}pass`] = seconds < 10;
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }
  return result;
}

/** Writes the data directory; returns its total size in bytes. */
async function generate(config: ReturnType<typeof loadConfig>): Promise<number> {
  const { dataDir } = config;
  const { store, masterKey } = await openAccountStore(dataDir);
  const users = new UserService({ store, masterKey, realm: config.sip.realm });
  for (let i = 0; i < 200; i++) await users.add(`user${i}`, { displayName: `User ${i}`, password: `Bench-pass-${i}-Xq9!zT` });
  users.dispose();
  masterKey.dispose();
  await store.close();
  await ensureCertificate(config, nullLogger);

  const chunk = Buffer.alloc(4 * MiB);
  for (const { dir, size } of LARGE_FILES) {
    fs.mkdirSync(path.join(dataDir, dir), { recursive: true });
    const fd = fs.openSync(path.join(dataDir, dir, 'large.bin'), 'w', 0o600);
    for (let written = 0; written < size; written += chunk.length) {
      randomFillSync(chunk);
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, size - written));
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
  fs.mkdirSync(path.join(dataDir, 'logs'), { recursive: true });
  const small = Buffer.alloc(SMALL_SIZE);
  for (let i = 0; i < SMALL_FILES; i++) {
    randomFillSync(small);
    const fd = fs.openSync(path.join(dataDir, 'logs', `call-${i}.log`), 'w', 0o600);
    fs.writeSync(fd, small);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
  return totalSize(dataDir);
}

function totalSize(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? totalSize(p) : fs.lstatSync(p).size;
  }
  return total;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
