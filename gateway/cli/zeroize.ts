/**
 * `ciphergate zeroize [--yes] [--dry-run] [--passes 1|3]`: emergency erase of everything the gateway
 * stores (gateway/ops/zeroize.ts). scripts/ims-zeroing.sh and scripts/IMSZeroing.bat call it.
 *
 * Confirmation: on a terminal the operator types ZEROIZE; otherwise --yes is required, so a
 * script that forgot it fails (exit 2) instead of erasing by surprise. --dry-run needs neither.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ConfigError, loadConfig, type Config } from '../../config/load';
import { OpsError } from '../ops/errors';
import { zeroize } from '../ops/zeroize';
import { formatZeroizeReport } from '../ops/zeroize-report';
import { EXIT_FAILURE, EXIT_OK, println, UsageError, type CliCommand, type CliIo, type CliStdin, type CliValues } from './command';
import { CONFIG_HELP, CONFIG_OPTIONS, CONFIG_USAGE } from './config-options';

export const CONFIRM_WORD = 'ZEROIZE';
/** How long the confirmation prompt waits for the operator. */
const CONFIRM_TIMEOUT_MS = 120_000;

export const zeroizeCommand: CliCommand = {
  name: 'zeroize',
  summary: 'Emergency erase: stop the gateway, destroy keys, overwrite and delete all data',
  usage: `[--yes] [--dry-run] [--passes 1|3] ${CONFIG_USAGE}`,
  help: [
    'Options:',
    '  --yes                  Do not ask (required when standard input is not a terminal)',
    '  --dry-run              List every target and the running gateway; change nothing',
    '  --passes 1|3           Overwrite passes (default ops.zeroize.passes): 3 = zeros, ones, zeros;',
    '                         1 = zeros only (NIST SP 800-88 "Clear")',
    CONFIG_HELP.replace(/^Options:\n/, ''),
    '',
    'Order: keys first (master key, TLS key, backup key, tokens: crypto-erase), then the gateway is',
    'stopped (SIGTERM, then SIGKILL), then database, messages, CDRs, logs and audit log, backups,',
    'certificates and ops.zeroize.secretFiles are overwritten, fsynced and deleted. On SSDs and',
    'copy-on-write file systems only the key destruction is reliable (docs/OPERATIONS.md).',
    '',
    'Exit status: 0 nothing remains (also when there was nothing to erase), 1 something could not',
    'be erased (listed), 2 bad command line or no --yes without a terminal.',
  ].join('\n'),
  options: {
    ...CONFIG_OPTIONS,
    yes: { type: 'boolean', short: 'y' },
    'dry-run': { type: 'boolean' },
    passes: { type: 'string' },
  },
  async run(values, io) {
    const passes = parsePasses(values.passes);
    const dryRun = values['dry-run'] === true;
    let config: Config;
    try {
      config = zeroizeConfig(values, io);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      println(io.stderr, err.message);
      return EXIT_FAILURE;
    }
    if (!dryRun && values.yes !== true) {
      const stdin = io.stdin;
      if (stdin === undefined || stdin.isTTY !== true) {
        throw new UsageError('zeroize: standard input is not a terminal; pass --yes to confirm the erase', zeroizeCommand);
      }
      if (!(await confirm(stdin, io, config.dataDir))) {
        println(io.stderr, 'ciphergate: zeroize aborted; nothing was changed');
        return EXIT_FAILURE;
      }
    }
    try {
      const report = await zeroize(config, { dryRun, ...(passes !== undefined && { passes }) });
      for (const line of formatZeroizeReport(report)) println(io.stdout, line);
      return report.ok ? EXIT_OK : EXIT_FAILURE;
    } catch (err) {
      if (!(err instanceof OpsError)) throw err;
      println(io.stderr, `ciphergate: ${err.message}`);
      return EXIT_FAILURE;
    }
  },
};

function parsePasses(value: CliValues[string]): number | undefined {
  if (value === undefined) return undefined;
  if (value === '1' || value === '3') return Number(value);
  throw new UsageError(`zeroize: --passes must be 1 or 3 (got '${String(value)}')`, zeroizeCommand);
}

/**
 * The configuration, tolerating a --config file that no longer exists: an earlier run may have
 * erased it (ops.zeroize.secretFiles), and a re-run must still work from --set/environment.
 */
function zeroizeConfig(values: CliValues, io: CliIo): Config {
  const set = Array.isArray(values.set) ? values.set.filter((v): v is string => typeof v === 'string') : [];
  let file = typeof values.config === 'string' ? values.config : undefined;
  if (file !== undefined && !fs.existsSync(path.resolve(io.cwd, file))) {
    println(io.stderr, `ciphergate: note: config file ${file} does not exist (erased by an earlier run?); using the defaults, environment and --set`);
    file = undefined;
  }
  return loadConfig({ file, set, env: io.env, cwd: io.cwd });
}

/** Asks on the terminal; true only when the operator typed the confirmation word exactly. */
function confirm(stdin: CliStdin, io: CliIo, dataDir: string): Promise<boolean> {
  println(io.stderr, `This irreversibly destroys the keys and all data of the gateway at ${dataDir}`);
  println(io.stderr, 'and stops it if it is running.');
  const rl = readline.createInterface({ input: stdin, output: io.stderr, terminal: false });
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => { rl.close(); resolve(false); }, CONFIRM_TIMEOUT_MS);
    rl.question(`Type ${CONFIRM_WORD} to continue: `, (answer) => {
      clearTimeout(timer);
      resolve(answer.trim() === CONFIRM_WORD); // before close(): its listener below resolves false
      rl.close();
    });
    // Input ended (Ctrl-D) without an answer.
    rl.once('close', () => { clearTimeout(timer); resolve(false); });
  });
}
