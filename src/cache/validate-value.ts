// Validation on read (the `validate` option): a predicate or a Standard Schema, compiled once into a
// plain `(value) => boolean` that the read paths call only when the option is set. A cached value that
// does not fit is treated as a miss, so a value's shape can change between deploys without a flush.
import type { StandardSchemaLike, ValueValidator } from './types.js';

/** A compiled validator: true when the value fits. Throws a TypeError for an asynchronous check. */
export type ValueCheck = (value: unknown) => boolean;

function isThenable(value: unknown): boolean {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function isStandardSchema(value: unknown): value is StandardSchemaLike {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const standard = (value as Partial<StandardSchemaLike>)['~standard'];
  return typeof standard === 'object' && standard !== null && typeof standard.validate === 'function';
}

/**
 * Compiles the `validate` option (`what` names it in errors): undefined stays undefined (no check), a
 * function is checked to answer synchronously, a Standard Schema is read through `~standard.validate`
 * (a result without `issues` fits). Anything else is a TypeError.
 */
export function compileValidator(validate: ValueValidator | undefined, what: string): ValueCheck | undefined {
  if (validate === undefined) return undefined;
  if (isStandardSchema(validate)) {
    const schema = validate['~standard'];
    return (value) => {
      const result = schema.validate(value);
      if (isThenable(result)) {
        throw new TypeError(
          `${what}: the Standard Schema validated asynchronously; only synchronous schemas can check cached values`,
        );
      }
      const issues = (result as { issues?: unknown } | null | undefined)?.issues;
      return issues === undefined || issues === null;
    };
  }
  if (typeof validate === 'function') {
    return (value) => {
      const fits = validate(value);
      if (isThenable(fits)) {
        throw new TypeError(`${what} must answer synchronously (true or false), got a promise`);
      }
      return Boolean(fits);
    };
  }
  throw new TypeError(
    `${what} must be a function (value) => boolean or a Standard Schema (zod, valibot, …), got ${
      validate === null ? 'null' : typeof validate
    }`,
  );
}

/**
 * Whether a cached value passes the call's `validate` (compiled here) or else the view's `fallback`;
 * true when neither is set. Throws what the check throws (a TypeError for an asynchronous schema).
 */
export function valueFits(
  value: unknown,
  options: { validate?: ValueValidator } | undefined,
  fallback: ValueCheck | undefined,
): boolean {
  const check = options?.validate === undefined ? fallback : compileValidator(options.validate, 'validate');
  return check === undefined || check(value);
}
