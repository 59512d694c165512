/**
 * `ciphergate backup verify FILE`: decrypts the whole backup, checks every chunk's tag and every
 * entry's SHA-256, and lists the contents. Writes nothing.
 */
import path from 'node:path';
import { disposeSecret } from '../ops/backup-secret';
import { verifyBackup } from '../ops/backup-restore';
import { escapeControl } from '../log/logger';
import { EXIT_OK, println, type CliCommand } from './command';
import { backupSecret, reportBackupError, SECRET_HELP, SECRET_OPTIONS, SECRET_USAGE } from './backup-common';

export const backupVerifyCommand: CliCommand = {
  name: 'backup verify',
  summary: 'Check a backup\'s integrity and list its contents',
  usage: `FILE ${SECRET_USAGE}`,
  help: `${SECRET_HELP}\n\nExit status: 0 intact, 1 wrong secret or damaged file (the reason on stderr), 2 bad command line.`,
  options: SECRET_OPTIONS,
  args: [{ name: 'FILE' }],
  async run(values, io, args) {
    try {
      const file = path.resolve(io.cwd, args[0]!);
      const secret = await backupSecret(values, io, backupVerifyCommand, false);
      try {
        const manifest = await verifyBackup(file, secret);
        println(io.stdout, `Backup ${file}: intact (every chunk authenticated, every entry's SHA-256 matches)`);
        println(io.stdout, `Created ${manifest.createdAt} by Ciphergate ${escapeControl(manifest.gatewayVersion)} from ${escapeControl(manifest.dataDir)}`);
        for (const e of manifest.entries) println(io.stdout, `  ${e.role.padEnd(16)} ${e.name}  ${e.size} bytes  sha256 ${e.sha256.slice(0, 16)}…`);
        return EXIT_OK;
      } finally {
        disposeSecret(secret);
      }
    } catch (err) {
      return reportBackupError(io, err);
    }
  },
};
