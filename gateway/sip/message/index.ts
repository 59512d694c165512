/** The SIP message layer: model, URIs, grammar, parser, serializer (RFC 3261 §7, §19, §20, §25). */
export * from './types';
export * from './message';
export * from './errors';
export * from './grammar';
export { canonicalName, LIST_HEADERS } from './headers';
export { DEFAULT_PARSER_LIMITS, type ParseOptions, type ParserLimits, parseMessage, parserLimits } from './parser';
export { serializeMessage } from './serializer';
export { type ErrorResponseOptions, makeErrorResponse } from './error-response';
export { type MimePart, MAX_MIME_PARTS, multipartBoundary, parseMultipart } from './multipart';
