// Optional and heavy dependencies (msgpackr with its native addon, node:zlib) are loaded on first use,
// so `import 'larder-cache'` for an in-memory cache loads none of them. A synchronous require keeps the
// callers synchronous (a snapshot is restored before createCache returns).
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** A getter that requires `id` the first time it is called and returns the same module after. */
export function lazyModule<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load(id) as T);
}
