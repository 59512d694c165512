/**
 * What `zeroize` erases, and in which order.
 *
 * Coverage by construction, not by a list: EVERYTHING under dataDir is a target (a file a later
 * feature adds there is erased without anyone updating this module), plus the paths the
 * configuration names outside it (tls.key/tls.cert, ops.backup.keyFile, ops.backup.dir,
 * ops.zeroize.extraPaths, ops.zeroize.secretFiles). DATA_DIR_LAYOUT only decides the ORDER: a file
 * it does not recognise is still erased, in the 'other' category, straight after the data stores.
 *
 * Order (ERASE_ORDER): keys first — the master key, then every other key — so that everything
 * encrypted at rest is unreadable even if a later step fails or the machine loses power; then the
 * data, most sensitive first.
 */
import { lstatSync, readdirSync, realpathSync, type Stats } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Config } from '../../config/schema';
import { findPackageRoot } from '../../config/load';
import { ZeroizeRefusedError } from './errors';

export type ZeroizeCategory =
  | 'keys' | 'database' | 'messages' | 'cdrs' | 'other' | 'logs' | 'extra' | 'backups' | 'certificates' | 'config-secrets';

export const ERASE_ORDER: readonly ZeroizeCategory[] = [
  'keys', 'database', 'messages', 'cdrs', 'other', 'logs', 'extra', 'backups', 'certificates', 'config-secrets',
];

/** The part of Config zeroize reads (Config is assignable to it). */
export type ZeroizeConfig = Pick<Config, 'dataDir' | 'tls' | 'ops'>;

/** Left in dataDir while a run is under way; lets a re-run recognise a half-erased directory. */
export const ZEROIZE_MARKER = '.zeroize-in-progress';
/**
 * Hard links to data files, made before the gateway is stopped, so that files it deletes while
 * stopping (SQLite removes its -wal on close) can still be overwritten through the link.
 */
export const ZEROIZE_HOLD_DIR = '.zeroize-hold';
/** Backup file names (backup-create.ts); in an external backup dir only these are touched. */
export const BACKUP_SUFFIX = '.cgbk';

/**
 * Order rules for paths under dataDir (segments relative to it); the first match wins. A later
 * store adds a line here to be erased in its place; without one it is erased as 'other'.
 */
const DATA_DIR_LAYOUT: readonly { readonly category: ZeroizeCategory; readonly test: (s: readonly string[]) => boolean }[] = [
  // keys/: master key and any other key file; run/: the CLI session token (cli-endpoint.json).
  { category: 'keys', test: (s) => s[0] === 'keys' || s[0] === 'run' },
  // tls/: the generated private key and any half-written temporary (a key too); cert.pem is public.
  { category: 'keys', test: (s) => s[0] === 'tls' && s[1] !== 'cert.pem' },
  { category: 'certificates', test: (s) => s[0] === 'tls' },
  { category: 'database', test: (s) => s.length === 1 && s[0]!.startsWith('ciphergate.db') },
  { category: 'database', test: (s) => s.length === 1 && s[0]!.startsWith('.ciphergate.db') },
  { category: 'backups', test: (s) => s[0] === 'backups' || s[0]!.startsWith('.backup-') },
  { category: 'messages', test: (s) => s[0]!.startsWith('messages') },
  { category: 'cdrs', test: (s) => s[0]!.startsWith('cdr') },
  { category: 'logs', test: (s) => s[0] === 'logs' || s[0] === 'log' || s[s.length - 1]!.includes('.log') },
];

/** Top-level names that identify a Ciphergate data directory. */
const DATA_DIR_MARKERS = ['ciphergate.db', 'keys', 'tls', 'run', 'audit.log', ZEROIZE_MARKER];

export type TargetKind = 'file' | 'link' | 'special';

export interface ZeroizeTarget {
  readonly path: string;
  readonly category: ZeroizeCategory;
  /** file: overwritten then removed; link/special: removed (a link is never followed). */
  readonly kind: TargetKind;
  readonly size: number;
}

export interface ZeroizePlan {
  /** Real path of dataDir (symbolic links resolved), whether or not it exists. */
  readonly dataDir: string;
  /** Every target, in erase order. */
  readonly targets: readonly ZeroizeTarget[];
  /** Directories to remove once emptied, deepest first (dataDir last). */
  readonly dirs: readonly string[];
  /** dataDir is absent, empty, or holds one of the Ciphergate markers. */
  readonly recognised: boolean;
  /** The in-progress marker is present (a previous run did not finish). */
  readonly marker: boolean;
  /** Paths that could not be listed (path + reason); they are reported as not erased. */
  readonly unreadable: readonly { readonly path: string; readonly reason: string }[];
}

/** Walk bounds: a data directory is shallow; anything past these is reported, not erased blindly. */
const MAX_DEPTH = 32;
const MAX_ENTRIES = 2_000_000;

export function planZeroize(config: ZeroizeConfig): ZeroizePlan {
  const dataDir = realOrResolved(config.dataDir);
  refuseProtected(dataDir, 'dataDir');
  const found = new Map<string, ZeroizeTarget>();
  const dirs = new Set<string>();
  const unreadable: { path: string; reason: string }[] = [];
  const budget = { entries: MAX_ENTRIES };

  const addConfigured = (p: string, category: ZeroizeCategory, tree: boolean): void => {
    if (p === '') return;
    const link = lstatOrUndefined(p);
    if (link === undefined) return;
    if (link.isSymbolicLink()) found.set(p, { path: p, category, kind: 'link', size: 0 });
    const real = realOrResolved(p);
    const st = lstatOrUndefined(real);
    if (st?.isDirectory()) {
      if (!tree) return;
      refuseProtected(real, 'ops.zeroize');
      walk(real, 0, () => category, found, dirs, unreadable, budget);
      dirs.add(real);
    } else if (st !== undefined && !found.has(real)) {
      found.set(real, target(real, st, category));
    }
  };

  // Configured paths first: where a path is reached twice, its configured role decides the order.
  addConfigured(config.ops.backup.keyFile, 'keys', false);
  addConfigured(config.tls.key, 'keys', false);
  for (const p of config.ops.zeroize.extraPaths) addConfigured(p, 'extra', true);
  addConfigured(config.tls.cert, 'certificates', false);
  for (const p of config.ops.zeroize.secretFiles) addConfigured(p, 'config-secrets', true);
  addBackupDir(config.ops.backup.dir, dataDir, found, unreadable);

  let recognised = true;
  let marker = false;
  const root = lstatOrUndefined(dataDir);
  if (root !== undefined) {
    if (!root.isDirectory()) throw new ZeroizeRefusedError(`dataDir ${dataDir} is not a directory`, dataDir);
    const top = listDir(dataDir, unreadable) ?? [];
    marker = top.includes(ZEROIZE_MARKER);
    recognised = top.length === 0 || top.some((name) => DATA_DIR_MARKERS.includes(name));
    const backupDir = realOrResolved(config.ops.backup.dir);
    walk(dataDir, 0, (p) => classify(dataDir, backupDir, p), found, dirs, unreadable, budget);
    found.delete(path.join(dataDir, ZEROIZE_MARKER));
    dirs.add(dataDir);
  }

  const targets = [...found.values()].sort(compareTargets);
  const ordered = [...dirs].sort((a, b) => depth(b) - depth(a) || a.localeCompare(b));
  return { dataDir, targets, dirs: ordered, recognised, marker, unreadable };
}

/** The category of a path under dataDir: the configured backup dir, then DATA_DIR_LAYOUT, else 'other'. */
export function classify(dataDir: string, backupDir: string, p: string): ZeroizeCategory {
  if (isInside(backupDir, p)) return 'backups';
  const segments = path.relative(dataDir, p).split(path.sep);
  return DATA_DIR_LAYOUT.find((rule) => rule.test(segments))?.category ?? 'other';
}

/**
 * Refuses to treat as a tree to erase: a file-system root, a top-level directory (/home, /var),
 * the home directory, or anything that contains this installation.
 */
export function refuseProtected(dir: string, what: string): void {
  const resolved = path.resolve(dir);
  const parsed = path.parse(resolved);
  const depthBelowRoot = path.relative(parsed.root, resolved).split(path.sep).filter((s) => s !== '').length;
  let reason: string | undefined;
  if (depthBelowRoot === 0) reason = 'is a file-system root';
  else if (depthBelowRoot === 1) reason = 'is a top-level directory';
  else if (resolved === path.resolve(os.homedir())) reason = 'is the home directory';
  else if (isInside(resolved, findPackageRoot())) reason = 'contains the Ciphergate installation';
  if (reason !== undefined) {
    throw new ZeroizeRefusedError(`${what}: refusing to erase ${resolved}: it ${reason}; check the configuration`, resolved);
  }
}

/** External backup directory: only our backup files (and their temporaries), never its other files. */
function addBackupDir(dir: string, dataDir: string, found: Map<string, ZeroizeTarget>, unreadable: { path: string; reason: string }[]): void {
  const real = realOrResolved(dir);
  if (isInside(dataDir, real)) return; // the dataDir walk takes it whole
  const st = lstatOrUndefined(real);
  if (!st?.isDirectory()) return;
  for (const name of listDir(real, unreadable) ?? []) {
    if (!name.endsWith(BACKUP_SUFFIX) && !name.includes(`${BACKUP_SUFFIX}.`)) continue;
    const p = path.join(real, name);
    const entry = lstatOrUndefined(p);
    if (entry !== undefined && !found.has(p)) found.set(p, target(p, entry, 'backups'));
  }
}

function walk(
  dir: string, level: number, categoryOf: (p: string) => ZeroizeCategory, found: Map<string, ZeroizeTarget>,
  dirs: Set<string>, unreadable: { path: string; reason: string }[], budget: { entries: number },
): void {
  if (level > MAX_DEPTH) {
    unreadable.push({ path: dir, reason: `deeper than ${MAX_DEPTH} levels; not walked` });
    return;
  }
  for (const name of listDir(dir, unreadable) ?? []) {
    if (--budget.entries < 0) {
      unreadable.push({ path: dir, reason: `more than ${MAX_ENTRIES} entries; the rest was not walked` });
      return;
    }
    const p = path.join(dir, name);
    const st = lstatOrUndefined(p);
    if (st === undefined) continue;
    if (st.isDirectory()) {
      walk(p, level + 1, categoryOf, found, dirs, unreadable, budget);
      dirs.add(p);
    } else if (!found.has(p)) {
      found.set(p, target(p, st, categoryOf(p)));
    }
  }
}

function target(p: string, st: Stats, category: ZeroizeCategory): ZeroizeTarget {
  const kind: TargetKind = st.isFile() ? 'file' : st.isSymbolicLink() ? 'link' : 'special';
  return { path: p, category, kind, size: kind === 'file' ? st.size : 0 };
}

/** Category order, then the master key before other keys, then path order. */
export function compareTargets(a: ZeroizeTarget, b: ZeroizeTarget): number {
  return ERASE_ORDER.indexOf(a.category) - ERASE_ORDER.indexOf(b.category)
    || rank(a) - rank(b)
    || a.path.localeCompare(b.path);
}

function rank(t: ZeroizeTarget): number {
  return path.basename(t.path) === 'master.key' ? 0 : 1;
}

function listDir(dir: string, unreadable: { path: string; reason: string }[]): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch (err) {
    unreadable.push({ path: dir, reason: `cannot list: ${(err as NodeJS.ErrnoException).code ?? 'error'}` });
    return undefined;
  }
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** realpath when the path exists (a configured symlink is followed once), else the resolved path. */
function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** `child` is `parent` or below it. */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function depth(p: string): number {
  return p.split(path.sep).length;
}
