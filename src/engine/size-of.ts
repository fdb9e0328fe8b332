// The default size estimator of a byte-bounded MemoryCache: a fast, bounded guess at the heap bytes a
// value (and its key) keeps alive. It walks objects and arrays breadth-first to a fixed depth and a
// fixed number of visited items, and extrapolates past that budget, so one huge value costs O(1).

/** Items (properties, elements) the estimator reads per value before it extrapolates. */
const MAX_VISITS = 256;
/** Nesting depth the estimator descends to; deeper values count as one reference. */
const MAX_DEPTH = 4;
/** Approximate V8 costs: object header, per-property slot, string header. */
const OBJECT_BYTES = 24;
const SLOT_BYTES = 8;
const STRING_BYTES = 16;

/** Estimates the bytes held by `value` plus its `key`; always at least 1. */
export function estimateSize(value: unknown, key?: unknown): number {
  const budget = { left: MAX_VISITS };
  return Math.max(1, Math.ceil(sizeOf(value, 0, budget) + (key === undefined ? 0 : sizeOf(key, 0, budget))));
}

function sizeOf(value: unknown, depth: number, budget: { left: number }): number {
  switch (typeof value) {
    case 'string':
      return STRING_BYTES + 2 * value.length;
    case 'number':
      return 8;
    case 'boolean':
      return 4;
    case 'bigint':
      return 16 + Math.ceil(value.toString(16).length / 2);
    case 'symbol':
    case 'function':
      return SLOT_BYTES;
    case 'undefined':
      return 0;
  }
  if (value === null) return 0;
  if (ArrayBuffer.isView(value)) return OBJECT_BYTES + value.byteLength;
  if (value instanceof ArrayBuffer) return OBJECT_BYTES + value.byteLength;
  if (value instanceof Date) return OBJECT_BYTES + 8;
  if (depth >= MAX_DEPTH) return SLOT_BYTES;
  if (Array.isArray(value)) return OBJECT_BYTES + sizeOfItems(value, value.length, depth, budget);
  if (value instanceof Map)
    return OBJECT_BYTES + sizeOfItems(value.entries(), value.size * 2, depth, budget, true);
  if (value instanceof Set) return OBJECT_BYTES + sizeOfItems(value.values(), value.size, depth, budget);
  const keys = Object.keys(value as object);
  let bytes = OBJECT_BYTES;
  let seen = 0;
  for (const k of keys) {
    if (budget.left <= 0) break;
    budget.left--;
    seen++;
    bytes +=
      SLOT_BYTES +
      sizeOf(k, depth + 1, budget) +
      sizeOf((value as Record<string, unknown>)[k], depth + 1, budget);
  }
  return extrapolate(bytes - OBJECT_BYTES, seen, keys.length) + OBJECT_BYTES;
}

// Sums the items of an array or of Map/Set entries ([k, v] pairs), reading at most the budget.
function sizeOfItems(
  items: Iterable<unknown>,
  count: number,
  depth: number,
  budget: { left: number },
  pairs = false,
): number {
  let bytes = 0;
  let seen = 0;
  for (const item of items) {
    if (budget.left <= 0) break;
    budget.left--;
    if (pairs) {
      const [k, v] = item as [unknown, unknown];
      bytes += 2 * SLOT_BYTES + sizeOf(k, depth + 1, budget) + sizeOf(v, depth + 1, budget);
      seen += 2;
    } else {
      bytes += SLOT_BYTES + sizeOf(item, depth + 1, budget);
      seen++;
    }
  }
  return extrapolate(bytes, seen, count);
}

// The unread items are assumed to be like the read ones.
function extrapolate(bytes: number, seen: number, total: number): number {
  if (seen >= total || seen === 0) return seen === 0 ? total * SLOT_BYTES : bytes;
  return (bytes / seen) * total;
}
