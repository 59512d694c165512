/**
 * One zeroize run's mechanics (gateway/ops/zeroize.ts has the sequence): erasing targets category
 * by category with bounded concurrency, hard-link bookkeeping, the in-progress marker, removing
 * emptied directories, and the record of what was erased and what failed.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants as FS, linkSync, lstatSync, mkdirSync, openSync } from 'node:fs';
import * as path from 'node:path';
import { EraseError, errnoCode, eraseFile, fsyncDir, inodeId, OVERWRITE_CHUNK_BYTES, removeDir, renameAndUnlink } from './zeroize-erase';
import { isInside, ZEROIZE_HOLD_DIR, ZEROIZE_MARKER, type ZeroizeCategory, type ZeroizePlan, type ZeroizeTarget } from './zeroize-plan';

export interface ErasedEntry {
  readonly path: string;
  readonly category: ZeroizeCategory | 'directory';
  readonly kind: ZeroizeTarget['kind'] | 'directory';
  /** Bytes overwritten per pass (the file size); 0 for links, special files, directories. */
  readonly bytes: number;
  /** Overwrite passes applied (0 when nothing was overwritten). */
  readonly passes: number;
  /** How it was erased when not the plain way (through a held hard link; another name of an erased inode). */
  readonly note?: string;
}

export interface FailedEntry {
  readonly path: string;
  readonly category: ZeroizeCategory | 'directory' | 'gateway';
  /** The failed step and errno code; never file contents. */
  readonly reason: string;
}

/** Files erased at once within a category (libuv's thread pool has 4 threads by default). */
export const ERASE_CONCURRENCY = 4;

export type HeldTarget = ZeroizeTarget & { readonly heldFor?: string };
type EraseOutcome = { readonly erased?: ErasedEntry; readonly failed?: FailedEntry };

/** Consecutive runs of one category (the targets are sorted by category already). */
function byCategory(targets: readonly HeldTarget[]): HeldTarget[][] {
  const groups: HeldTarget[][] = [];
  for (const t of targets) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last[0]!.category === t.category) last.push(t);
    else groups.push([t]);
  }
  return groups;
}

/** The mutable state of one run: what was erased, what failed, what was already attempted. */
export class ZeroizeRun {
  readonly erased: ErasedEntry[] = [];
  readonly failed: FailedEntry[] = [];
  readonly notes: string[] = [];
  /** Paths that failed once: not retried in this run (a path erased and re-created is erased again). */
  private readonly failedPaths = new Set<string>();
  /** Inodes already overwritten: another name of one (a hard link) is only unlinked. */
  private readonly overwritten = new Set<string>();
  /** Directories whose entries changed since the last fsync (one fsync per directory per batch). */
  private readonly dirty = new Set<string>();

  constructor(private readonly patterns: readonly number[], private readonly beforeErase?: (t: ZeroizeTarget) => void) {}

  /**
   * Erases targets category by category, in order. Within a category up to ERASE_CONCURRENCY files
   * are in flight (small files cost fsync latency, which overlaps); keys go one at a time, the
   * master key first. Each category's directory changes are fsynced before the next starts.
   */
  async eraseAll(targets: readonly HeldTarget[]): Promise<void> {
    for (const group of byCategory(targets)) {
      const results: (EraseOutcome | undefined)[] = new Array(group.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        const chunk = Buffer.allocUnsafe(OVERWRITE_CHUNK_BYTES);
        try {
          // Bounded: each round takes one index of a finite list.
          while (next < group.length) {
            const i = next++;
            results[i] = await this.eraseOne(group[i]!, chunk);
          }
        } finally {
          chunk.fill(0);
        }
      };
      const width = group[0]!.category === 'keys' ? 1 : ERASE_CONCURRENCY;
      await Promise.all(Array.from({ length: Math.min(width, group.length) }, worker));
      // Reported in plan order, whatever order the workers finished in.
      for (const r of results) {
        if (r?.erased !== undefined) this.erased.push(r.erased);
        if (r?.failed !== undefined) this.failed.push(r.failed);
      }
      this.syncDirs();
    }
  }

  private async eraseOne(t: HeldTarget, chunk: Buffer): Promise<EraseOutcome | undefined> {
    if (this.failedPaths.has(t.path)) return undefined;
    const shown = t.heldFor ?? t.path;
    try {
      this.beforeErase?.({ ...t, path: shown });
      if (t.kind === 'file' && this.overwritten.has(inodeId(lstatSync(t.path)))) {
        renameAndUnlink(t.path, this.dirty);
        return { erased: { path: shown, category: t.category, kind: t.kind, bytes: 0, passes: 0, note: 'another name (hard link) of a file overwritten above' } };
      }
      if (t.kind === 'file') {
        const { size, inode } = await eraseFile(t.path, this.patterns, chunk, this.dirty);
        this.overwritten.add(inode);
        return {
          erased: {
            path: shown, category: t.category, kind: t.kind, bytes: size, passes: this.patterns.length,
            ...(t.heldFor !== undefined && { note: 'deleted by the gateway while stopping; overwritten through a held hard link' }),
          },
        };
      }
      renameAndUnlink(t.path, this.dirty);
      return { erased: { path: shown, category: t.category, kind: t.kind, bytes: 0, passes: 0 } };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined; // removed meanwhile (the gateway's own clean-up)
      this.failedPaths.add(t.path);
      return { failed: { path: shown, category: t.category, reason: describe(err) } };
    }
  }

  /** Makes the batch's renames and unlinks durable. */
  syncDirs(): void {
    for (const dir of this.dirty) {
      try {
        fsyncDir(dir);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') this.fail(dir, 'directory', describe(err));
      }
    }
    this.dirty.clear();
  }

  /** Removes the held links left (their inodes were overwritten under their own names). */
  dropHeld(links: readonly string[]): void {
    for (const link of links) {
      try {
        renameAndUnlink(link, this.dirty);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') this.fail(link, 'other', describe(err));
      }
    }
    this.syncDirs();
  }

  eraseMarker(dataDir: string): void {
    try {
      renameAndUnlink(path.join(dataDir, ZEROIZE_MARKER));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') this.fail(path.join(dataDir, ZEROIZE_MARKER), 'other', describe(err));
    }
  }

  removeDirs(plan: ZeroizePlan): void {
    for (const dir of plan.dirs) {
      try {
        if (removeDir(dir)) this.erased.push({ path: dir, category: 'directory', kind: 'directory', bytes: 0, passes: 0 });
      } catch (err) {
        if (dir === plan.dataDir && errnoCode(err) === 'EBUSY') {
          this.notes.push(`${dir} is empty but stays: it is a mount point`);
        } else {
          this.fail(dir, 'directory', describe(err));
        }
      }
    }
  }

  fail(p: string, category: FailedEntry['category'], reason: string): void {
    this.failed.push({ path: p, category, reason });
  }
}

/**
 * Hard-links every data file under dataDir (keys are gone already) into .zeroize-hold/ under a
 * random name; returns link → original target. Best effort: a file system without hard links
 * simply gets none.
 */
export function holdLinks(plan: ZeroizePlan): Map<string, ZeroizeTarget> {
  const held = new Map<string, ZeroizeTarget>();
  const dir = path.join(plan.dataDir, ZEROIZE_HOLD_DIR);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') return held;
  }
  for (const t of plan.targets) {
    if (t.kind !== 'file' || t.category === 'keys' || !isInside(plan.dataDir, t.path)) continue;
    const link = path.join(dir, randomBytes(12).toString('hex'));
    try {
      linkSync(t.path, link);
      held.set(link, t);
    } catch {
      // Gone already, or no hard links here: the file is erased under its own name.
    }
  }
  return held;
}

/** Leaves the marker that lets a re-run recognise a half-erased dataDir; best effort. */
export function markInProgress(plan: ZeroizePlan): void {
  if (plan.marker) return;
  try {
    closeSync(openSync(path.join(plan.dataDir, ZEROIZE_MARKER), FS.O_WRONLY | FS.O_CREAT, 0o600));
    fsyncDir(plan.dataDir);
  } catch {
    // No dataDir, or a read-only one: the run reports what it cannot erase anyway.
  }
}

function describe(err: unknown): string {
  if (err instanceof EraseError) return err.message;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
