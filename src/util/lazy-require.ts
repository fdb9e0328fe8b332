// Optional and heavy dependencies (ioredis, prom-client, msgpackr with its native addon, node:zlib) are
// loaded on first use, so `import 'larder-cache'` for an in-memory cache loads none of them and an entry
// whose peer is not installed still imports: the missing package is named when the feature is used.
// A synchronous require keeps the callers synchronous (a snapshot is restored before createCache returns).
import { createRequire } from 'node:module';

/** The stable code of the error {@link lazyModule} throws when an optional dependency is not installed. */
export const MISSING_DEPENDENCY = 'E_MISSING_DEPENDENCY';

let nodeRequire: NodeJS.Require | undefined;

/** Node's require for this file, made on first use: runtimes without it fail only when one is loaded. */
function load(id: string): unknown {
  nodeRequire ??= createRequire(import.meta.url);
  return nodeRequire(id);
}

/** Whether `error` says that `id` itself (not a module it needs) could not be found. */
function isMissing(error: unknown, id: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') return false;
  return typeof message === 'string' && (message.includes(`'${id}'`) || message.includes(`"${id}"`));
}

/** The error for a missing optional dependency: it names the package and the command that installs it. */
function missingDependency(id: string, neededBy: string, cause: unknown): Error {
  const error = new Error(
    `${neededBy} needs the package '${id}', which is not installed. Install it with: npm i ${id}`,
    { cause },
  );
  error.name = 'MissingDependencyError';
  (error as Error & { code: string }).code = MISSING_DEPENDENCY;
  return error;
}

/**
 * A getter that requires `id` the first time it is called and returns the same module after. When `id`
 * is not installed it throws an Error with code `E_MISSING_DEPENDENCY` whose message names the package
 * and says that `neededBy` (e.g. `'larder-cache/redis'`) needs it.
 */
export function lazyModule<T>(id: string, neededBy = 'larder-cache'): () => T {
  let loaded: T | undefined;
  return () => {
    if (loaded !== undefined) return loaded;
    try {
      loaded = load(id) as T;
    } catch (error) {
      throw isMissing(error, id) ? missingDependency(id, neededBy, error) : error;
    }
    return loaded;
  };
}

/** `id` if it is installed, else undefined (any other failure to load it still throws). */
export function optionalModule<T>(id: string): T | undefined {
  try {
    return load(id) as T;
  } catch (error) {
    if (isMissing(error, id)) return undefined;
    throw error;
  }
}
