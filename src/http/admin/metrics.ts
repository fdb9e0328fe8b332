// `GET metrics`: Prometheus text through prom-client. By default the admin API keeps a private
// Registry with the caches' metrics (registerMetrics from larder-cache/prometheus), so mounting it never
// collides with metrics an application registered itself; `registry` serves an application's own.
// prom-client is an optional peer: without it the admin API serves everything but `metrics`.
import type { Cache } from '../../cache/types.js';
import { promClient, registerMetrics } from '../../metrics/prometheus.js';
import { optionalModule } from '../../util/lazy-require.js';
import type { CacheDirectory } from '../cache-directory.js';

/**
 * What the admin API reads from a metrics registry: prom-client's `Registry` is one. Declared here so
 * that the HTTP entries' types do not need prom-client installed.
 */
export interface MetricsRegistry {
  /** The exposition text of every metric. */
  metrics(): Promise<string>;
  /** The content type of that text. */
  readonly contentType: string;
}

/** The registry an admin API serves, and how to let go of it. */
export interface AdminMetrics {
  readonly registry: MetricsRegistry;
  /** Unregisters the private metrics (not those of an application's registry). */
  close(): void;
}

/** Sets up the metrics of `directory`'s caches, or serves `registry` as given. */
export function adminMetrics(directory: CacheDirectory, registry?: MetricsRegistry): AdminMetrics {
  if (registry !== undefined) {
    if (typeof (registry as MetricsRegistry).metrics !== 'function')
      throw new TypeError('registry must be a prom-client Registry');
    return { registry, close: () => undefined };
  }
  if (optionalModule('prom-client') === undefined) {
    // Asking for the registry (GET metrics) throws the error that names the package to install.
    return {
      get registry(): MetricsRegistry {
        return new (promClient().Registry)();
      },
      close: () => undefined,
    };
  }
  const own = new (promClient().Registry)();
  // A record is registered as one, so its series carry the names the admin API shows.
  const handle = registerMetrics(directory.manager ?? directory.single ?? namedCaches(directory), {
    registry: own,
  });
  return { registry: own, close: () => handle.unregister() };
}

/** The `{ name: Cache }` record behind `directory` (defined properties: a name may be `__proto__`). */
function namedCaches(directory: CacheDirectory): Record<string, Cache> {
  return Object.fromEntries(directory.names().map((name) => [name, directory.get(name) as Cache]));
}
