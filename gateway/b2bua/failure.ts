/**
 * Which final response the caller gets when the call does not connect (issue 5 §4 "failure
 * mapping"). The callee side's reason phrases never cross (they can name a PBX product or an
 * internal host): the caller gets our own phrase for the status.
 *
 * - A user's devices: 486, 600, 603, 480, 404 and 488 pass as they are; a device's challenge
 *   (401/407) becomes 403; anything that means "no device could take it" (timeout, dead flow,
 *   server error, redirect) becomes 480 Temporarily Unavailable.
 * - Several devices (RFC 3261 §16.7 step 6, adapted): a 6xx wins; then busy, then the others by
 *   the rank below.
 * - A trunk: its answer passes, except that 503 and timeouts are tried on the next trunk first and
 *   end as 503 / 408 when every trunk failed.
 */

const PHRASES: Readonly<Record<number, string>> = {
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  410: 'Gone',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  422: 'Session Interval Too Small',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  485: 'Ambiguous',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
};

/** RFC 3261 §21's phrase for a status (a class default for unlisted codes). */
export function reasonPhrase(status: number): string {
  const known = PHRASES[status];
  if (known !== undefined) return known;
  if (status >= 600) return 'Global Failure';
  if (status >= 500) return 'Server Error';
  if (status >= 400) return 'Request Failure';
  return 'Unknown';
}

/** Statuses a user's device may give the caller unchanged. */
const USER_PASS: ReadonlySet<number> = new Set([404, 480, 484, 486, 488, 600, 603, 604, 606]);

/** The caller's status for one device's final refusal. */
export function mapUserFailure(status: number): number {
  if (USER_PASS.has(status)) return status;
  if (status === 401 || status === 407 || status === 403) return 403;
  if (status >= 600) return 603;
  return 480;
}

/** Preference among several devices' refusals, best first (after any 6xx). */
const RANK: readonly number[] = [486, 488, 403, 404, 484, 480];

/** RFC 3261 §16.7 step 6 for a user's devices: already-mapped statuses in, the caller's status out. */
export function bestFailure(statuses: readonly number[]): number {
  if (statuses.length === 0) return 480;
  const global = statuses.find((s) => s >= 600);
  if (global !== undefined) return global;
  for (const s of RANK) if (statuses.includes(s)) return s;
  return Math.min(...statuses);
}

/**
 * The caller's status for a trunk's final refusal, once failover is over. Redirects are not
 * followed (they would let the PBX aim the gateway elsewhere): 480. A 401/407 that could not be
 * answered is a configuration fault toward the trunk: 503, not the caller's business.
 */
export function mapTrunkFailure(status: number): number {
  if (status >= 300 && status < 400) return 480;
  if (status === 401 || status === 407) return 503;
  return status;
}
