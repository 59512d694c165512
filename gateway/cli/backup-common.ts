/**
 * What the `backup` commands share: where the secret comes from (--key-file, --passphrase-file,
 * CIPHERGATE_BACKUP_PASSPHRASE, or a prompt without echo on a terminal) and error reporting.
 *
 * A passphrase is never taken from the command line: argv is visible to every local user.
 */
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { ConfigError } from '../../config/load';
import { OpsError } from '../ops/errors';
import { checkNewPassphrase, passphraseSecret, PASSPHRASE_ENV, readKeyFile, readPassphraseFile } from '../ops/backup-secret';
import type { BackupSecret } from '../ops/backup-format';
import { BackupSecretError } from '../ops/errors';
import { StoreError } from '../store';
import { EXIT_FAILURE, println, UsageError, type CliCommand, type CliIo, type CliOptions, type CliStdin, type CliValues } from './command';

export const SECRET_OPTIONS: CliOptions = {
  'key-file': { type: 'string' },
  'passphrase-file': { type: 'string' },
};

export const SECRET_USAGE = '[--key-file FILE | --passphrase-file FILE]';

export const SECRET_HELP = [
  'Secret (one of, in this order):',
  '  --key-file FILE          32 random bytes (ciphergate backup keygen FILE); for unattended use',
  '  --passphrase-file FILE   First line of FILE',
  `  ${PASSPHRASE_ENV}   environment variable`,
  '  a prompt (no echo) when standard input is a terminal',
].join('\n');

/** How long a passphrase prompt waits. */
const PROMPT_TIMEOUT_MS = 300_000;

/**
 * The secret the command line and environment name. `fresh`: a new backup (passphrase length is
 * checked, and a prompted one is asked twice).
 */
export async function backupSecret(values: CliValues, io: CliIo, command: CliCommand, fresh: boolean): Promise<BackupSecret> {
  const keyFile = typeof values['key-file'] === 'string' ? values['key-file'] : undefined;
  const passFile = typeof values['passphrase-file'] === 'string' ? values['passphrase-file'] : undefined;
  if (keyFile !== undefined && passFile !== undefined) {
    throw new UsageError(`${command.name}: give --key-file or --passphrase-file, not both`, command);
  }
  let secret: BackupSecret;
  if (keyFile !== undefined) secret = readKeyFile(keyFile);
  else if (passFile !== undefined) secret = readPassphraseFile(passFile);
  else if ((io.env[PASSPHRASE_ENV] ?? '') !== '') secret = passphraseSecret(io.env[PASSPHRASE_ENV]!);
  else secret = await promptedSecret(io, command, fresh);
  if (fresh) checkNewPassphrase(secret);
  return secret;
}

async function promptedSecret(io: CliIo, command: CliCommand, fresh: boolean): Promise<BackupSecret> {
  const stdin = io.stdin;
  if (stdin === undefined || stdin.isTTY !== true) {
    throw new UsageError(
      `${command.name}: no backup secret: pass --key-file FILE or --passphrase-file FILE, set ${PASSPHRASE_ENV}, ` +
        'or run on a terminal to be asked', command);
  }
  const first = await promptHidden(stdin, io.stderr, 'Backup passphrase: ');
  if (fresh) {
    const again = await promptHidden(stdin, io.stderr, 'Repeat the passphrase: ');
    if (again !== first) throw new BackupSecretError('the two passphrases differ');
  }
  return passphraseSecret(first);
}

/** Reads one line from the terminal without echoing it (readline writing to a muted stream). */
function promptHidden(stdin: CliStdin, stderr: NodeJS.WritableStream, question: string): Promise<string> {
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  stderr.write(question);
  const rl = readline.createInterface({ input: stdin, output: muted, terminal: true });
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { rl.close(); reject(new BackupSecretError('no passphrase typed in time')); }, PROMPT_TIMEOUT_MS);
    rl.question('', (answer) => {
      clearTimeout(timer);
      rl.close();
      stderr.write('\n');
      resolve(answer);
    });
  });
}

/** Prints an expected failure (exit 1); rethrows anything unexpected (runCli prints it). */
export function reportBackupError(io: CliIo, err: unknown): number {
  if (err instanceof ConfigError) {
    println(io.stderr, err.message);
    return EXIT_FAILURE;
  }
  if (err instanceof OpsError || err instanceof StoreError) {
    println(io.stderr, `ciphergate: ${err.message}`);
    return EXIT_FAILURE;
  }
  throw err;
}
