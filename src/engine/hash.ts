// Key hashing for the frequency sketch. The engine hashes a key once, when it is inserted, and keeps
// the 32-bit result per slot, so a cache hit never rehashes its key.

/** Finalises a 32-bit value so every input bit affects every output bit (MurmurHash3's fmix32). */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

// Long keys are sampled rather than read in full, so hashing stays O(1); a collision only blurs a
// frequency estimate, it never confuses two keys (the Map index decides identity).
const FULL_HASH_LENGTH = 64;
const SAMPLED_CHARS = 48;

/** FNV-1a over the characters of a string (all of them up to 64, an even sample of 48 beyond). */
export function hashString(s: string): number {
  const n = s.length;
  let h = 0x811c9dc5 ^ n;
  if (n <= FULL_HASH_LENGTH) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  } else {
    // The last 16 characters are read in full: keys that share a long prefix differ at the end.
    const head = SAMPLED_CHARS - 16;
    const step = (n - 16) / head;
    for (let i = 0; i < head; i++) h = Math.imul(h ^ s.charCodeAt((i * step) | 0), 0x01000193);
    for (let i = n - 16; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return mix32(h);
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
