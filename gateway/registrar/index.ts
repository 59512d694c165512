/** The registrar (RFC 3261 §10.3, RFC 5626 flows): see registrar.ts. */
export * from './types';
export { Registrar, type FlowControl, type RegistrarOptions } from './registrar';
export { RegisterAuthenticator, nonceBinding, type AuthOutcome, type RegisterAuthenticatorOptions } from './authenticator';
export { parseDeltaSeconds, parseQValue, readContacts, type ContactsRead, type RequestedContact } from './contacts';
export { planRegistration, type RegisterContext, type RegisterPlan } from './update';
export { canonicalContact, DomainMatcher, uriEquals, userOf } from './uri';
