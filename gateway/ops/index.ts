/**
 * Operations: emergency zeroing and encrypted backups (docs/OPERATIONS.md).
 */
export * from './errors';
export { findGateway, isLiveProcess, pidFilePath, readPidFile, removePidFile, writePidFile, PID_FILE } from './pid-file';
export { zeroize, type ErasedEntry, type FailedEntry, type ZeroizeOptions, type ZeroizeReport } from './zeroize';
export { ERASE_CONCURRENCY } from './zeroize-run';
export { planZeroize, ERASE_ORDER, ZEROIZE_MARKER, type ZeroizeCategory, type ZeroizeConfig, type ZeroizePlan, type ZeroizeTarget } from './zeroize-plan';
export { formatZeroizeReport } from './zeroize-report';
export { stopProcess, type StopResult } from './zeroize-stop';
export { passPatterns, OVERWRITE_CHUNK_BYTES } from './zeroize-erase';
export { createBackup, defaultBackupPath, type BackupConfig, type BackupSummary, type CreateBackupOptions } from './backup-create';
export { readBackup, restoreBackup, verifyBackup, mapTargets, RESTORED_CONFIG_DIR, type RestoreOptions, type RestoreSummary, type RestoredFile } from './backup-restore';
export { BackupScheduler, SCHEDULED_PREFIX, type BackupSchedulerOptions } from './backup-scheduler';
export {
  checkNewPassphrase, disposeSecret, generateKeyFile, passphraseSecret, readKeyFile, readPassphraseFile,
  MIN_PASSPHRASE_LENGTH, PASSPHRASE_ENV,
} from './backup-secret';
export { DEFAULT_SCRYPT, MIN_SCRYPT_LOG2N, type BackupSecret, type ScryptParams } from './backup-format';
export type { BackupManifest, BackupRole, ManifestEntry } from './backup-archive';
