/**
 * `ciphergate backup keygen FILE`: creates a backup key file (32 random bytes, mode 0600) for
 * unattended backups (ops.backup.keyFile, --key-file). An existing file is never replaced.
 */
import path from 'node:path';
import { generateKeyFile } from '../ops/backup-secret';
import { EXIT_OK, println, type CliCommand } from './command';
import { reportBackupError } from './backup-common';

export const backupKeygenCommand: CliCommand = {
  name: 'backup keygen',
  summary: 'Create a backup key file (32 random bytes, mode 0600)',
  usage: 'FILE',
  help: [
    'Keep a copy of the key file OFF this machine (a password manager, a safe): without it no backup',
    'taken with it can be read, and `ciphergate zeroize` destroys the copy named by ops.backup.keyFile.',
    'Exit status: 0 created, 1 failed (e.g. the file exists), 2 bad command line.',
  ].join('\n'),
  options: {},
  args: [{ name: 'FILE' }],
  async run(_values, io, args) {
    try {
      const file = path.resolve(io.cwd, args[0]!);
      generateKeyFile(file);
      println(io.stdout, `Backup key written to ${file} (mode 0600). Keep a copy off this machine.`);
      return EXIT_OK;
    } catch (err) {
      return reportBackupError(io, err);
    }
  },
};
