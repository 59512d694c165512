/**
 * The calling permissions on the command line (`user add --off-net --international`, `user set
 * --off-net on|off --international on|off`) and how the account commands show them.
 *
 * The dial plan (gateway/routing/router.ts) checks `mayCallOffNet` before `mayCallInternational`,
 * so an international grant without off-net does nothing. The CLI therefore keeps them coherent:
 * granting international grants off-net, revoking off-net revokes international (a dormant grant
 * would silently come alive with the next `--off-net on`). The admin API stores what it is sent.
 */
import type { CliValues } from './command';
import { UsageError } from './command';

export interface Permissions {
  readonly mayCallOffNet: boolean;
  readonly mayCallInternational: boolean;
}

export type PermissionChange = Partial<Permissions>;

export const ADD_PERMISSION_HELP = [
  '  --off-net              Allow calls to numbers outside the gateway (trunks); default: on-net only',
  '  --international        Also allow numbers in another country code (implies --off-net)',
].join('\n');

export const SET_PERMISSION_HELP = [
  '  --off-net on|off       Allow calls to numbers outside the gateway; off also revokes --international',
  '  --international on|off Allow numbers in another country code; on also grants --off-net',
].join('\n');

/** The scopes `callingScope` names (emergency short codes are always allowed). */
export const SCOPE_HELP =
  'Calls (the CALLS column of `user list`): on-net (users of this gateway and emergency codes),\n' +
  'national (also off-net numbers in the home country code), international (any routable number).';

/** The permissions `user add --off-net / --international` grants (none without the flags). */
export function permissionsForAdd(values: CliValues): PermissionChange {
  const international = values.international === true;
  const offNet = international || values['off-net'] === true;
  return {
    ...(offNet && { mayCallOffNet: true }),
    ...(international && { mayCallInternational: true }),
  };
}

/** The change `user set --off-net on|off --international on|off` asks for; UsageError when incoherent. */
export function permissionsForSet(values: CliValues): PermissionChange {
  const offNet = onOff(values, 'off-net');
  const international = onOff(values, 'international');
  if (offNet === false && international === true) {
    throw new UsageError('user set: --international on needs off-net calls; drop --off-net off');
  }
  if (international === true) return { mayCallOffNet: true, mayCallInternational: true };
  if (offNet === false) return { mayCallOffNet: false, mayCallInternational: false };
  return {
    ...(offNet !== undefined && { mayCallOffNet: offNet }),
    ...(international !== undefined && { mayCallInternational: international }),
  };
}

function onOff(values: CliValues, option: string): boolean | undefined {
  const value = values[option];
  if (value === undefined) return undefined;
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new UsageError(`user set: --${option} takes on or off`);
}

/** The effective calling scope, as the dial plan applies the two flags. */
export function callingScope(p: Permissions): 'on-net' | 'national' | 'international' {
  if (!p.mayCallOffNet) return 'on-net';
  return p.mayCallInternational ? 'international' : 'national';
}

/** `user show`'s line for the international flag. */
export function internationalText(p: Permissions): string {
  if (!p.mayCallInternational) return 'not allowed';
  return p.mayCallOffNet ? 'allowed' : 'allowed (no effect: off-net calls are not allowed)';
}
