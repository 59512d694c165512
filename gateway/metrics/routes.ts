/**
 * The admin listener's service endpoints:
 * - GET /metrics: Prometheus text exposition, with a bearer token (RFC 6750 §2.1) of the 'metrics'
 *   scope: metrics name users' activity, trunks and attack rates, which an attacker should not
 *   read. A scrape-only token (`ciphergate metrics token rotate`) grants that scope and nothing
 *   else, so the Prometheus server's configuration holds no key to the accounts; the admin token
 *   grants it too. The admin server authenticates it (server.ts, AUTHENTICATED_ROOTS).
 * - GET /readyz: readiness, no token (load balancers and orchestrators probe it): 200 {status:
 *   "ready"}, or 503 {status: "not-ready", reason} with Retry-After while draining or broken.
 * GET /healthz (liveness) is the admin routes' own: 200 whenever the event loop answers.
 */
import type { Route } from '../admin/http/routes';
import { SECURITY_HEADERS, sendJson } from '../admin/http/json';
import type { GatewayMetrics } from './registry';
import type { ServiceLifecycle } from './lifecycle';

/** What a not-ready gateway asks probes to wait before they ask again. */
const READYZ_RETRY_AFTER_SEC = 5;

export function serviceRoutes(metrics: GatewayMetrics, lifecycle: ServiceLifecycle): Route[] {
  return [
    {
      method: 'GET', path: '/metrics', auth: 'metrics',
      handle: async ({ res }) => {
        const text = await metrics.registry.metrics();
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'content-type': metrics.registry.contentType,
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
      },
    },
    {
      method: 'GET', path: '/readyz', auth: false,
      handle: async ({ res }) => {
        const r = lifecycle.readiness();
        if (r.ready) return sendJson(res, 200, { status: 'ready' });
        sendJson(res, 503, { status: 'not-ready', reason: r.reason }, { 'retry-after': String(READYZ_RETRY_AFTER_SEC) });
      },
    },
  ];
}
