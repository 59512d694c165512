#!/usr/bin/env node
/**
 * The `ciphergate` executable (package.json "bin" → dist/gateway/cli.js).
 * Subcommands live in gateway/cli/, one file each, listed in gateway/cli/registry.ts.
 */
import { defaultCommands } from './cli/registry';
import { runCli } from './cli/run';

/** If something still holds the event loop after the command finished, do not hang forever. */
const EXIT_GRACE_MS = 5000;

if (require.main === module) {
  const io = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    // Lazy: touching process.stdin opens a handle; only commands that read a secret need it.
    get stdin() { return process.stdin; },
  };
  void runCli(process.argv.slice(2), io, defaultCommands()).then((code) => {
    // exitCode (not exit()) lets stdout/stderr drain when they are pipes.
    process.exitCode = code;
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  });
}
