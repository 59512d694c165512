/**
 * Secure messaging (RFC 3428 MESSAGE): store-and-forward, groups, confidential mode. See
 * service.ts for the parts, README "Secure messaging" for the operator's view.
 */
import type { AuditLog } from '../admin/audit';
import { MessagingAdmin } from './admin';
import { MessagingService, openMessagingDatabase, type MessagingServiceOptions } from './service';

export * from './types';
export * from './errors';
export { MessagingAdmin, type MessagingAdminOptions, type MessagingControl } from './admin';
export { groupView, messagingHttpError, messagingRoutes, type GroupView } from './admin-routes';
export { asksConfidential, classify, CONFIDENTIAL_HEADER, MESSAGE_CONTENT_TYPES, type MessageClass } from './content';
export { deviceKey, devicesOf, outcomeOf, type Device, type DeviceOutcome } from './devices';
export { decodeEnvelope, encodeEnvelope, EnvelopeSealer, type Envelope } from './envelope';
export { checkGroupName, GroupStore, PolicyStore, type Group } from './groups';
export { eligible, isSettled, Mailboxes } from './mailbox';
export { MessageStore, type MessageStoreOptions } from './message-store';
export {
  MessagingService, openMessagingDatabase,
  type MessagingEvents, type MessagingRegistrar, type MessagingServiceOptions, type RemovalReason,
} from './service';
export { StoreAndForward, type StoreAndForwardOptions } from './store-forward';
export { AccountCache } from './accounts';
export { RandomPool } from './random';

export interface StartedMessaging {
  readonly service: MessagingService;
  /** For the admin API (startAdminApi's `messaging`). */
  readonly admin: MessagingAdmin;
}

/**
 * Opens messaging's own connection to <dataDir>/ciphergate.db, loads the stored messages,
 * installs the MESSAGE handler and the registrar hooks. `service.stop()` closes it all.
 */
export function startMessaging(
  dataDir: string,
  options: Omit<MessagingServiceOptions, 'db'>,
  audit: AuditLog,
): StartedMessaging {
  const db = openMessagingDatabase(dataDir);
  let service: MessagingService;
  try {
    service = new MessagingService({ ...options, db });
    service.start();
  } catch (err) {
    db.close();
    throw err;
  }
  const admin = new MessagingAdmin({
    groups: service.groups,
    policies: service.policies,
    erase: (name) => service.eraseUser(name),
    audit,
    maxGroupMembers: service.limits.maxGroupMembers,
    aorOf: (name) => options.registrar.aorOf(name),
  });
  return { service, admin };
}
