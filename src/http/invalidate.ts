// Invalidation of keys, tags and patterns across caches, with counts. One function serves both the
// write rules (after a successful POST/PUT/PATCH/DELETE) and the admin API's `POST invalidate`.
import type { ServerResponse } from 'node:http';
import type { Cache } from '../cache/types.js';
import { errorMessage, type LogSink } from '../observability/log-sink.js';
import { requireCache, type CacheDirectory } from './cache-directory.js';
import type { PathParams } from './path-pattern.js';
import type { CompiledInvalidationRule } from './rules.js';
import { since } from '../util/time.js';

/** What to invalidate. */
export interface InvalidationTargets {
  /** Exact keys; a number is the number key (`123` and `'123'` are different keys). */
  keys?: readonly (string | number)[];
  tags?: readonly string[];
  patterns?: readonly string[];
}

/** How many entries went, by kind, summed over the caches. */
export interface InvalidationCounts {
  keys: number;
  tags: number;
  patterns: number;
  total: number;
}

/** Invalidates `targets` in every cache of `caches`; resolves with the counts. */
export async function invalidateIn(
  caches: readonly Cache<unknown>[],
  targets: InvalidationTargets,
): Promise<InvalidationCounts> {
  const counts: InvalidationCounts = { keys: 0, tags: 0, patterns: 0, total: 0 };
  await Promise.all(
    caches.map(async (cache) => {
      const [deleted, tagged, matched] = await Promise.all([
        Promise.all((targets.keys ?? []).map((key) => cache.delete(key))),
        targets.tags?.length ? cache.invalidateTags(targets.tags) : 0,
        Promise.all((targets.patterns ?? []).map((pattern) => cache.invalidatePattern(pattern))),
      ]);
      counts.keys += deleted.filter(Boolean).length;
      counts.tags += tagged;
      counts.patterns += matched.reduce((a, b) => a + b, 0);
    }),
  );
  counts.total = counts.keys + counts.tags + counts.patterns;
  return counts;
}

/** The keys, tags and patterns a write rule names, filled from the write's route params. */
export function renderTargets(
  rule: CompiledInvalidationRule,
  params: PathParams,
): Required<InvalidationTargets> {
  return {
    keys: rule.keys.map((t) => t.render(params)),
    tags: rule.tags.map((t) => t.render(params)),
    patterns: rule.patterns.map((t) => t.render(params)),
  };
}

/** A write rule that matched a request, with the request's route params. */
export interface MatchedWrite {
  rule: CompiledInvalidationRule;
  params: PathParams;
}

/**
 * Defers the end of a write's response until the matched rules' invalidations ran — only when the
 * write succeeded (2xx) — so the client's next read already misses (read-your-writes).
 */
export function invalidateAfterWrite(
  res: ServerResponse,
  writes: readonly MatchedWrite[],
  method: string,
  directory: CacheDirectory,
  log: LogSink,
): void {
  const end = res.end;
  res.end = function endAfterInvalidation(this: ServerResponse, ...args: unknown[]) {
    res.end = end;
    const finish = () => end.apply(res, args as Parameters<typeof end>);
    // A failed write changed nothing, so it invalidates nothing.
    if (res.statusCode < 200 || res.statusCode >= 300) return finish();
    void runWriteRules(writes, method, directory, log).finally(finish);
    return res;
  } as ServerResponse['end'];
}

async function runWriteRules(
  writes: readonly MatchedWrite[],
  method: string,
  directory: CacheDirectory,
  log: LogSink,
): Promise<void> {
  for (const { rule, params } of writes) {
    const started = performance.now();
    const targets = renderTargets(rule, params);
    const names = rule.caches ?? directory.names();
    try {
      const counts = await invalidateIn(
        names.map((n) => requireCache(directory, n, `${rule.what}.cache`)),
        targets,
      );
      log.debug('Cache INVALIDATE', {
        rule: rule.what,
        method,
        caches: names,
        ...targets,
        count: counts.total,
        durationMs: since(started),
      });
    } catch (error) {
      log.error('Cache ERROR', {
        rule: rule.what,
        operation: 'invalidate',
        ...targets,
        error: errorMessage(error),
      });
    }
  }
}
