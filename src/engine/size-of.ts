// The default size estimator of a byte-bounded MemoryCache: a fast, bounded guess at the heap bytes a
// value (and its key) keeps alive. It walks objects and arrays breadth-first to a fixed depth and a
// fixed number of visited items, and extrapolates past that budget, so one huge value costs O(1).
// Caches that do not measure every entry get their memory figure from a sample of entries instead
// (estimateTotalBytes), so the set path pays nothing for it.

/** Items (properties, elements) the estimator reads per value before it extrapolates. */
const MAX_VISITS = 256;
/** Nesting depth the estimator descends to; deeper values count as one reference. */
const MAX_DEPTH = 4;
/** Approximate V8 costs: object header, per-property slot, string header. */
const OBJECT_BYTES = 24;
const SLOT_BYTES = 8;
const STRING_BYTES = 16;

/**
 * Estimates the bytes held by `value` plus its `key`; always at least 1. Never throws: a value that
 * cannot be walked (a getter or a Proxy trap that throws) counts as one object header, so one such
 * value cannot make stats() (and the sizing advisor, which reads it inside a request) throw.
 */
export function estimateSize(value: unknown, key?: unknown): number {
  const budget = { left: MAX_VISITS };
  let bytes: number;
  try {
    bytes = sizeOf(value, 0, budget);
  } catch {
    bytes = OBJECT_BYTES;
  }
  return Math.max(1, Math.ceil(bytes + (key === undefined ? 0 : sizeOf(key, 0, budget))));
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

/**
 * Entries {@link estimateTotalBytes} measures first. 64 keeps a stats() call well under a millisecond
 * (each measure is itself bounded by MAX_VISITS), and the mean of 64 similar values is within a few
 * percent of the true mean.
 */
export const BYTE_SAMPLE = 64;

/**
 * The most entries measured when sizes vary a lot: the sample grows by BYTE_SAMPLE until the mean's
 * relative standard error is under {@link TARGET_ERROR}, or this many were read.
 */
export const MAX_BYTE_SAMPLE = 256;

/** The relative standard error of the sampled mean that stops the sample from growing. */
const TARGET_ERROR = 0.1;

/** The golden ratio's fractional part: its multiples mod 1 spread evenly without any period. */
const GOLDEN = 0.6180339887498949;

/**
 * The bytes a cache of `count` entries holds, estimated from a sample for caches that do not measure
 * every entry (no `maxBytes`, no `sizeOf`): the mean size of the sample times `count`. Slots run from
 * `first` to `end` (exclusive) and `entryAt(slot)` is the `[key, value]` held there, or undefined for a
 * free slot. The sampled slots follow the golden-ratio sequence over the range: spread evenly, and
 * never in step with a pattern in how entries were written (an evenly spaced sample measured every
 * 5th entry of a cache where every 10th was large). {@link BYTE_SAMPLE} entries are read, more (up to
 * {@link MAX_BYTE_SAMPLE}) while their sizes vary too much for the mean to be within ~10 %. The same
 * contents give the same figure; the cost is bounded whatever the cache's size, unless the range is
 * mostly free slots. 0 for an empty cache.
 */
export function estimateTotalBytes(
  count: number,
  first: number,
  end: number,
  entryAt: (slot: number) => readonly [unknown, unknown] | undefined,
): number {
  const range = end - first;
  if (count <= 0 || range <= 0) return 0;
  let sum = 0;
  let squares = 0;
  let seen = 0;
  const measure = (slot: number): boolean => {
    const entry = entryAt(slot);
    if (entry === undefined) return false;
    const bytes = estimateSize(entry[1], entry[0]);
    sum += bytes;
    squares += bytes * bytes;
    seen++;
    return true;
  };
  if (range <= MAX_BYTE_SAMPLE) {
    for (let slot = first; slot < end; slot++) measure(slot);
  } else {
    let k = 0;
    for (let limit = BYTE_SAMPLE; limit <= MAX_BYTE_SAMPLE; limit += BYTE_SAMPLE) {
      while (k < limit) {
        k++;
        // A free slot is replaced by the next few, so deletions do not leave the sample short.
        const at = first + Math.floor(((k * GOLDEN) % 1) * range);
        for (let slot = at; slot < Math.min(end, at + 4) && !measure(slot); slot++);
      }
      if (seen > 1 && relativeError(sum, squares, seen) <= TARGET_ERROR) break;
    }
    // A mostly free range (after many deletions) can still leave it short: read in order then.
    const wanted = Math.min(count, BYTE_SAMPLE);
    for (let slot = first; slot < end && seen < wanted; slot++) measure(slot);
  }
  return seen === 0 ? 0 : Math.round((sum / seen) * count);
}

// The standard error of the sample mean, relative to the mean.
function relativeError(sum: number, squares: number, n: number): number {
  const mean = sum / n;
  const variance = Math.max(0, squares / n - mean * mean) * (n / (n - 1));
  return Math.sqrt(variance / n) / mean;
}
