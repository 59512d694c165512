/** SIP trunks to PBXs (gateway/trunk): public surface. */
export * from './types';
export { TrunkManager, type TrunkManagerOptions } from './manager';
export { TrunkPeer, DEFAULT_CODECS, DEFAULT_KEEPALIVE_FAILURES, DEFAULT_KEEPALIVE_SEC, DEFAULT_REGISTER_EXPIRES_SEC } from './peer';
export { KeepAlive, type KeepAliveOptions, type ProbeOutcome } from './keepalive';
export { TrunkRegistration, grantedExpires, type RegistrationOptions } from './registration';
export { TrunkClient, buildRequest, type OutOfDialogRequest } from './client';
export { answerChallenge, authorize, nextRequest } from './auth';
export { InboundAuthenticator } from './inbound-auth';
export { localEndpointFor, routeSource } from './local-address';
export { trunksSchema, resolveTrunks, checkTrunkConfigs, type TrunkDocument, type TrunkCredentialsDocument } from './config';
