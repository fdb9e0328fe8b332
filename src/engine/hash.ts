// Key hashing for the engine's key index (key-index.ts) and W-TinyLFU's frequency sketch. The engine
// hashes the key once per operation (a get, or a set) and keeps the 32-bit result per slot, so the
// sketch, the window tuner's sampling and the index's removals never rehash a key.
//
// String keys are hashed in full, from a per-process random seed. Both halves matter against keys an
// attacker chooses: a hash that samples long keys lets them vary the characters it skips and produce
// any number of distinct keys with one hash (a flood of such keys then shares one sketch counter,
// looks hot and pushes the legitimate working set out), and an unseeded hash lets them search offline
// for keys whose hashes land on the same sketch counters. A collision only ever blurs a frequency
// estimate or lengthens a probe run of the key index, which compares the keys themselves. Numbers
// are hashed without the seed, so replaying a numeric trace gives the same result in every process.

/** Finalises a 32-bit value so every input bit affects every output bit (MurmurHash3's fmix32). */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** 32 random bits from the platform's CSPRNG (Node and browsers), else from Math.random. */
function randomSeed(): number {
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
  if (typeof crypto?.getRandomValues === 'function')
    return crypto.getRandomValues(new Uint32Array(1))[0]! | 0;
  return (Math.random() * 0x100000000) | 0;
}

// In a typed array rather than a module `let`, so the hot loop reads it without a hole check.
const SEED = Int32Array.of(randomSeed());

/**
 * Replaces this process's string-hash seed and returns the previous one. For tests and benchmarks that
 * need string hashes to repeat across processes; a cache never needs it. Hashes already stored by live
 * caches keep the old seed, so call it before creating any.
 */
export function setHashSeed(next: number): number {
  const previous = SEED[0]!;
  SEED[0] = next;
  return previous;
}

/** FNV-1a over every character of a string, starting from the process's seed, finalised by mix32. */
export function hashString(s: string): number {
  const n = s.length;
  const seed = SEED[0]!;
  let h = 0x811c9dc5 ^ seed ^ n;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h ^ seed);
}

const FLOAT_VIEW = new Float64Array(1);
const INT_VIEW = new Int32Array(FLOAT_VIEW.buffer);

/** Hashes a cache key (string or number) to a well-mixed 32-bit integer. */
export function hashKey(key: string | number): number {
  if (typeof key === 'string') return hashString(key);
  if ((key | 0) === key) return mix32(key ^ 0x5bd1e995);
  FLOAT_VIEW[0] = key;
  return mix32(INT_VIEW[0]! ^ mix32(INT_VIEW[1]!));
}
