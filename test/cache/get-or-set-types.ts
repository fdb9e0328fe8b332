// Type-level check, compiled by `npm run typecheck` (not run): a `fallback` must not steer the inference
// of getOrSet's value type. Without NotInferred (a NoInfer that TypeScript 5.0 reads), `fallback: []`
// made T `never[]` and the loader a type error.
import { createCache } from '../../src/index.js';

interface Plan {
  name: string;
}

const cache = createCache<Plan[]>({ name: 'plans', ttl: '1h' });
async function load(signal: AbortSignal): Promise<Plan[]> {
  signal.throwIfAborted();
  return [{ name: 'Basic' }];
}

export async function fallbackDoesNotNarrow(): Promise<Plan[]> {
  const value = await cache.getOrSet('plans:42', async (ctx) => load(ctx.signal), { fallback: [] });
  return value;
}
