/**
 * The compiled dial plan: short codes (exact match on what was dialled) and ordered rules (first
 * match on the E.164 number wins), each naming trunks resolved once, at construction. A plan that
 * names an unknown trunk, repeats a name or carries a bad pattern is refused before the gateway
 * starts: a routing mistake must not first show up as a failed emergency call.
 */
import type { Trunk } from '../trunk/types';
import { isDigitString, isPhoneString } from './number';
import { compilePattern, matchPattern, type DialPattern } from './pattern';
import { RoutingConfigError, type DialRuleConfig, type RoutingConfig, type ShortCodeConfig } from './types';

export const MAX_RULES = 1000;
export const MAX_SHORT_CODES = 1000;
const MAX_SHORT_CODE_LENGTH = 15;

export interface CompiledShortCode<T = Trunk> {
  readonly code: string;
  /** What is sent to the trunk. */
  readonly number: string;
  readonly emergency: boolean;
  readonly trunks: readonly T[];
}

export interface CompiledRule<T = Trunk> {
  readonly name: string;
  readonly prefix?: string;
  readonly pattern?: DialPattern;
  readonly trunks: readonly T[];
}

/** Resolves a trunk name (T is Trunk at run time; configuration checks use a stand-in). */
export type TrunkLookup<T = Trunk> = (name: string) => T | undefined;

function resolveTrunks<T>(what: string, names: readonly string[], lookup: TrunkLookup<T>): T[] {
  if (names.length === 0) throw new RoutingConfigError(`${what}: at least one trunk is needed`);
  const seen = new Set<string>();
  return names.map((name) => {
    if (seen.has(name)) throw new RoutingConfigError(`${what}: trunk ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
    const trunk = lookup(name);
    if (trunk === undefined) throw new RoutingConfigError(`${what}: no trunk named ${JSON.stringify(name)}`);
    return trunk;
  });
}

function compileShortCode<T>(c: ShortCodeConfig, lookup: TrunkLookup<T>): CompiledShortCode<T> {
  const what = `routing.shortCodes ${JSON.stringify(c.code)}`;
  if (!isPhoneString(c.code) || c.code[0] === '+' || c.code.length > MAX_SHORT_CODE_LENGTH) {
    throw new RoutingConfigError(`${what}: a short code is 1..${MAX_SHORT_CODE_LENGTH} of 0-9 * #`);
  }
  const number = c.number ?? c.code;
  if (!isPhoneString(number)) throw new RoutingConfigError(`${what}: number must be digits (optionally + first, * #)`);
  return { code: c.code, number, emergency: c.emergency === true, trunks: resolveTrunks(what, c.trunks, lookup) };
}

function compileRule<T>(r: DialRuleConfig, lookup: TrunkLookup<T>): CompiledRule<T> {
  const what = `routing.rules ${JSON.stringify(r.name)}`;
  if (r.name.length === 0) throw new RoutingConfigError('routing.rules: every rule needs a name');
  if ((r.prefix === undefined) === (r.pattern === undefined)) {
    throw new RoutingConfigError(`${what}: set exactly one of prefix and pattern`);
  }
  const trunks = resolveTrunks(what, r.trunks, lookup);
  if (r.prefix !== undefined) {
    // Rules match E.164 numbers: a prefix is `+` then zero or more digits (`+` alone: everything).
    if (r.prefix !== '+' && !(r.prefix[0] === '+' && isDigitString(r.prefix, true))) {
      throw new RoutingConfigError(`${what}: prefix must be + followed by digits (E.164)`);
    }
    return { name: r.name, prefix: r.prefix, trunks };
  }
  const pattern = compilePattern(r.pattern as string);
  if (pattern.source[0] !== '+') throw new RoutingConfigError(`${what}: pattern must start with + (it matches E.164 numbers)`);
  return { name: r.name, pattern, trunks };
}

export class DialPlan<T = Trunk> {
  private readonly shortCodes = new Map<string, CompiledShortCode<T>>();
  readonly rules: readonly CompiledRule<T>[];

  constructor(config: Pick<RoutingConfig, 'shortCodes' | 'rules'>, lookup: TrunkLookup<T>) {
    if (config.shortCodes.length > MAX_SHORT_CODES) throw new RoutingConfigError(`routing.shortCodes: at most ${MAX_SHORT_CODES}`);
    if (config.rules.length > MAX_RULES) throw new RoutingConfigError(`routing.rules: at most ${MAX_RULES}`);
    for (const c of config.shortCodes) {
      if (this.shortCodes.has(c.code)) throw new RoutingConfigError(`routing.shortCodes: ${JSON.stringify(c.code)} is listed twice`);
      this.shortCodes.set(c.code, compileShortCode(c, lookup));
    }
    const names = new Set<string>();
    this.rules = config.rules.map((r) => {
      if (names.has(r.name)) throw new RoutingConfigError(`routing.rules: the name ${JSON.stringify(r.name)} is used twice`);
      names.add(r.name);
      return compileRule(r, lookup);
    });
  }

  /** The short code dialled exactly, if any. */
  shortCode(dialled: string): CompiledShortCode<T> | undefined {
    return this.shortCodes.get(dialled);
  }

  /** The first rule (in configuration order) matching an E.164 number. */
  match(e164: string): CompiledRule<T> | undefined {
    for (const r of this.rules) {
      if (r.prefix !== undefined ? e164.startsWith(r.prefix) : matchPattern(r.pattern as DialPattern, e164)) return r;
    }
    return undefined;
  }
}
