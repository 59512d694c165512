/**
 * Fixtures for the operations tests: a populated data directory (users with a sentinel display
 * name, a messages database, CDRs, logs, a backup, the generated TLS certificate), a real gateway
 * process on it, byte scans and tree hashes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { loadConfig } from '../../config/load';
import type { Config } from '../../config/schema';
import { UserService } from '../../gateway/admin/users';
import { nullLogger } from '../../gateway/log/logger';
import { createBackup } from '../../gateway/ops/backup-create';
import type { BackupSecret, ScryptParams } from '../../gateway/ops/backup-format';
import { openAccountStore } from '../../gateway/store';
import { ensureCertificate } from '../../gateway/tls/certificate';
import { CLI, REPO_ROOT } from '../helpers/gateway-process';

export { CLI, REPO_ROOT };
export const ZEROING_SCRIPT = path.join(REPO_ROOT, 'scripts', 'ims-zeroing.sh');
/** The cheapest scrypt cost a header accepts: keeps the tests fast, still the issue's floor. */
export const TEST_SCRYPT: ScryptParams = { log2N: 15, r: 8, p: 1 };
export const REALM = 'ciphergate.local';
export const PASSWORD = 'Tr0ub4dor&3-horse-staple';

export function tempRoot(prefix = 'cg-ops-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Removes a test tree, clearing an immutable attribute a test may have left. */
export function removeTree(dir: string): void {
  if (!fs.existsSync(dir)) return;
  spawnSync('chattr', ['-R', '-i', dir], { stdio: 'ignore' });
  fs.rmSync(dir, { recursive: true, force: true });
}

export function testConfig(dataDir: string, set: readonly string[] = []): Config {
  return loadConfig({ env: {}, set: [`dataDir=${dataDir}`, ...set] });
}

export interface Populated {
  readonly sentinel: string;
  readonly users: readonly string[];
  /** Key material that must not survive anywhere: the master key, the TLS private key (DER). */
  readonly keyBytes: readonly Buffer[];
  readonly logDir: string;
}

/**
 * Fills dataDir: two users (display name holds the sentinel), messages.db, cdr/*.csv, logs,
 * an encrypted backup in backups/, the generated certificate; plus an external log directory.
 */
export async function populate(config: Config, root: string, secret: BackupSecret): Promise<Populated> {
  const sentinel = `SENTINEL-${randomBytes(8).toString('hex')}`;
  const { dataDir } = config;
  const { store, masterKey } = await openAccountStore(dataDir);
  const users = new UserService({ store, masterKey, realm: REALM });
  const names = ['alice', 'bob'];
  for (const name of names) await users.add(name, { displayName: `${sentinel} ${name}`, password: PASSWORD });
  users.dispose();
  masterKey.dispose();
  await store.close();

  const messages = new BetterSqlite3(path.join(dataDir, 'messages.db'));
  messages.exec('CREATE TABLE message (body TEXT)');
  messages.prepare('INSERT INTO message VALUES (?)').run(`hello ${sentinel}`);
  messages.close();

  fs.mkdirSync(path.join(dataDir, 'cdr'), { mode: 0o700 });
  fs.writeFileSync(path.join(dataDir, 'cdr', '2025-01-01.csv'), `alice,bob,42,${sentinel}\n`, { mode: 0o600 });
  fs.mkdirSync(path.join(dataDir, 'logs'), { mode: 0o700 });
  fs.writeFileSync(path.join(dataDir, 'logs', 'gateway.log'), `{"message":"call from ${sentinel}"}\n`, { mode: 0o600 });
  fs.appendFileSync(path.join(dataDir, 'audit.log'), `{"action":"user.add","target":"${sentinel}"}\n`, { mode: 0o600 });
  const logDir = path.join(root, 'var-log');
  fs.mkdirSync(logDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(logDir, 'ciphergate.log'), `REGISTER from ${sentinel}\n`.repeat(1000), { mode: 0o600 });

  const tls = await ensureCertificate(config, nullLogger);
  await createBackup({ config, secret, scrypt: TEST_SCRYPT });

  const masterKeyBytes = fs.readFileSync(path.join(dataDir, 'keys', 'master.key'));
  const tlsKeyDer = derOf(tls.key.toString('utf8'));
  return { sentinel, users: names, keyBytes: [masterKeyBytes, tlsKeyDer], logDir };
}

function derOf(pem: string): Buffer {
  const body = pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----')).join('');
  return Buffer.from(body, 'base64');
}

/** Every regular file under `dir` (not following links), relative path → bytes. */
export function readTree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, depth: number): void => {
    if (depth > 16 || !fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile()) out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir, 0);
  return out;
}

/** Files whose bytes contain any needle (text sentinel and key bytes alike). */
export function filesContaining(files: Map<string, Buffer>, needles: readonly Buffer[]): string[] {
  return [...files].filter(([, bytes]) => needles.some((n) => bytes.includes(n))).map(([name]) => name);
}

/** SHA-256 over every path, mode and content under `dir`: equal before and after = untouched. */
export function hashTree(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string, depth: number): void => {
    if (depth > 16 || !fs.existsSync(d)) return;
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      h.update(`${path.relative(dir, p)}\0${st.mode}\0`);
      if (st.isDirectory()) walk(p, depth + 1);
      else if (st.isFile()) h.update(fs.readFileSync(p));
    }
  };
  walk(dir, 0);
  return h.digest('hex');
}

/** Hard-links every regular file under `dir` into `into`: the inodes stay reachable after unlink. */
export function linkAll(dir: string, into: string): string[] {
  fs.mkdirSync(into, { recursive: true });
  const links: string[] = [];
  for (const rel of readTree(dir).keys()) {
    const link = path.join(into, rel.replace(/[\\/]/g, '__'));
    fs.linkSync(path.join(dir, rel), link);
    links.push(link);
  }
  return links;
}

export interface RunningGateway {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
  kill(): void;
}

/** `node dist/gateway/cli.js start` on `dataDir` (loopback, ephemeral ports); resolves when ready. */
export async function startGatewayOn(dataDir: string, extra: readonly string[] = []): Promise<RunningGateway> {
  const child = spawn(process.execPath, [
    CLI, 'start', '--set', `dataDir=${dataDir}`, '--set', 'sip.host=127.0.0.1', '--set', 'sip.udpPort=0',
    '--set', 'sip.tcpPort=0', '--set', 'sip.tlsPort=0', '--set', 'admin.port=0', '--set', 'log.level=warn', ...extra,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway not ready:\n${out}`)), 15_000);
    const check = (): void => {
      if (out.includes('Ciphergate ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`gateway exited (${code}) before ready:\n${out}`)); });
  });
  return { child, exited, output: () => out, kill: () => { if (child.exitCode === null) child.kill('SIGKILL'); } };
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command asynchronously (the event loop keeps reaping our other children meanwhile). */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${command} timed out:\n${stdout}\n${stderr}`)); }, timeoutMs);
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** Sets the immutable attribute (root on ext4 and friends); false when this sandbox cannot. */
export function makeImmutable(file: string): boolean {
  const r = spawnSync('chattr', ['+i', file], { stdio: 'ignore' });
  if (r.status !== 0) return false;
  try {
    fs.appendFileSync(file, 'x');
    spawnSync('chattr', ['-i', file], { stdio: 'ignore' });
    return false; // the attribute did not take (or root ignores it here)
  } catch {
    return true;
  }
}
