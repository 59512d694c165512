/**
 * `ciphergate backup create [--out FILE]`: one encrypted file with a consistent online copy of the
 * account database, the master key, the TLS certificate and key, and the configuration in use.
 * Works while the gateway runs (SQLite online backup from a second connection; WAL allows it).
 */
import path from 'node:path';
import { createBackup } from '../ops/backup-create';
import { disposeSecret } from '../ops/backup-secret';
import { formatBytes } from '../ops/zeroize-report';
import { EXIT_OK, println, type CliCommand } from './command';
import { CONFIG_HELP, CONFIG_OPTIONS, CONFIG_USAGE, configFromArgs } from './config-options';
import { backupSecret, reportBackupError, SECRET_HELP, SECRET_OPTIONS, SECRET_USAGE } from './backup-common';

export const backupCreateCommand: CliCommand = {
  name: 'backup create',
  summary: 'Write an encrypted backup (database, master key, TLS certificate and key, config)',
  usage: `[--out FILE] ${SECRET_USAGE} ${CONFIG_USAGE}`,
  help: [
    'Options:',
    '  --out FILE               Where to write (default <ops.backup.dir>/ciphergate-<UTC time>.cgbk);',
    '                           an existing file is never replaced',
    '',
    SECRET_HELP,
    '',
    CONFIG_HELP.replace(/^Options:\n/, ''),
    '',
    'The backup holds the master key: whoever has the file AND its passphrase or key file can read',
    'every account. Keep the passphrase/key file apart from the backups.',
    'Exit status: 0 written, 1 failed, 2 bad command line.',
  ].join('\n'),
  options: { ...CONFIG_OPTIONS, ...SECRET_OPTIONS, out: { type: 'string', short: 'o' } },
  async run(values, io) {
    try {
      const config = configFromArgs(values, io);
      const secret = await backupSecret(values, io, backupCreateCommand, true);
      try {
        const summary = await createBackup({
          config, secret,
          ...(typeof values.out === 'string' && { out: path.resolve(io.cwd, values.out) }),
          configFiles: typeof values.config === 'string' ? [path.resolve(io.cwd, values.config)] : [],
        });
        println(io.stdout, `Backup written: ${summary.file} (${formatBytes(summary.bytes)})`);
        for (const e of summary.manifest.entries) println(io.stdout, `  ${e.role.padEnd(16)} ${e.name}  ${e.size} bytes`);
        return EXIT_OK;
      } finally {
        disposeSecret(secret);
      }
    } catch (err) {
      return reportBackupError(io, err);
    }
  },
};
