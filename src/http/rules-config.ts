// Response-caching rules from a plain config object, as services often keep them in settings:
// `{ '^/api/urls/$': { cache_type: 'url', ttl: 300, vary_by_user: true } }`. Keys are path patterns
// (a key starting with `^` or ending with `$` is a regular expression); option names may be camelCase
// or snake_case. Numeric `ttl`/`grace` are SECONDS here, as in the settings files this format comes
// from; a string ('5m') is read as a Larder duration.
import type { Duration } from '../util/duration.js';
import type { CacheRule } from './rules.js';

/** One rule's options in a config object (camelCase or snake_case names). */
export type ConfigRuleOptions = Record<string, unknown>;

// snake_case config name → CacheRule option; vary_by_method is accepted and has no effect,
// since only GET/HEAD responses are ever stored.
const ALIASES: Record<string, string | null> = {
  cache_type: 'cache',
  vary_by_user: 'perUser',
  per_user: 'perUser',
  store_private: 'storePrivate',
  vary_headers: 'varyHeaders',
  vary_query: 'varyQuery',
  max_response_bytes: 'maxResponseBytes',
  status_ttl: 'statusTtl',
  vary_by_method: null,
  varyByMethod: null,
};

/** Converts a CACHE_RULES-style object into {@link CacheRule}s (validated later by compileCacheRules). */
export function rulesFromConfig(config: Record<string, ConfigRuleOptions>): CacheRule[] {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new TypeError('rules config must be an object keyed by path pattern');
  }
  return Object.entries(config).map(([path, options]) => {
    const what = `rules[${JSON.stringify(path)}]`;
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new TypeError(`${what} must be an object of rule options`);
    }
    const rule: Record<string, unknown> = { path: readPath(path, what) };
    for (const [name, value] of Object.entries(options)) {
      const target = Object.hasOwn(ALIASES, name) ? ALIASES[name]! : name;
      if (target === null) {
        if (typeof value !== 'boolean') throw new TypeError(`${what}.${name} must be a boolean`);
        continue;
      }
      rule[target] =
        target === 'ttl' || target === 'grace'
          ? secondsIfNumber(value)
          : target === 'statusTtl'
            ? secondsPerStatus(value)
            : value;
    }
    return rule as unknown as CacheRule;
  });
}

function readPath(path: string, what: string): string | RegExp {
  if (!path.startsWith('^') && !path.endsWith('$')) return path;
  try {
    return new RegExp(path);
  } catch (error) {
    throw new TypeError(`${what} is not a valid regular expression: ${(error as Error).message}`);
  }
}

function secondsIfNumber(value: unknown): Duration {
  return typeof value === 'number' ? value * 1000 : (value as Duration);
}

/** `{ 404: 10 }` → 10 s for 404; anything but a plain object is left for the rule's own validation. */
function secondsPerStatus(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([status, ttl]) => [status, secondsIfNumber(ttl)]));
}
