// Subpath export `larder-cache/prometheus`: registerMetrics(cacheOrManager, { registry, prefix }) publishes a
// cache's or a manager's stats and loader latency through prom-client.
export { registerMetrics, DEFAULT_LOAD_BUCKETS } from '../metrics/prometheus.js';
export type { MetricsOptions, MetricsHandle, MetricsTarget } from '../metrics/prometheus.js';
