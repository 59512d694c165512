/** The dialog layer (RFC 3261 §12) and session timers (RFC 4028): public surface. */
export { contactTarget, Dialog, dialogKey, MAX_ROUTE_SET, type DialogInit, type DialogRole, type DialogState, type InDialogRequestOptions } from './dialog';
export { DialogCreationError, DialogError, DialogTerminatedError, SessionTimerSyntaxError } from './errors';
export {
  formatSessionExpires,
  hasOptionTag,
  MIN_SE_FLOOR,
  negotiateAsUas,
  parseMinSe,
  parseSessionExpires,
  sessionExpiresOf,
  SessionTimer,
  uacOutcome,
  uacRequestHeaders,
  type Refresher,
  type SessionExpires,
  type SessionTimerCallbacks,
  type SessionTimerPolicy,
  type UasDecision,
} from './session-timer';
