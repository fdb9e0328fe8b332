// Serializers turn cached values into what a driver stores. The default (msgpackr with structured
// clone) round-trips what L1 holds — objects, arrays, Date, Map, Set, BigInt, undefined fields,
// Buffers, shared and circular references — so a value read from L2 has the same shape as in L1.
// JSON is offered for interop with other languages; it loses those types by design.
import { lazyModule } from '../util/lazy-require.js';
import { isWellFormed } from '../util/validate.js';
import { CacheError } from '../errors.js';

/** What a serializer produces and a tier's driver stores: a string or raw bytes. */
export type DriverValue = string | Buffer;

/** Converts values to stored bytes and back. Both methods may throw; callers wrap the error. */
export interface Serializer {
  /** A short name for logs. */
  readonly name: string;
  /** Encodes a value. */
  serialize(value: unknown): DriverValue;
  /** Decodes what {@link Serializer.serialize} produced. */
  deserialize(data: DriverValue): unknown;
}

// Prototypes msgpackr's structured clone restores exactly; an instance of any other class would come
// back as a plain object, i.e. shaped differently from L1, so the strict check refuses it.
const FAITHFUL_PROTOTYPES = new Set<unknown>([
  Object.prototype,
  null,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Date.prototype,
  RegExp.prototype,
  Buffer.prototype,
  Uint8Array.prototype,
  Int8Array.prototype,
  Uint8ClampedArray.prototype,
  Int16Array.prototype,
  Uint16Array.prototype,
  Int32Array.prototype,
  Uint32Array.prototype,
  Float32Array.prototype,
  Float64Array.prototype,
  BigInt64Array.prototype,
  BigUint64Array.prototype,
  ArrayBuffer.prototype,
]);

// Errors msgpackr restores with their own class (with name, message and cause; not other properties).
// An instance of a subclass comes back as one of these, and an AggregateError loses its errors.
const ERROR_PROTOTYPES = new Set<unknown>([
  Error.prototype,
  EvalError.prototype,
  RangeError.prototype,
  ReferenceError.prototype,
  SyntaxError.prototype,
  TypeError.prototype,
  URIError.prototype,
]);

/**
 * Throws a TypeError naming the path of the first part of `value` that cannot round-trip faithfully
 * (functions, symbols, promises, weak collections, class instances). Cycles are followed once.
 */
export function assertFaithful(value: unknown, path = 'value'): void {
  // Most values are small trees of plain objects and arrays: checked first without a set of visited
  // objects (every L2 write passes here). Anything else (another class, a large or cyclic graph) takes
  // the full walk, which builds no path string per property either; only a value that fails is walked
  // again, with paths, to name where.
  const left = plainTree(value, PLAIN_TREE_BUDGET);
  if (left >= 0) return;
  if (left === UNFAITHFUL || !faithful(value, undefined, new Set())) faithful(value, path, new Set());
}

/** Most objects {@link plainTree} visits before it leaves the value to the full walk. */
const PLAIN_TREE_BUDGET = 256;
const UNFAITHFUL = -1;
const NOT_PLAIN = -2;

/**
 * Whether `value` is made of primitives, plain objects and arrays only: the objects left of `budget`
 * (≥ 0) when it is, UNFAITHFUL when it holds a function or symbol, NOT_PLAIN when it holds anything
 * else or more objects than `budget` (a shared or cyclic graph is never followed further than that).
 */
function plainTree(value: unknown, budget: number): number {
  const type = typeof value;
  if (type !== 'object') return unfaithfulPrimitive(value) === undefined ? budget : UNFAITHFUL;
  if (value === null) return budget;
  if (--budget < 0) return NOT_PLAIN;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype) return NOT_PLAIN;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (unfaithfulShape(object, keys) !== undefined) return UNFAITHFUL;
  for (let i = 0; i < keys.length; i++) {
    budget = plainTree(object[keys[i]!], budget);
    if (budget < 0) return budget;
  }
  return budget;
}

// msgpackr writes a lone surrogate as U+FFFD and -0 as the integer 0: both would come back changed.
function unfaithfulPrimitive(value: unknown): string | undefined {
  switch (typeof value) {
    case 'function':
    case 'symbol':
      return `is a ${typeof value}`;
    case 'number':
      return Object.is(value, -0) ? 'is -0, which msgpack stores as 0' : undefined;
    case 'string':
      return isWellFormed(value)
        ? undefined
        : 'is a string holding a lone surrogate, which msgpack stores as U+FFFD';
    default:
      return undefined;
  }
}

/**
 * Why an object or array (with its enumerable own `keys`) would not come back as it is, or undefined:
 * msgpackr reads an own `__proto__` key back as `__proto_`, drops symbol keys and an array's named
 * properties, and reads an array's holes back as undefined elements.
 */
function unfaithfulShape(object: object, keys: readonly string[]): string | undefined {
  if (Array.isArray(object)) {
    // Index keys come first, in order: an array with holes or named properties (as many holes as
    // names, say) has another key count or does not end with its last index.
    const length = object.length;
    if (keys.length !== length || (length > 0 && keys[length - 1] !== String(length - 1))) {
      for (let i = 0; i < length; i++) if (!(i in object)) return `has a hole at index ${i}`;
      return `has an extra property ${JSON.stringify(keys[length] ?? '')}, which would be dropped`;
    }
  } else {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (key === '__proto__') return 'has an own __proto__ key, which msgpack renames';
      if (!isWellFormed(key)) return `has a key ${JSON.stringify(key)} holding a lone surrogate`;
    }
  }
  const symbols = Object.getOwnPropertySymbols(object);
  for (let i = 0; i < symbols.length; i++)
    if (Object.prototype.propertyIsEnumerable.call(object, symbols[i]!))
      return `has a symbol key ${String(symbols[i])}, which would be dropped`;
  return undefined;
}

// Whether every part of `value` round-trips. With a `path`, the first part that does not throws a
// TypeError naming it (and the paths of nested parts are built); without one, it answers false.
function faithful(value: unknown, path: string | undefined, seen: Set<object>): boolean {
  const type = typeof value;
  if (type !== 'object' || value === null) {
    const why = unfaithfulPrimitive(value);
    if (why === undefined) return true;
    if (path === undefined) return false;
    throw new TypeError(`${path} ${why} and cannot be stored in L2`);
  }
  const object = value as object;
  if (seen.has(object)) return true;
  seen.add(object);
  const proto: unknown = Object.getPrototypeOf(object);
  if (!FAITHFUL_PROTOTYPES.has(proto) && !ERROR_PROTOTYPES.has(proto)) {
    if (path === undefined) return false;
    const name = (object as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
    throw new TypeError(`${path} is an instance of ${name}, which would not round-trip through L2`);
  }
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer || object instanceof Date) return true;
  if (ERROR_PROTOTYPES.has(proto)) {
    const extra = Object.keys(object).find((key) => key !== 'name' && key !== 'cause');
    if (extra !== undefined) {
      if (path === undefined) return false;
      throw new TypeError(
        `${path} is an error with a property ${JSON.stringify(extra)}, which msgpack drops (it keeps name, message and cause)`,
      );
    }
  }
  if (object instanceof Map) {
    for (const [k, v] of object) {
      if (!faithful(k, path === undefined ? undefined : `${path}<key>`, seen)) return false;
      if (!faithful(v, path === undefined ? undefined : `${path}.get(${String(k)})`, seen)) return false;
    }
    return true;
  }
  if (object instanceof Set) {
    for (const v of object)
      if (!faithful(v, path === undefined ? undefined : `${path}<item>`, seen)) return false;
    return true;
  }
  const keys = Object.keys(object);
  const why = unfaithfulShape(object, keys);
  if (why !== undefined) {
    if (path === undefined) return false;
    throw new TypeError(`${path} ${why}, and cannot be stored in L2`);
  }
  for (const key of keys) {
    const child = (object as Record<string, unknown>)[key];
    if (!faithful(child, path === undefined ? undefined : `${path}.${key}`, seen)) return false;
  }
  return true;
}

/** Options of {@link msgpackSerializer}. */
export interface MsgpackSerializerOptions {
  /** Refuse values that would not come back identical (default true). Off: msgpackr drops them silently. */
  strict?: boolean;
}

/** msgpackr (an optional peer dependency), loaded when the first msgpack serializer is made. */
const msgpackr = lazyModule<typeof import('msgpackr')>(
  'msgpackr',
  "The shared tier's default serializer (msgpackSerializer; pass `serializer: jsonSerializer()` to do without)",
);

/** The default serializer: msgpackr with structured clone (see the file comment for what round-trips). */
export function msgpackSerializer(options: MsgpackSerializerOptions = {}): Serializer {
  const packr = new (msgpackr().Packr)({ structuredClone: true });
  const strict = options.strict ?? true;
  return {
    name: 'msgpack',
    serialize(value) {
      if (strict) assertFaithful(value);
      return packr.pack(value);
    },
    deserialize(data) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
      assertCountsFit(bytes);
      return packr.unpack(bytes);
    },
  };
}

/**
 * Throws a RangeError when msgpack array or map headers declare more items than bytes follow them
 * (each item takes at least one; nested headers count together). msgpackr allocates the declared length
 * up front and reads on past the end before it notices: five stored bytes declaring 2^25 items cost it
 * ~250 MB and close to a second, and each nested header claiming the same bytes as much again.
 * A linear walk over the tokens (the payloads of strings, binaries and extensions are skipped).
 */
export function assertCountsFit(bytes: Uint8Array): void {
  const end = bytes.length;
  let at = 0;
  // Items declared by the headers read so far and not reached yet: nested headers share what follows.
  let owed = 0;
  while (at < end) {
    const token = bytes[at++]!;
    if (owed > 0) owed--;
    let items = -1;
    if (token < 0x80 || token >= 0xe0 || token === 0xc0 || token === 0xc2 || token === 0xc3) continue;
    if (token < 0x90) items = (token & 0x0f) * 2;
    else if (token < 0xa0) items = token & 0x0f;
    else if (token < 0xc0) at += token & 0x1f;
    else {
      switch (token) {
        case 0xc4: // bin 8, 16, 32
        case 0xd9: // str 8, 16, 32
          at += 1 + readLength(bytes, at, 1);
          break;
        case 0xc5:
        case 0xda:
          at += 2 + readLength(bytes, at, 2);
          break;
        case 0xc6:
        case 0xdb:
          at += 4 + readLength(bytes, at, 4);
          break;
        case 0xc7: // ext 8, 16, 32: length, type, data
          at += 2 + readLength(bytes, at, 1);
          break;
        case 0xc8:
          at += 3 + readLength(bytes, at, 2);
          break;
        case 0xc9:
          at += 5 + readLength(bytes, at, 4);
          break;
        case 0xcc:
        case 0xd0:
          at += 1;
          break;
        case 0xcd:
        case 0xd1:
          at += 2;
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          at += 4;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          at += 8;
          break;
        case 0xd4: // fixext 1, 2, 4, 8, 16: type, data
          at += 2;
          break;
        case 0xd5:
          at += 3;
          break;
        case 0xd6:
          at += 5;
          break;
        case 0xd7:
          at += 9;
          break;
        case 0xd8:
          at += 17;
          break;
        case 0xdc:
          items = readLength(bytes, at, 2);
          at += 2;
          break;
        case 0xdd:
          items = readLength(bytes, at, 4);
          at += 4;
          break;
        case 0xde:
          items = readLength(bytes, at, 2) * 2;
          at += 2;
          break;
        case 0xdf:
          items = readLength(bytes, at, 4) * 2;
          at += 4;
          break;
        default: // 0xc1 (never used): msgpackr decides
          break;
      }
    }
    if (items > 0) owed += items;
    if (owed > end - at) {
      const kind = token >= 0xde || (token >= 0x80 && token < 0x90) ? 'a map' : 'an array';
      throw new RangeError(
        `stored value declares ${items > 0 ? `${kind} of ${items} items` : 'more items'} than it holds: ${owed} items with only ${Math.max(0, end - at)} bytes left`,
      );
    }
  }
}

// A big-endian length of `size` bytes at `at` (0 past the end: the unpacker reports the truncation).
function readLength(bytes: Uint8Array, at: number, size: number): number {
  if (at + size > bytes.length) return 0;
  let length = 0;
  for (let i = 0; i < size; i++) length = length * 256 + bytes[at + i]!;
  return length;
}

/** A JSON serializer for interop: other languages can read the values; Date/Map/Set/BigInt do not survive. */
export function jsonSerializer(): Serializer {
  return {
    name: 'json',
    serialize(value) {
      const text = JSON.stringify(value);
      if (text === undefined) throw new TypeError(`a ${typeof value} cannot be stored as JSON`);
      return text;
    },
    deserialize(data) {
      return JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
    },
  };
}

/** Checks that a user-supplied serializer has both methods. */
export function assertSerializer(value: unknown, what = 'serializer'): asserts value is Serializer {
  const s = value as Partial<Serializer> | null;
  if (
    s === null ||
    typeof s !== 'object' ||
    typeof s.serialize !== 'function' ||
    typeof s.deserialize !== 'function'
  ) {
    throw new TypeError(`${what} must be an object with serialize(value) and deserialize(data) methods`);
  }
}

/** Wraps a serializer failure in CacheError SERIALIZATION_FAILED, naming the key. */
export function serializationError(
  key: string,
  direction: 'serialize' | 'deserialize',
  cause: unknown,
): CacheError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new CacheError('SERIALIZATION_FAILED', `cannot ${direction} the value of key "${key}": ${reason}`, {
    cause,
  });
}
