/** The B2BUA (issue 5): calls of two legs, forking, trunks failover, dialogs, limits. See b2bua.ts. */
export { B2bua, type B2buaEvents, type B2buaOptions } from './b2bua';
export { Call, type CallContext, type CallSetup, type InviteTemplate } from './call';
export { Dialer, type DialingCall } from './dial';
export { bestFailure, mapTrunkFailure, mapUserFailure, reasonPhrase } from './failure';
export { Fork, type ForkState, type ForkUser, type InviteSpec } from './fork';
export { DEFAULT_PASS_HEADERS, HeaderPolicy } from './headers';
export { handleInDialog, refreshSession } from './in-dialog';
export { contactFor, Leg, viaFor, type LegContext, type LegRole } from './leg';
export { aorUri, safeCallerId, trunkTemplate, userTemplate, type TemplateInput } from './identity';
export { CallLimiter, type CallLimitSettings, type CallSlot, type Refusal } from './limits';
export { CallMedia, isEndToEnd, originVersion, sdpOf } from './media';
export * from './types';
