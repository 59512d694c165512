/**
 * Messaging administration without a running gateway (the CLI on a stopped data directory).
 */
import type { Config } from '../../config/schema';
import type { AuditLog } from '../admin/audit';
import { nullLogger } from '../log/logger';
import type { openDatabase } from '../store/sqlite/database';
import { MessagingAdmin } from './admin';
import { GroupStore, PolicyStore } from './groups';
import { DEFAULT_MESSAGING_LIMITS } from './types';
import { MessageStore } from './message-store';

/**
 * The MessagingAdmin of a stopped gateway, straight on its database: groups, policies, and the
 * erasure of a user's stored messages (destroy-keys, remove).
 */
export function localMessagingAdmin(config: Config, db: ReturnType<typeof openDatabase>, audit: AuditLog): MessagingAdmin {
  return new MessagingAdmin({
    groups: new GroupStore(db),
    policies: new PolicyStore(db),
    erase: (name) => new MessageStore(db, { log: nullLogger }).eraseRecipient(name),
    audit,
    maxGroupMembers: DEFAULT_MESSAGING_LIMITS.maxGroupMembers,
    aorOf: (name) => `sip:${name}@${config.sip.domain}`,
  });
}
