// Optional and heavy dependencies (ioredis, prom-client, msgpackr with its native addon, node:zlib) are
// loaded on first use, so `import 'larder-cache'` for an in-memory cache loads none of them and an entry
// whose peer is not installed still imports: the missing package is named when the feature is used.
// A synchronous require keeps the callers synchronous (a snapshot is restored before createCache returns).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The stable code of the error {@link lazyModule} throws when an optional dependency is not installed. */
export const MISSING_DEPENDENCY = 'E_MISSING_DEPENDENCY';
/** The stable code of the error {@link lazyModule} throws when an installed dependency's major is not supported. */
export const UNSUPPORTED_DEPENDENCY = 'E_UNSUPPORTED_DEPENDENCY';

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
 * The version in the package.json of the package `id` resolves into: the nearest one above its entry
 * file that has a name (a `dist/package.json` holding only `type` is passed over). Undefined when
 * none is found or it cannot be read (a bundled or virtual module): then nothing is checked.
 */
function installedVersion(id: string): string | undefined {
  nodeRequire ??= createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(nodeRequire.resolve(id));
  } catch {
    return undefined;
  }
  for (let depth = 0; depth < 8; depth++) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (typeof manifest.name === 'string') {
        return typeof manifest.version === 'string' ? manifest.version : undefined;
      }
    } catch {
      // no package.json here (or an unreadable one): look further up
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

/** The error for an installed package whose major Larder does not work with. */
function unsupportedDependency(
  id: string,
  neededBy: string,
  version: string,
  majors: readonly number[],
): Error {
  const wanted = majors.map((major) => `${major}.x`).join(' or ');
  const error = new Error(
    `${neededBy} works with ${id} ${wanted}, but ${id} ${version} is installed (npm installs an optional peer ` +
      `of another major with only a warning). Install a supported one with: npm i ${id}@${majors.at(-1) ?? ''}`,
  );
  error.name = 'UnsupportedDependencyError';
  (error as Error & { code: string }).code = UNSUPPORTED_DEPENDENCY;
  return error;
}

/**
 * A getter that requires `id` the first time it is called and returns the same module after. When `id`
 * is not installed it throws an Error with code `E_MISSING_DEPENDENCY` whose message names the package
 * and says that `neededBy` (e.g. `'larder-cache/redis'`) needs it. With `majors`, a package whose
 * installed major is not among them is refused with code `E_UNSUPPORTED_DEPENDENCY` (before it is
 * loaded), naming the version found and the ones that work.
 */
export function lazyModule<T>(id: string, neededBy = 'larder-cache', majors?: readonly number[]): () => T {
  let loaded: T | undefined;
  return () => {
    if (loaded !== undefined) return loaded;
    try {
      if (majors !== undefined) {
        const version = installedVersion(id);
        const major = version === undefined ? undefined : Number.parseInt(version, 10);
        if (version !== undefined && major !== undefined && !majors.includes(major)) {
          throw unsupportedDependency(id, neededBy, version, majors);
        }
      }
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
