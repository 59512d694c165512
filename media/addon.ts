/**
 * Loading of the project's optional native addons (media/srtp/native, media/relay/kernel/native,
 * media/relay/io/native), each built by scripts/build-native.js next to its binding.gyp. A missing
 * or broken addon is a reason, never an exception: the gateway runs without it.
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * Where an addon is built: next to its binding.gyp in the source tree. `dir` is the loader's own
 * __dirname (under dist/ when compiled), `relative` the binding's directory from the package root.
 */
export function addonPath(dir: string, relative: string, file: string): string {
  const beside = path.join(dir, 'build', 'Release', file);
  if (fs.existsSync(beside)) return beside;
  const depth = relative.split('/').length;
  return path.resolve(dir, ...Array<string>(depth + 1).fill('..'), relative, 'build', 'Release', file);
}

/**
 * What loading each file gave this thread: a file is loaded once, so two loaders of one addon
 * share one module instance (the socket addon carries the SRTP session classes, and its fast path
 * only accepts sessions of its own instance: media/relay/io/native).
 */
const loadedFiles = new Map<string, { exports: unknown; fault: string | undefined }>();

/** Loads the addon at `file` (once per thread): its exports when `check` accepts them, or null and why not. Never throws. */
export function tryLoadAddon<T>(file: string, check: (exports: unknown) => exports is T): { addon: T | null; fault: string | undefined } {
  let loaded = loadedFiles.get(file);
  if (loaded === undefined) {
    if (!fs.existsSync(file)) return { addon: null, fault: `not built (${file})` };
    const module: { exports: unknown } = { exports: {} };
    try {
      process.dlopen(module, file);
      loaded = { exports: module.exports, fault: undefined };
    } catch (err) {
      loaded = { exports: undefined, fault: `failed to load: ${err instanceof Error ? err.message : String(err)}` };
    }
    loadedFiles.set(file, loaded);
  }
  if (loaded.fault !== undefined) return { addon: null, fault: loaded.fault };
  return check(loaded.exports) ? { addon: loaded.exports, fault: undefined } : { addon: null, fault: 'unexpected exports' };
}

/**
 * The addon at `file` (an addonPath), loaded on first use, at most once per thread (tryLoadAddon
 * keeps what each file gave): `load()` gives it or null, `fault()` why not (undefined when it loaded).
 */
export function lazyAddon<T>(file: string, check: (exports: unknown) => exports is T): { load(): T | null; fault(): string | undefined } {
  return { load: () => tryLoadAddon(file, check).addon, fault: () => tryLoadAddon(file, check).fault };
}
