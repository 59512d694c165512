/**
 * The account fields of POST /api/users and PATCH /api/users/NAME beyond the name and password:
 * number, display name and the calling permissions the dial plan enforces
 * (gateway/routing/router.ts: `mayCallOffNet`, then `mayCallInternational` for another country
 * code). Every malformed field is a 400 naming it; values are never echoed.
 *
 * The API stores the permissions as sent: `mayCallInternational` without `mayCallOffNet` is kept
 * (and has no effect, the router checks off-net first). The CLI is the one that makes
 * --international imply --off-net, so scripts get exactly what they ask for.
 */
import type { UserUpdate } from '../users';
import { badField, HttpError } from './errors';
import { onlyFields, optionalString, type JsonObject } from './json';

/** The calling permissions, each optional. */
export interface CallingPermissions {
  readonly mayCallOffNet?: boolean;
  readonly mayCallInternational?: boolean;
}

export const PERMISSION_FIELDS: readonly (keyof CallingPermissions)[] = ['mayCallOffNet', 'mayCallInternational'];

/** What PATCH /api/users/NAME may change. */
export const PATCH_FIELDS: readonly string[] = ['number', 'displayName', ...PERMISSION_FIELDS];

/** Request bounds: far above any valid value; the UserService checks the real syntax. */
const MAX_NUMBER_CHARS = 32;
const MAX_DISPLAY_CHARS = 512;

/** A boolean field: absent is undefined; anything but true/false (null, "true", 1) is a 400. */
export function optionalBoolean(body: JsonObject, field: string): boolean | undefined {
  if (!Object.prototype.hasOwnProperty.call(body, field)) return undefined;
  const value = body[field];
  if (typeof value !== 'boolean') throw badField(field, 'must be true or false');
  return value;
}

/** The permission fields present in `body`, checked. */
export function permissionsFrom(body: JsonObject): CallingPermissions {
  const offNet = optionalBoolean(body, 'mayCallOffNet');
  const international = optionalBoolean(body, 'mayCallInternational');
  return {
    ...(offNet !== undefined && { mayCallOffNet: offNet }),
    ...(international !== undefined && { mayCallInternational: international }),
  };
}

/** A string field that `null` clears (PATCH); absent is undefined. */
function clearableString(body: JsonObject, field: string, maxLength: number): string | null | undefined {
  if (Object.prototype.hasOwnProperty.call(body, field) && body[field] === null) return null;
  return optionalString(body, field, maxLength);
}

/**
 * The body of PATCH /api/users/NAME as a UserUpdate: only PATCH_FIELDS, at least one of them;
 * `number: null` / `displayName: null` clear the field.
 */
export function userPatchFrom(body: JsonObject): UserUpdate {
  onlyFields(body, PATCH_FIELDS);
  const number = clearableString(body, 'number', MAX_NUMBER_CHARS);
  const displayName = clearableString(body, 'displayName', MAX_DISPLAY_CHARS);
  const change: UserUpdate = {
    ...(number !== undefined && { number }),
    ...(displayName !== undefined && { displayName }),
    ...permissionsFrom(body),
  };
  if (Object.keys(change).length === 0) {
    throw new HttpError(400, `nothing to change; send at least one of ${PATCH_FIELDS.join(', ')}`);
  }
  return change;
}

/** The field names a change touches, for the audit entry ("number,mayCallOffNet"). */
export function changedFields(change: UserUpdate): string {
  return PATCH_FIELDS.filter((f) => Object.prototype.hasOwnProperty.call(change, f)).join(',');
}
