/**
 * A small client of the admin API for the CLI. The server's certificate is pinned by its SHA-256
 * fingerprint (from the endpoint file) and checked after the handshake and BEFORE the request,
 * with its bearer token, is written: a process that took over the port gets nothing.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type TLSSocket } from 'node:tls';
import { AEAD_CIPHERS, TLS_MAX_VERSION, TLS_MIN_VERSION } from '../../sip/transport/tls';
import { OS_USER_HEADER } from './auth';
import { MAX_BODY_BYTES } from './json';

export interface AdminClientOptions {
  /** "https://host:port". */
  readonly url: string;
  readonly token: string;
  /** Expected SHA-256 fingerprint of the server certificate, "AB:CD:...". */
  readonly fingerprint: string;
  /** Sent as the acting OS user (honoured for the CLI session token only). */
  readonly osUser?: string;
  readonly timeoutMs?: number;
}

export interface AdminResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON, or undefined for an empty body. */
  readonly body: unknown;
}

/** The gateway could not be reached or did not prove its identity. */
export class AdminClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminClientError';
  }
}

/** Largest response read: a user list of thousands of entries fits many times over. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export class AdminClient {
  private readonly host: string;
  private readonly port: number;

  constructor(private readonly options: AdminClientOptions) {
    const u = new URL(options.url);
    if (u.protocol !== 'https:') throw new AdminClientError(`admin API URL must be https: ${options.url}`);
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 443);
  }

  async request(method: string, path: string, body?: unknown): Promise<AdminResponse> {
    const timeoutMs = this.options.timeoutMs ?? 15_000;
    const socket = await this.connectPinned(timeoutMs);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    if (payload !== undefined && payload.length > MAX_BODY_BYTES) {
      socket.destroy();
      throw new AdminClientError('request too large');
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest({
        method,
        path,
        host: this.host,
        port: this.port,
        createConnection: () => socket,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          connection: 'close',
          accept: 'application/json',
          ...(this.options.osUser !== undefined && { [OS_USER_HEADER]: this.options.osUser }),
          ...(payload !== undefined && { 'content-type': 'application/json', 'content-length': payload.length }),
        },
        timeout: timeoutMs,
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            res.destroy(new AdminClientError('response too large'));
            return;
          }
          chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            reject(new AdminClientError(`the gateway answered ${res.statusCode ?? '?'} with a body that is not JSON`));
            return;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new AdminClientError(`no answer from the gateway within ${timeoutMs} ms`)));
      req.on('error', (err) => reject(err instanceof AdminClientError ? err : new AdminClientError(`request to the gateway failed: ${err.message}`)));
      req.end(payload);
    });
  }

  private connectPinned(timeoutMs: number): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      // The chain is not verified against a CA: the pin below is stronger (exactly this certificate).
      const socket = connect({
        host: this.host,
        port: this.port,
        rejectUnauthorized: false,
        minVersion: TLS_MIN_VERSION,
        maxVersion: TLS_MAX_VERSION,
        ciphers: AEAD_CIPHERS,
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new AdminClientError(`the gateway's admin API at ${this.options.url} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new AdminClientError(`cannot reach the gateway's admin API at ${this.options.url}: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        const seen = socket.getPeerX509Certificate()?.fingerprint256;
        if (seen !== this.options.fingerprint) {
          socket.destroy();
          reject(new AdminClientError(
            `the service at ${this.options.url} does not present the gateway's certificate; not sending credentials`,
          ));
          return;
        }
        resolve(socket);
      });
    });
  }
}
