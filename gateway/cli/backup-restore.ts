/**
 * `ciphergate backup restore FILE [--force]`: restores a backup into the data directory of a
 * STOPPED gateway. The whole file is authenticated before anything is written; files are staged
 * next to their targets and renamed into place (gateway/ops/backup-restore.ts).
 */
import path from 'node:path';
import { disposeSecret } from '../ops/backup-secret';
import { restoreBackup, RESTORED_CONFIG_DIR } from '../ops/backup-restore';
import { EXIT_OK, println, type CliCommand } from './command';
import { CONFIG_HELP, CONFIG_OPTIONS, CONFIG_USAGE, configFromArgs } from './config-options';
import { backupSecret, reportBackupError, SECRET_HELP, SECRET_OPTIONS, SECRET_USAGE } from './backup-common';

export const backupRestoreCommand: CliCommand = {
  name: 'backup restore',
  summary: 'Restore a backup into the data directory of a stopped gateway',
  usage: `FILE [--force] ${SECRET_USAGE} ${CONFIG_USAGE}`,
  help: [
    'Options:',
    '  --force                  Replace an existing database (otherwise restore refuses)',
    '',
    SECRET_HELP,
    '',
    CONFIG_HELP.replace(/^Options:\n/, ''),
    '',
    `Configuration files from the backup go to <dataDir>/${RESTORED_CONFIG_DIR}/ (not applied).`,
    'Exit status: 0 restored, 1 refused or failed (nothing changed), 2 bad command line.',
  ].join('\n'),
  options: { ...CONFIG_OPTIONS, ...SECRET_OPTIONS, force: { type: 'boolean' } },
  args: [{ name: 'FILE' }],
  async run(values, io, args) {
    try {
      const config = configFromArgs(values, io);
      const file = path.resolve(io.cwd, args[0]!);
      const secret = await backupSecret(values, io, backupRestoreCommand, false);
      try {
        const summary = await restoreBackup({ config, file, secret, force: values.force === true });
        println(io.stdout, `Restored ${file} (taken ${summary.manifest.createdAt}) into ${config.dataDir}:`);
        for (const r of summary.restored) println(io.stdout, `  ${r.role.padEnd(16)} ${r.path}  ${r.size} bytes`);
        println(io.stdout, 'Start the gateway with the same sip.realm as before: the passwords are sealed for it.');
        return EXIT_OK;
      } finally {
        disposeSecret(secret);
      }
    } catch (err) {
      return reportBackupError(io, err);
    }
  },
};
