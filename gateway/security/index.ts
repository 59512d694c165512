/** The gateway's defences: lockout, source bans, scanner drops (see defence.ts). */
export * from './types';
export { AccountLockout, type LockoutOptions } from './lockout';
export { ExemptSources, sourceKey } from './source-address';
export { SourceGuard, type BanReason, type BanScope, type SourceBan, type SourceGuardOptions } from './source-guard';
export { DEFAULT_SCANNER_USER_AGENTS, ScannerDetector } from './scanners';
export { Defence, type DefenceOptions } from './defence';
