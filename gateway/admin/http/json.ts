/**
 * JSON in and out for the admin API: bounded request bodies, a strict content type, and a field
 * reader that names the field at fault (400) without ever echoing the value (it may be a password).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badField, HttpError } from './errors';

/** Largest request body accepted: far above any admin request (a user is < 1 KiB). */
export const MAX_BODY_BYTES = 16 * 1024;

export type JsonObject = Readonly<Record<string, unknown>>;

/** Headers on every response: no caching of one-time secrets, no content sniffing. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers });
  res.end();
}

/** `application/json`, optionally with `; charset=utf-8` (RFC 8259 §8.1: JSON is UTF-8). */
function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const [type, ...params] = value.toLowerCase().split(';').map((p) => p.trim());
  if (type !== 'application/json') return false;
  return params.every((p) => p === '' || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

/**
 * Reads the body as a JSON object. `optional`: an empty body (no Content-Length, or 0) is `{}`.
 * 415 for another content type, 413 above MAX_BODY_BYTES, 400 for invalid JSON or a non-object.
 */
export async function readJsonObject(req: IncomingMessage, options: { readonly optional?: boolean } = {}): Promise<JsonObject> {
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (options.optional === true && !chunked && (length === undefined || length === '0')) {
    req.resume();
    return {};
  }
  if (!isJsonContentType(req.headers['content-type'])) {
    req.resume();
    throw new HttpError(415, 'the request body must be JSON: send Content-Type: application/json');
  }
  if (length !== undefined && Number(length) > MAX_BODY_BYTES) {
    throw new HttpError(413, `the request body must not exceed ${MAX_BODY_BYTES} bytes`, {}, { connection: 'close' });
  }
  const text = await collect(req);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'the request body must be a JSON object');
  }
  return value as JsonObject;
}

function collect(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        done = true;
        // Stop reading; the response (413, Connection: close) ends the connection.
        req.pause();
        reject(new HttpError(413, `the request body must not exceed ${MAX_BODY_BYTES} bytes`, {}, { connection: 'close' }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const body = Buffer.concat(chunks);
      // Password bytes may sit in this buffer: zero it once decoded.
      const text = new TextDecoder('utf-8', { fatal: false }).decode(body);
      body.fill(0);
      resolve(text);
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
  });
}

/** Refuses fields the endpoint does not know (a typo must not be silently ignored). */
export function onlyFields(body: JsonObject, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      // The key is printable-bounded before it is named: it is attacker-chosen text.
      const shown = key.length <= 64 && /^[\w.-]+$/.test(key) ? key : '(unprintable)';
      throw badField(shown, `unknown field; expected one of ${allowed.join(', ')}`);
    }
  }
}

/** A required string field (non-empty, at most maxLength code units). */
export function requiredString(body: JsonObject, field: string, maxLength = 1024): string {
  const value = optionalString(body, field, maxLength);
  if (value === undefined) throw badField(field, 'is required');
  return value;
}

export function optionalString(body: JsonObject, field: string, maxLength = 1024): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(body, field)) return undefined;
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badField(field, 'must be a string');
  if (value.length === 0) throw badField(field, 'must not be empty');
  if (value.length > maxLength) throw badField(field, `must be at most ${maxLength} characters`);
  return value;
}
