// A small seeded pseudo-random generator for the benchmarks, so every run (and every library in a
// run) sees the same keys and the same access order. Not for cryptography.

/** A generator of uniform floats in [0, 1). */
export type Random = () => number;

/**
 * Creates a seeded generator: a 32-bit "small fast counter" (sfc32) seeded through splitmix32.
 * Chosen because it is tiny, fast and passes the usual statistical batteries well enough for
 * sampling access traces; Math.random cannot be seeded.
 */
export function createRandom(seed: number): Random {
  if (!Number.isInteger(seed)) throw new TypeError(`seed must be an integer, got ${String(seed)}`);
  let s = seed >>> 0;
  // splitmix32 spreads a small seed over the four state words so seeds 1 and 2 diverge at once.
  const next = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next();
  let b = next();
  let c = next();
  let d = next();
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/** Shuffles `items` in place (Fisher-Yates) and returns it. */
export function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}
