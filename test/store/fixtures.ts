/** Temp data directories and file-system forensics for the store and admin tests. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A fresh private directory under the OS temp dir; pair with removeDataDir in afterEach. */
export function makeDataDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'ciphergate-store-'));
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Every regular file below `dir` (db, -wal, -shm, keys...) as bytes, keyed by relative path. */
export function readAllFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, depth: number): void => {
    if (depth > 8) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile()) out.set(path.relative(dir, p), readFileSync(p));
    }
  };
  walk(dir, 0);
  return out;
}

/** Files (relative paths) that contain `needle` anywhere. */
export function filesContaining(files: Map<string, Buffer>, needle: Buffer): string[] {
  return [...files].filter(([, bytes]) => bytes.includes(needle)).map(([name]) => name);
}
