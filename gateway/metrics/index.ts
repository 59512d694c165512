/** Observability and service life (issue 7 §3, §4): Prometheus metrics, /readyz, the drain on SIGTERM. */
export { createGatewayMetrics, METRIC_PREFIX, type GatewayMetrics, type MetricSources } from './registry';
export { MediaTally, type MediaTallyOptions, type MediaTotals } from './media-tally';
export { ServiceLifecycle, type DrainResult, type Readiness, type ServiceLifecycleOptions } from './lifecycle';
export { serviceRoutes } from './routes';
