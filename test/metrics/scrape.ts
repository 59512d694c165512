/** Reading the admin listener's service endpoints in tests: HTTPS to loopback, bounded in time. */
import https from 'node:https';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** GET `path` on the admin API at `url` (self-signed certificate: loopback tests only). */
export function get(url: string, path: string, token?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, url), {
      method: 'GET',
      rejectUnauthorized: false,
      timeout: 5000,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * The value of one sample in Prometheus text format, `name` with its labels exactly as exposed
 * (`ciphergate_calls_ended_total{code="200"}`); 0 when the sample is absent (counter not yet seen).
 */
export function sample(text: string, name: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(name + ' ')) return Number(line.slice(name.length + 1));
  }
  return 0;
}

/** True when the exposition has a sample line for `name` (with labels as given). */
export function hasSample(text: string, name: string): boolean {
  return text.split('\n').some((l) => l.startsWith(name + ' '));
}
