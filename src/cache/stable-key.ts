// Stable cache keys for argument lists (memoize): the same arguments always give the same string, object
// key order does not matter, and values that print alike but differ (1 vs '1', undefined vs null, a Date
// vs its ISO string) give different keys. Very long keys are replaced by a digest to bound key memory.
import { createHash } from 'node:crypto';

/** Keys longer than this are replaced by `#` + a SHA-256 digest (the key stays unique, memory stays bounded). */
export const MAX_PLAIN_KEY_LENGTH = 512;

/** Derives a stable string from any JSON-like value (argument lists included); throws TypeError for functions/symbols/cycles. */
export function stableKey(value: unknown): string {
  const key = encode(value, new Set());
  return key.length <= MAX_PLAIN_KEY_LENGTH
    ? key
    : `#${createHash('sha256').update(key).digest('base64url')}`;
}

function encode(value: unknown, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'undefined';
    case 'object':
      return value === null ? 'null' : encodeObject(value, seen);
    default:
      throw new TypeError(`cannot derive a cache key from a ${typeof value}; pass a key function`);
  }
}

function encodeObject(value: object, seen: Set<object>): string {
  if (seen.has(value))
    throw new TypeError('cannot derive a cache key from a cyclic value; pass a key function');
  seen.add(value);
  try {
    if (value instanceof Date)
      return `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
    if (Array.isArray(value)) {
      // Indexed, not mapped: map and join skip holes, which made [,] the key of []. A hole is spelt `~`
      // (no value's encoding), not as undefined: [, 1] and [undefined, 1] differ to filter, forEach, `in`.
      const items: string[] = [];
      for (let i = 0; i < value.length; i++) items.push(i in value ? encode(value[i], seen) : '~');
      return `[${items.join(',')}]`;
    }
    if (value instanceof Map) {
      const items = [...value].map(([k, v]) => `${encode(k, seen)}=>${encode(v, seen)}`).sort();
      return `Map{${items.join(',')}}`;
    }
    if (value instanceof Set)
      return `Set[${[...value]
        .map((v) => encode(v, seen))
        .sort()
        .join(',')}]`;
    if (value instanceof RegExp) return `RegExp(${String(value)})`;
    if (ArrayBuffer.isView(value)) {
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      return `${value.constructor.name}(${Buffer.from(bytes).toString('base64')})`;
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return `json(${encode(toJSON.call(value), seen)})`;
    const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
    const plain = proto === null || proto === Object.prototype;
    // A class instance keeps its class name so that {x:1} and new Point(1) differ.
    const tag = plain ? '' : proto.constructor?.name || '(anonymous class)';
    const names = Object.keys(value);
    // Only own enumerable string-keyed fields are seen. An instance with none (private #fields, getters,
    // an Error, a boxed number) would key every instance of its class alike, so one caller would get
    // another's answer: refuse it, as a symbol-keyed field, which would be dropped, is refused.
    if (!plain && names.length === 0) {
      throw new TypeError(
        `cannot derive a cache key from a ${tag} without enumerable own fields (its state is not visible); pass a key function`,
      );
    }
    if (
      Object.getOwnPropertySymbols(value).some((s) => Object.prototype.propertyIsEnumerable.call(value, s))
    ) {
      throw new TypeError('cannot derive a cache key from an object with symbol keys; pass a key function');
    }
    const fields = names
      .sort()
      .map((k) => `${JSON.stringify(k)}:${encode((value as Record<string, unknown>)[k], seen)}`);
    return `${tag}{${fields.join(',')}}`;
  } finally {
    seen.delete(value);
  }
}
