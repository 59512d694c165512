/** The virtual operator's dial plan (gateway/routing): public surface. */
export * from './types';
export { Router, REASONS, type RouterOptions } from './router';
export { DialPlan, type CompiledRule, type CompiledShortCode, type TrunkLookup } from './dial-plan';
export { compilePattern, matchPattern, MAX_PATTERN_POSITIONS, type DialPattern } from './pattern';
export { checkNumberingPlan, dialledOf, formatNumber, isInternational, toE164, E164_MAX_DIGITS, type Dialled, type NumberingPlan } from './number';
export { checkCallsConfig, routingSchema, resolveRouting, type CallsConfigIssue, type RoutingDocument, type DialRuleDocument, type ShortCodeDocument } from './config';
