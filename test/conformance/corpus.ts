/**
 * The RFC 4475 torture-test corpus (/work/shared/conformance/rfc4475): its files and the verdict
 * its README table gives each one. Shared by the parser conformance test and end-to-end checks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface TortureMessage {
  /** The RFC's name for the message, e.g. "wsinv". */
  name: string;
  /** RFC 4475 section, e.g. "3.1.1.1". */
  section: string;
  /** What the message tortures (README column). */
  tortures: string;
  /** The README's verdict, verbatim: "parse", "400", "505", "drop", "416", "see RFC (...)", ... */
  expected: string;
  data: Buffer;
}

/** The repository root: the nearest directory above `from` holding package.json. */
export function repoRoot(from: string = __dirname): string {
  let dir = resolve(from);
  for (let i = 0; i < 64; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`no package.json above ${from}`);
}

/** $CIPHERGATE_CONFORMANCE, else <repo root>/../shared/conformance/rfc4475. */
export function conformanceDir(): string {
  return process.env.CIPHERGATE_CONFORMANCE ?? resolve(repoRoot(), '../shared/conformance/rfc4475');
}

/** Every message listed in the README table, in table order, with its bytes. */
export function loadCorpus(dir: string = conformanceDir()): TortureMessage[] {
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  const out: TortureMessage[] = [];
  for (const line of readme.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | file | RFC 4475 § | what it tortures | expected |  → ['', file, §, what, expected, '']
    if (cells.length !== 6 || !/^\d+(\.\d+)+$/.test(cells[2])) continue;
    const [, name, section, tortures, expected] = cells;
    out.push({ name, section, tortures, expected, data: readFileSync(join(dir, `${name}.dat`)) });
  }
  return out;
}
