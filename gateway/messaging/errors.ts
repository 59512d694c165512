/**
 * Errors of secure messaging. Messages name groups and users (administrator input that passed
 * validation), never a message body, a sealed value or a key.
 */
import { AdminError } from '../admin/errors';

/** Base class of messaging's administrative errors (groups, policies): AdminError, so the CLI reports them. */
export class MessagingAdminError extends AdminError {}

export class InvalidGroupNameError extends MessagingAdminError {
  constructor() {
    super(
      "group name must be 1 to 64 characters from a-z 0-9 - _ . ! ~ * ' ( ) (an RFC 3261 user part, " +
        'lower-case only); choose another name',
    );
  }
}

export class GroupExistsError extends MessagingAdminError {
  constructor(readonly groupName: string) {
    super(`group "${groupName}" already exists; list groups with \`ciphergate group list\``);
  }
}

/** Users and groups share the URI namespace sip:NAME@domain: a group may not take a user's name. */
export class GroupNameTakenError extends MessagingAdminError {
  constructor(readonly groupName: string) {
    super(`"${groupName}" is a user name; a group needs a name no user has (both are sip:NAME@domain)`);
  }
}

export class UnknownGroupError extends MessagingAdminError {
  constructor(readonly groupName: string) {
    super(`no group "${groupName}"; list groups with \`ciphergate group list\``);
  }
}

export class GroupFullError extends MessagingAdminError {
  constructor(readonly groupName: string, readonly max: number) {
    super(`group "${groupName}" already has ${max} members, the most a group may have`);
  }
}

/** A stored envelope that cannot be decoded after it opened (a bug or a newer format). */
export class EnvelopeFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeFormatError';
  }
}

/** Limits that cannot work (e.g. a zero TTL). */
export class MessagingConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessagingConfigError';
  }
}
