/**
 * HTTP Digest for SIP (RFC 3261 §22, RFC 7616, RFC 8760): public surface of gateway/sip/digest.
 */
export * from './errors';
export * from './auth-params';
export * from './algorithms';
export * from './nonce';
export * from './nonce-count';
export * from './server';
export * from './client';
