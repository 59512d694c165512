/**
 * The list of CLI subcommands. To add one: write gateway/cli/<name>.ts exporting a CliCommand and
 * add it here. Names may have several words ("user add"); the runner matches the longest.
 */
import { adminTokenRotateCommand } from './admin-token-rotate';
import { backupCreateCommand } from './backup-create';
import { backupKeygenCommand } from './backup-keygen';
import { backupRestoreCommand } from './backup-restore';
import { backupVerifyCommand } from './backup-verify';
import { checkConfigCommand } from './check-config';
import { cdrListCommand } from './cdr-list';
import type { CliCommand } from './command';
import { groupAddCommand } from './group-add';
import { groupListCommand } from './group-list';
import { groupMemberAddCommand } from './group-member-add';
import { groupMemberRemoveCommand } from './group-member-remove';
import { groupRemoveCommand } from './group-remove';
import { metricsTokenRotateCommand } from './metrics-token-rotate';
import { registrationsCommand } from './registrations';
import { createStartCommand, type StartDeps } from './start';
import { userAddCommand } from './user-add';
import { userBindCertCommand } from './user-bind-cert';
import { userBlockCommand } from './user-block';
import { userDestroyKeysCommand } from './user-destroy-keys';
import { userListCommand } from './user-list';
import { userRemoveCommand } from './user-remove';
import { userResetCommand } from './user-reset';
import { userSetCommand } from './user-set';
import { userShowCommand } from './user-show';
import { userUnblockCommand } from './user-unblock';
import { zeroizeCommand } from './zeroize';

export function defaultCommands(startDeps: Partial<StartDeps> = {}): CliCommand[] {
  return [
    createStartCommand(startDeps),
    checkConfigCommand,
    userAddCommand,
    userListCommand,
    userShowCommand,
    userSetCommand,
    userBlockCommand,
    userUnblockCommand,
    userResetCommand,
    userDestroyKeysCommand,
    userRemoveCommand,
    userBindCertCommand,
    registrationsCommand,
    cdrListCommand,
    groupAddCommand,
    groupListCommand,
    groupRemoveCommand,
    groupMemberAddCommand,
    groupMemberRemoveCommand,
    adminTokenRotateCommand,
    metricsTokenRotateCommand,
    backupCreateCommand,
    backupVerifyCommand,
    backupRestoreCommand,
    backupKeygenCommand,
    zeroizeCommand,
  ];
}
