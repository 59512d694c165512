/**
 * Dial-plan patterns: a deliberately small language, compiled to one digit set per position, so
 * matching is a single pass over the number (linear time, no backtracking, no regular expression
 * built from configuration).
 *
 *   +        literal (first position only)
 *   0-9      that digit
 *   X        any digit            Z  1-9            N  2-9
 *   [1-58]   one digit of the set (digits and ranges a-b; no negation)
 *   .        last position only: one or more further digits
 *   !        last position only: zero or more further digits
 *
 * Without a trailing `.`/`!` the number has exactly as many characters as the pattern has
 * positions. The familiar reading of Asterisk extension patterns, minus what needs backtracking.
 */
import { RoutingConfigError } from './types';

/** Longest pattern accepted (positions, not characters). */
export const MAX_PATTERN_POSITIONS = 32;

const ALL_DIGITS = 0x3ff;
const PLUS = 0x400;

type Tail = 'exact' | 'one-or-more' | 'zero-or-more';

/** A compiled pattern. */
export interface DialPattern {
  readonly source: string;
  /** Bit i (0..9) set: digit i allowed; bit 10: `+`. */
  readonly positions: readonly number[];
  readonly tail: Tail;
}

function bitOf(c: string): number {
  return 1 << (c.charCodeAt(0) - 48);
}

function isDigit(c: string | undefined): c is string {
  return c !== undefined && c >= '0' && c <= '9';
}

/** Reads `[...]` starting after the `[`; returns the set and the index after `]`. */
function readClass(src: string, start: number): [number, number] {
  let mask = 0;
  let i = start;
  while (i < src.length && src[i] !== ']') {
    const lo = src[i];
    if (!isDigit(lo)) throw new RoutingConfigError(`pattern ${JSON.stringify(src)}: only digits and ranges inside [...]`);
    if (src[i + 1] === '-' && isDigit(src[i + 2])) {
      const hi = src[i + 2];
      if (hi < lo) throw new RoutingConfigError(`pattern ${JSON.stringify(src)}: range ${lo}-${hi} is reversed`);
      for (let d = lo.charCodeAt(0); d <= hi.charCodeAt(0); d++) mask |= 1 << (d - 48);
      i += 3;
    } else {
      mask |= bitOf(lo);
      i++;
    }
  }
  if (i >= src.length) throw new RoutingConfigError(`pattern ${JSON.stringify(src)}: unclosed [`);
  if (mask === 0) throw new RoutingConfigError(`pattern ${JSON.stringify(src)}: empty []`);
  return [mask, i + 1];
}

/** Compiles a pattern; throws RoutingConfigError naming the fault. */
export function compilePattern(source: string): DialPattern {
  if (source.length === 0 || source.length > 4 * MAX_PATTERN_POSITIONS) {
    throw new RoutingConfigError(`pattern ${JSON.stringify(source)}: length must be 1..${4 * MAX_PATTERN_POSITIONS}`);
  }
  const positions: number[] = [];
  let tail: Tail = 'exact';
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '.' || c === '!') {
      if (i !== source.length - 1) throw new RoutingConfigError(`pattern ${JSON.stringify(source)}: ${c} only at the end`);
      tail = c === '.' ? 'one-or-more' : 'zero-or-more';
      i++;
      continue;
    }
    if (c === '+') {
      if (i !== 0) throw new RoutingConfigError(`pattern ${JSON.stringify(source)}: + only at the start`);
      positions.push(PLUS);
      i++;
      continue;
    }
    if (c === '[') {
      const [mask, next] = readClass(source, i + 1);
      positions.push(mask);
      i = next;
      continue;
    }
    if (isDigit(c)) positions.push(bitOf(c));
    else if (c === 'X' || c === 'x') positions.push(ALL_DIGITS);
    else if (c === 'Z' || c === 'z') positions.push(ALL_DIGITS & ~1);
    else if (c === 'N' || c === 'n') positions.push(ALL_DIGITS & ~3);
    else throw new RoutingConfigError(`pattern ${JSON.stringify(source)}: unexpected ${JSON.stringify(c)}`);
    i++;
  }
  if (positions.length === 0 || positions.length > MAX_PATTERN_POSITIONS) {
    throw new RoutingConfigError(`pattern ${JSON.stringify(source)}: 1..${MAX_PATTERN_POSITIONS} positions needed`);
  }
  return { source, positions, tail };
}

/** One pass over `number`: true when it matches. Characters other than `+` and digits never match. */
export function matchPattern(p: DialPattern, number: string): boolean {
  const n = p.positions.length;
  if (p.tail === 'exact' && number.length !== n) return false;
  if (p.tail === 'one-or-more' && number.length <= n) return false;
  if (p.tail === 'zero-or-more' && number.length < n) return false;
  for (let i = 0; i < number.length; i++) {
    const c = number[i];
    const bit = c === '+' ? PLUS : isDigit(c) ? bitOf(c) : 0;
    const allowed = i < n ? p.positions[i] : ALL_DIGITS;
    if ((bit & allowed) === 0) return false;
  }
  return true;
}
