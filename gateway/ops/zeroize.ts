/**
 * Emergency zeroing of a gateway's data (`ciphergate zeroize`, scripts/ims-zeroing.sh).
 *
 * Sequence, and why:
 * 1. Find the gateway's pid (pid file, endpoint file) before anything is erased: both live in
 *    <dataDir>/run/, which is erased with the keys.
 * 2. Crypto-erase: destroy every key (master key, TLS private key, backup key file, run/ session
 *    token, anything under keys/). This takes milliseconds and needs nothing from the running
 *    process (it holds its keys in memory and never rewrites the files), so a gateway that will
 *    not die cannot delay it. From here on, everything sealed at rest is unreadable.
 * 3. Stop the gateway (SIGTERM, bounded wait, SIGKILL, check): it must not write while its files
 *    are overwritten. Just before, every data file under dataDir gets a hard link in
 *    .zeroize-hold/: a file the gateway deletes while stopping (SQLite removes its -wal on close)
 *    keeps its inode, and is overwritten through the link instead of leaving its blocks behind.
 * 4. Plan again (the gateway may have written while stopping) and erase the rest in ERASE_ORDER:
 *    database with -wal/-shm, message store, CDRs, other data, logs and audit log, extra paths,
 *    backups, certificates, configuration secrets. Then remove the emptied directories.
 * 5. Plan a third time: whatever is still there is reported as not erased.
 *
 * Every failure is recorded with its path and reason and the run goes on: in an emergency a
 * partial erase is better than an early exit. The report names paths and sizes, never contents.
 */
import { ZeroizeRefusedError } from './errors';
import { findGateway } from './pid-file';
import { passPatterns } from './zeroize-erase';
import { compareTargets, planZeroize, type ZeroizeConfig, type ZeroizePlan, type ZeroizeTarget } from './zeroize-plan';
import { holdLinks, markInProgress, ZeroizeRun, type ErasedEntry, type FailedEntry } from './zeroize-run';
import { stopProcess, type StopResult } from './zeroize-stop';

export type { ErasedEntry, FailedEntry } from './zeroize-run';

export interface ZeroizeOptions {
  /** List the targets and the running gateway; change nothing. */
  readonly dryRun?: boolean;
  /** Overrides ops.zeroize.passes (1 or 3). */
  readonly passes?: number;
  /** Overrides ops.zeroize.stopTimeoutSec (milliseconds). */
  readonly stopTimeoutMs?: number;
  /**
   * Test seam: called before each target is erased; a throw is recorded as that target's failure,
   * the way an I/O error would be.
   */
  readonly beforeErase?: (target: ZeroizeTarget) => void;
}

export interface ZeroizeReport {
  readonly dataDir: string;
  readonly dryRun: boolean;
  readonly passes: number;
  /** In a dry run, outcome 'running' means a gateway was found (and left alone). */
  readonly gateway: StopResult | { readonly pid: number; readonly outcome: 'running'; readonly elapsedMs: 0 };
  /** Dry run: what would be erased. Otherwise: what the first plan found. */
  readonly planned: readonly ZeroizeTarget[];
  readonly erased: readonly ErasedEntry[];
  readonly failed: readonly FailedEntry[];
  /** Informational lines (an empty dataDir left in place because it is a mount point). */
  readonly notes: readonly string[];
  readonly elapsedMs: number;
  /** Nothing remains: no failure, nothing found by the final check. */
  readonly ok: boolean;
}

export async function zeroize(config: ZeroizeConfig, options: ZeroizeOptions = {}): Promise<ZeroizeReport> {
  const started = Date.now();
  const passes = options.passes ?? config.ops.zeroize.passes;
  const patterns = passPatterns(passes);
  const first = planZeroize(config);
  if (!first.recognised && !first.marker) {
    throw new ZeroizeRefusedError(
      `dataDir ${first.dataDir} does not look like a Ciphergate data directory (no ciphergate.db, keys/, tls/, ` +
        'run/ or audit.log); refusing to erase it. Check --config/--set dataDir=...', first.dataDir);
  }
  const pid = findGateway(first.dataDir);
  const base = { dataDir: first.dataDir, passes, planned: first.targets };
  if (options.dryRun === true) {
    const failed = first.unreadable.map((u) => ({ path: u.path, category: 'directory' as const, reason: u.reason }));
    const gateway = pid === undefined ? { outcome: 'not-running' as const, elapsedMs: 0 } : { pid, outcome: 'running' as const, elapsedMs: 0 as const };
    return { ...base, dryRun: true, gateway, erased: [], failed, notes: [], elapsedMs: Date.now() - started, ok: failed.length === 0 };
  }

  const run = new ZeroizeRun(patterns, options.beforeErase);
  markInProgress(first);
  await run.eraseAll(first.targets.filter((t) => t.category === 'keys'));
  const held = pid === undefined ? new Map<string, ZeroizeTarget>() : holdLinks(first);
  const gateway = await stopProcess(pid, { termTimeoutMs: options.stopTimeoutMs ?? config.ops.zeroize.stopTimeoutSec * 1000 });
  if (gateway.outcome === 'failed') run.fail(`pid ${gateway.pid ?? '?'}`, 'gateway', `could not stop the gateway: ${gateway.reason ?? 'unknown'}`);

  // This run's held links are not targets of their own (a crashed run's leftovers are: 'other').
  const second = withoutHeld(planZeroize(config), held);
  const present = new Set(second.targets.map((t) => t.path));
  // Files the gateway deleted while stopping: erased through their held link, in their category's place.
  const orphans = [...held].filter(([, t]) => !present.has(t.path)).map(([link, t]) => ({ ...t, path: link, heldFor: t.path }));
  await run.eraseAll([...second.targets, ...orphans].sort(compareTargets));
  run.dropHeld([...held.keys()]);
  for (const u of second.unreadable) run.fail(u.path, 'directory', u.reason);
  if (run.failed.length === 0) run.eraseMarker(second.dataDir);
  run.removeDirs(second);

  // The final check: anything still present (written concurrently, or not erasable) is reported.
  const final = planZeroize(config);
  for (const t of final.targets) {
    if (!run.failed.some((f) => f.path === t.path)) run.fail(t.path, t.category, 'still present after the run');
  }
  const alive = findGateway(first.dataDir);
  if (alive !== undefined && gateway.outcome !== 'failed') run.fail(`pid ${alive}`, 'gateway', 'a gateway is running on this dataDir');
  return {
    ...base, dryRun: false, gateway, erased: run.erased, failed: run.failed, notes: run.notes,
    elapsedMs: Date.now() - started, ok: run.failed.length === 0,
  };
}

/** The plan without this run's held links (erased through `orphans`, or dropped). */
function withoutHeld(plan: ZeroizePlan, held: ReadonlyMap<string, ZeroizeTarget>): ZeroizePlan {
  return { ...plan, targets: plan.targets.filter((t) => !held.has(t.path)) };
}

