/** Spawning `node dist/gateway/cli.js` for the account-command tests, bounded in time. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { findPackageRoot } from '../../config/load';
import { UserService } from '../../gateway/admin/users';
import { openAccountStore } from '../../gateway/store';

export const CLI = path.join(findPackageRoot(), 'dist', 'gateway', 'cli.js');
const RUN_TIMEOUT_MS = 15_000;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI with `--set dataDir=DIR` appended to the command's own options. `stdin`: text
 * piped in and closed; absent = /dev/null.
 */
export function cli(dataDir: string, args: string[], options: { stdin?: string; extra?: string[] } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args, '--set', `dataDir=${dataDir}`, ...(options.extra ?? [])], {
    cwd: dataDir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ciphergate ${args.join(' ')} did not exit within ${RUN_TIMEOUT_MS} ms\n${stdout}\n${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The realm the account tests' users are provisioned in (HA1s are per realm, RFC 7616 §3.4.2). */
export const REALM = 'ciphergate.local';

/** Opens <dataDir>'s account store as the CLI does, runs fn, and always closes it again. */
export async function withUsers<T>(dataDir: string, fn: (users: UserService) => Promise<T>): Promise<T> {
  const { store, masterKey } = await openAccountStore(dataDir);
  const users = new UserService({ store, masterKey, realm: REALM });
  try {
    return await fn(users);
  } finally {
    users.dispose();
    masterKey.dispose();
    await store.close();
  }
}
