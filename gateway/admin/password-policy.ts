/**
 * Password policy for SIP digest credentials.
 *
 * Digest authentication (RFC 7616 §5.13) lets anyone who captures one challenge/response pair
 * guess passwords offline at hash speed, so the password itself must resist guessing: long, mixed
 * classes, and none of the patterns guessers try first (sequences, repeats, keyboard walks, the
 * user name). `checkPassword` reports every broken rule at once so a person fixes them in one go.
 *
 * Characters are counted as Unicode code points. Letters are compared case-insensitively in the
 * pattern rules ("aBcD" is a sequence). Violations never quote the password or a part of it.
 */
import { randomInt } from 'node:crypto';
import { PasswordPolicyConfigError } from './errors';

export interface PasswordPolicy {
  readonly minLength: number;
  /** Upper bound: keeps hashing and storage bounded; far above what a person types. */
  readonly maxLength: number;
  readonly requireUppercase: boolean;
  readonly requireLowercase: boolean;
  readonly requireDigit: boolean;
  /** A symbol is punctuation, a symbol character or a space (Unicode P, S, Zs). */
  readonly requireSymbol: boolean;
  /** Shortest forbidden run of characters each one code point above (or below) the previous; 0 = off. */
  readonly sequenceRun: number;
  /** Shortest forbidden run of one repeated character; 0 = off. */
  readonly repeatRun: number;
  /**
   * Shortest forbidden run of adjacent keys on one US QWERTY row (shifted too), either direction;
   * 0 = off. A run that is also a code-point sequence (1234) counts as a sequence only.
   */
  readonly keyboardRun: number;
  /** Forbid the user name (case-insensitive) inside the password when it has at least 3 characters. */
  readonly forbidUsername: boolean;
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = Object.freeze({
  minLength: 12,
  maxLength: 128,
  requireUppercase: true,
  requireLowercase: true,
  requireDigit: true,
  requireSymbol: true,
  sequenceRun: 4,
  repeatRun: 4,
  keyboardRun: 4,
  forbidUsername: true,
});

export type PasswordRule =
  | 'min-length'
  | 'max-length'
  | 'control-character'
  | 'uppercase'
  | 'lowercase'
  | 'digit'
  | 'symbol'
  | 'sequence'
  | 'repeat'
  | 'keyboard'
  | 'username';

export interface PasswordCheck {
  readonly ok: boolean;
  /** One plain-words sentence per broken rule, in the order of `rules`. */
  readonly violations: string[];
  readonly rules: PasswordRule[];
}

/** User names shorter than this are not searched for (a 2-letter name occurs by chance). */
const USERNAME_MIN_LENGTH = 3;

/** US QWERTY rows, unshifted and shifted (lower-cased, as the password is for this rule). */
const KEYBOARD_ROWS = [
  '`1234567890-=',
  'qwertyuiop[]\\',
  "asdfghjkl;'",
  'zxcvbnm,./',
  '~!@#$%^&*()_+',
  'qwertyuiop{}|',
  'asdfghjkl:"',
  'zxcvbnm<>?',
];

const UPPER = /\p{Lu}/u;
const LOWER = /\p{Ll}/u;
const DIGIT = /\p{Nd}/u;
const SYMBOL = /[\p{P}\p{S}\p{Zs}]/u;
/** Control, format (invisible), surrogate, private-use and unassigned code points. */
const CONTROL = /\p{C}/u;

/** The text of each rule's violation. */
export function violationText(rule: PasswordRule, policy: PasswordPolicy): string {
  switch (rule) {
    case 'min-length':
      return `must be at least ${policy.minLength} characters long`;
    case 'max-length':
      return `must be at most ${policy.maxLength} characters long`;
    case 'control-character':
      return 'must not contain control or invisible characters';
    case 'uppercase':
      return 'must contain an upper-case letter';
    case 'lowercase':
      return 'must contain a lower-case letter';
    case 'digit':
      return 'must contain a digit';
    case 'symbol':
      return 'must contain a symbol (punctuation or a space, such as - _ . ! #)';
    case 'sequence':
      return `must not contain ${policy.sequenceRun} or more consecutive ascending or descending characters (like abcd or 4321)`;
    case 'repeat':
      return `must not repeat a character ${policy.repeatRun} or more times in a row (like aaaa)`;
    case 'keyboard':
      return `must not contain ${policy.keyboardRun} or more adjacent keys of a keyboard row (like qwer or asdf)`;
    case 'username':
      return 'must not contain the user name';
  }
}

export function resolvePolicy(policy?: Partial<PasswordPolicy>): PasswordPolicy {
  return { ...DEFAULT_PASSWORD_POLICY, ...policy };
}

export function checkPassword(
  password: string,
  context: { readonly username?: string } = {},
  policy?: Partial<PasswordPolicy>,
): PasswordCheck {
  const p = resolvePolicy(policy);
  const chars = Array.from(password);
  const lower = chars.map(foldCase);
  const rules: PasswordRule[] = [];
  if (chars.length < p.minLength) rules.push('min-length');
  if (chars.length > p.maxLength) rules.push('max-length');
  if (chars.some((c) => CONTROL.test(c))) rules.push('control-character');
  if (p.requireUppercase && !chars.some((c) => UPPER.test(c))) rules.push('uppercase');
  if (p.requireLowercase && !chars.some((c) => LOWER.test(c))) rules.push('lowercase');
  if (p.requireDigit && !chars.some((c) => DIGIT.test(c))) rules.push('digit');
  if (p.requireSymbol && !chars.some((c) => SYMBOL.test(c))) rules.push('symbol');
  if (p.sequenceRun > 0 && hasSequence(lower, p.sequenceRun)) rules.push('sequence');
  if (p.repeatRun > 0 && hasRepeat(lower, p.repeatRun)) rules.push('repeat');
  // A keyboard run that is also a sequence is reported as a sequence when that rule catches it.
  const skipSequences = p.sequenceRun > 0 && p.sequenceRun <= p.keyboardRun;
  if (p.keyboardRun > 0 && hasKeyboardRun(lower, p.keyboardRun, skipSequences)) rules.push('keyboard');
  if (p.forbidUsername && containsUsername(lower, context.username)) rules.push('username');
  return { ok: rules.length === 0, violations: rules.map((r) => violationText(r, p)), rules };
}

const GEN_UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const GEN_LOWER = 'abcdefghijkmnopqrstuvwxyz';
const GEN_DIGIT = '23456789';
const GEN_SYMBOL = '-_.+=@%*~!#';
/** No 0/O, 1/l/I: a generated password is read off a screen and typed into a phone. */
const GEN_ALPHABET = GEN_UPPER + GEN_LOWER + GEN_DIGIT + GEN_SYMBOL;
const GEN_ATTEMPTS = 64;
export const GENERATED_PASSWORD_LENGTH = 20;

/**
 * A random password (node:crypto) that satisfies the policy: 20 characters (more if the policy
 * asks) from a 68-symbol unambiguous alphabet, about 6 bits each. Draws are repeated until the
 * policy holds; a policy no password can meet raises PasswordPolicyConfigError.
 */
export function generatePassword(policy?: Partial<PasswordPolicy>, username?: string): string {
  const p = resolvePolicy(policy);
  const length = Math.min(Math.max(GENERATED_PASSWORD_LENGTH, p.minLength), p.maxLength);
  for (let attempt = 0; attempt < GEN_ATTEMPTS; attempt++) {
    let pw = '';
    for (let i = 0; i < length; i++) pw += GEN_ALPHABET[randomInt(GEN_ALPHABET.length)];
    if (checkPassword(pw, username === undefined ? {} : { username }, p).ok) return pw;
  }
  throw new PasswordPolicyConfigError(
    'no random password satisfies the configured password policy; check minLength <= maxLength and the run limits',
  );
}

/** Lower-cases one code point, keeping it one code point (a few letters expand, e.g. U+0130). */
function foldCase(c: string): string {
  const l = c.toLowerCase();
  return Array.from(l).length === 1 ? l : c;
}

function hasSequence(chars: readonly string[], run: number): boolean {
  if (run <= 1) return chars.length > 0;
  let length = 1;
  let step = 0;
  for (let i = 1; i < chars.length; i++) {
    const d = (chars[i]!.codePointAt(0) ?? 0) - (chars[i - 1]!.codePointAt(0) ?? 0);
    if ((d === 1 || d === -1) && d === step) length++;
    else if (d === 1 || d === -1) length = 2;
    else length = 1;
    step = d;
    if (length >= run) return true;
  }
  return false;
}

function hasRepeat(chars: readonly string[], run: number): boolean {
  let length = 0;
  for (let i = 0; i < chars.length; i++) {
    length = i > 0 && chars[i] === chars[i - 1] ? length + 1 : 1;
    if (length >= run) return true;
  }
  return false;
}

const keyboardGrams = new Map<string, ReadonlySet<string>>();

/** Every `run`-long piece of a keyboard row, both directions; `skipSequences` drops 1234-like ones. */
function keyboardSet(run: number, skipSequences: boolean): ReadonlySet<string> {
  const cacheKey = `${run}:${skipSequences}`;
  let set = keyboardGrams.get(cacheKey);
  if (set === undefined) {
    const grams = new Set<string>();
    for (const row of KEYBOARD_ROWS) {
      for (const text of [row, Array.from(row).reverse().join('')]) {
        for (let i = 0; i + run <= text.length; i++) {
          const gram = text.slice(i, i + run);
          // 1234 or 4321 are reported once, as a sequence; 7890 or qwer only as keyboard runs.
          if (!skipSequences || !hasSequence(Array.from(gram), run)) grams.add(gram);
        }
      }
    }
    set = grams;
    keyboardGrams.set(cacheKey, set);
  }
  return set;
}

function hasKeyboardRun(chars: readonly string[], run: number, skipSequences: boolean): boolean {
  const grams = keyboardSet(run, skipSequences);
  for (let i = 0; i + run <= chars.length; i++) {
    if (grams.has(chars.slice(i, i + run).join(''))) return true;
  }
  return false;
}

function containsUsername(lower: readonly string[], username: string | undefined): boolean {
  if (username === undefined) return false;
  const name = Array.from(username).map(foldCase).join('');
  return Array.from(username).length >= USERNAME_MIN_LENGTH && lower.join('').includes(name);
}
