/**
 * What a caller dialled, and its E.164 form.
 *
 * The dialled string comes from the Request-URI: a tel: URI's number (RFC 3966 §3) or a sip(s):
 * URI's user part (RFC 3261 §19.1.6: with `user=phone` it is a telephone-subscriber, otherwise it
 * is read as a number only when it looks like one). Visual separators (RFC 3966 §5.1.1: `-`, `.`,
 * `(`, `)`) are removed; a user part's own parameters (`;phone-context=...`, `;isub=...`) are cut.
 *
 * Normalisation to E.164 (ITU-T E.164 §6; RFC 3966 §5.1.4 global numbers) follows the national
 * dialling plan in the configuration, longest prefix first: `+` stays, the international prefix
 * (`00`) becomes `+`, the national prefix (`0`) becomes `+<country code>`, and a bare national
 * significant number gets `+<country code>` in front.
 *
 * Every function here scans its input once, with a length cap: no regular expressions.
 */
import { unescapeUriPart } from '../sip/message/uri';
import { isSipUri, isTelUri, type Uri } from '../sip/message/types';
import { RoutingConfigError, type RoutingConfig } from './types';

/** Longest dialled string considered (a phone number with sub-address is far shorter). */
export const MAX_DIALLED_LENGTH = 64;
/** E.164 §6.1: at most 15 digits, country code included. */
export const E164_MAX_DIGITS = 15;

/**
 * A dialled string: a user name (`alice`) or phone digits (`+34911234567`, `0911234567`, `*21#`).
 * `raw` is the user part as received (unescaped): a numeric account name (`1001`) is tried as is.
 */
export type Dialled =
  | { readonly kind: 'name'; readonly text: string; readonly raw: string }
  | { readonly kind: 'number'; readonly text: string; readonly raw: string };

/** The national dialling plan needed to normalise (a subset of RoutingConfig). */
export interface NumberingPlan {
  readonly countryCode: string;
  readonly nationalPrefix: string;
  readonly internationalPrefix: string;
}

const VISUAL_SEPARATORS = new Set(['-', '.', '(', ')', ' ']);

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/** True for `+`? then 1+ of 0-9 * # (RFC 3966 §3 phonedigit-hex subset dialled from handsets). */
export function isPhoneString(s: string): boolean {
  if (s.length === 0 || s.length > MAX_DIALLED_LENGTH) return false;
  const start = s[0] === '+' ? 1 : 0;
  if (start === s.length) return false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (!isDigit(c) && c !== '*' && c !== '#') return false;
  }
  return true;
}

/** True for `+`? then digits only (what E.164 normalisation accepts). */
export function isDigitString(s: string, allowPlus: boolean): boolean {
  if (s.length === 0 || s.length > MAX_DIALLED_LENGTH) return false;
  const start = allowPlus && s[0] === '+' ? 1 : 0;
  if (start === s.length) return false;
  for (let i = start; i < s.length; i++) if (!isDigit(s[i])) return false;
  return true;
}

/** Removes RFC 3966 §5.1.1 visual separators (and spaces some handsets send escaped). */
export function stripVisualSeparators(s: string): string {
  let out = '';
  for (const c of s) if (!VISUAL_SEPARATORS.has(c)) out += c;
  return out;
}

/**
 * The dialled string of a Request-URI, or undefined when it has none we can route on (no user
 * part, another scheme, or longer than MAX_DIALLED_LENGTH).
 */
export function dialledOf(uri: Uri): Dialled | undefined {
  if (isTelUri(uri)) {
    const n = uri.number.length > 4 * MAX_DIALLED_LENGTH ? '' : stripVisualSeparators(uri.number);
    return isPhoneString(n) ? { kind: 'number', text: n, raw: uri.number } : undefined;
  }
  if (!isSipUri(uri) || uri.user === undefined) return undefined;
  if (uri.user.length > 4 * MAX_DIALLED_LENGTH) return undefined;
  let user = unescapeUriPart(uri.user);
  const phone = uri.params.get('user') === 'phone';
  const semi = user.indexOf(';');
  // RFC 3261 §19.1.6: telephone-subscriber parameters follow the number inside the user part.
  if (semi >= 0 && (phone || isPhoneString(stripVisualSeparators(user.slice(0, semi))))) user = user.slice(0, semi);
  if (user.length === 0 || user.length > MAX_DIALLED_LENGTH) return undefined;
  const digits = stripVisualSeparators(user);
  if (isPhoneString(digits)) return { kind: 'number', text: digits, raw: user };
  return phone ? undefined : { kind: 'name', text: user, raw: user };
}

/**
 * E.164 form of a dialled number, or undefined when it is not one (`*`/`#`, empty, too long).
 * `digitsAreE164`: a bare digit string already carries its country code (a trunk whose
 * numberFormat is `digits`), rather than being a national significant number.
 */
export function toE164(dialled: string, plan: NumberingPlan, digitsAreE164 = false): string | undefined {
  if (!isDigitString(dialled, true)) return undefined;
  let e164: string;
  if (dialled[0] === '+') {
    e164 = dialled;
  } else {
    // Longest prefix first: with `0` national and `00` international, `00...` is international.
    const prefixes: Array<[string, string]> = [
      [plan.internationalPrefix, '+'],
      [plan.nationalPrefix, `+${plan.countryCode}`],
    ];
    prefixes.sort((a, b) => b[0].length - a[0].length);
    const hit = prefixes.find(([p]) => p.length > 0 && dialled.startsWith(p));
    if (hit !== undefined) e164 = hit[1] + dialled.slice(hit[0].length);
    else e164 = digitsAreE164 ? `+${dialled}` : `+${plan.countryCode}${dialled}`;
  }
  const digits = e164.length - 1;
  if (digits < 1 || digits > E164_MAX_DIGITS || e164[1] === '0') return undefined;
  return e164;
}

/** E.164 §6.2.1: an international call is one whose country code differs from the home one. */
export function isInternational(e164: string, plan: NumberingPlan): boolean {
  return !e164.startsWith(`+${plan.countryCode}`);
}

/** A number written for a peer: `e164` as is, `digits` without `+`, `national` with the plan's prefixes. */
export function formatNumber(e164OrShort: string, format: 'e164' | 'digits' | 'national', plan: NumberingPlan): string {
  if (e164OrShort[0] !== '+') return e164OrShort; // a short code goes out as dialled
  if (format === 'e164') return e164OrShort;
  if (format === 'digits') return e164OrShort.slice(1);
  const home = `+${plan.countryCode}`;
  if (e164OrShort.startsWith(home)) return plan.nationalPrefix + e164OrShort.slice(home.length);
  // Without an international prefix in the plan, E.164 is the only unambiguous form left.
  return plan.internationalPrefix === '' ? e164OrShort : plan.internationalPrefix + e164OrShort.slice(1);
}

/** Checks the numbering-plan part of the configuration. */
export function checkNumberingPlan(c: Pick<RoutingConfig, 'countryCode' | 'nationalPrefix' | 'internationalPrefix' | 'minDigits'>): void {
  if (!isDigitString(c.countryCode, false) || c.countryCode.length > 3 || c.countryCode[0] === '0') {
    throw new RoutingConfigError('routing.countryCode: 1..3 digits, not starting with 0 (ITU-T E.164)');
  }
  for (const [key, v] of [['nationalPrefix', c.nationalPrefix], ['internationalPrefix', c.internationalPrefix]] as const) {
    if (v !== '' && (!isDigitString(v, false) || v.length > 4)) throw new RoutingConfigError(`routing.${key}: empty or 1..4 digits`);
  }
  if (c.nationalPrefix !== '' && c.nationalPrefix === c.internationalPrefix) {
    throw new RoutingConfigError('routing.nationalPrefix and routing.internationalPrefix must differ');
  }
  if (!Number.isInteger(c.minDigits) || c.minDigits < 1 || c.minDigits > E164_MAX_DIGITS) {
    throw new RoutingConfigError(`routing.minDigits: 1..${E164_MAX_DIGITS}`);
  }
}
