// One memory measurement in a fresh process (spawned by bench/memory.ts, needs --expose-gc):
// fills one library with 100k entries of a ~100-byte object and prints the retained bytes per entry
// as one JSON line. A fresh process per measurement so no library inherits another's heap layout.

import { GHOSTED, PAYLOAD } from './lib/memory-names.js';
import { loadSubjects, type Subject, type SyncStore } from './lib/subjects.js';
import { MemoryCache, engineInternals } from '../src/engine/memory-cache.js';
import { MODE_ARC } from '../src/engine/miniature.js';

/** Entries per measurement (issue 2). */
const ENTRIES = 100_000;

/** The key of entry `i`, as every subject is filled. */
function key(i: number): string {
  return `user:${i.toString(36)}`;
}

/** A ~100-byte record (object header + 5 fields + a short string), a typical cached row. */
function makeValue(i: number): object {
  return { id: i, name: `user-${i}`, active: (i & 1) === 0, score: i / 7, plan: null };
}

/** Heap in use including ArrayBuffer backing stores, which typed-array-based caches keep off the JS heap. */
function retained(): number {
  globalThis.gc!();
  globalThis.gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function main(): Promise<void> {
  const name = process.argv[2];
  if (typeof globalThis.gc !== 'function') throw new Error('memory-child needs node --expose-gc');
  const subjects = [...(await loadSubjects()), ghosted];
  const subject = subjects.find((s) => s.name === name);
  if (subject === undefined && name !== PAYLOAD) {
    throw new RangeError(
      `unknown library '${String(name)}' (have ${[PAYLOAD, ...subjects.map((s) => s.name)].join(', ')})`,
    );
  }
  // Touch the code paths once so compiled code and lazily created library state is not counted.
  const probe = subject?.create(10);
  probe?.set('probe', makeValue(0));
  probe?.get('probe');

  const before = retained();
  const held: unknown[] = [];
  let store: SyncStore | undefined;
  if (subject === undefined) {
    for (let i = 0; i < ENTRIES; i++) held.push(key(i), makeValue(i));
  } else {
    store = subject.create(ENTRIES);
    for (let i = 0; i < ENTRIES; i++) store.set(key(i), makeValue(i));
  }
  const after = retained();
  // Every entry must still be there, or the figure would flatter a cache that dropped some.
  let present = held.length / 2;
  if (store !== undefined) {
    present = 0;
    for (let i = 0; i < ENTRIES; i++) if (store.get(key(i)) !== undefined) present++;
    subject!.dispose?.(store);
  }
  console.log(JSON.stringify({ name, bytesPerEntry: (after - before) / ENTRIES, present }));
}

// GHOSTED: a cache of `capacity` pinned to ARC mode, given 2 x `capacity` other keys and then cleared
// before it is filled like every subject. The second half of the others evicts the first (T1's
// oldest), which allocates the ghost history at its full size and fills it; clear() empties the
// history, but its tables keep their size (full or empty, they take the same bytes), so the cache
// retains the same payload as the other subjects plus a ghost history at its largest. Filled over
// `capacity` other keys instead, as it once was, a few dozen of them whose frequency estimate read
// as seen before when they arrived went to T2 and stayed there, and as many measured keys were
// evicted in their place.
const ghosted: Subject = {
  name: GHOSTED,
  kind: 'larder',
  create(capacity) {
    const cache = new MemoryCache<string, unknown>({ maxEntries: capacity });
    cache[engineInternals]().pinMode(MODE_ARC);
    for (let i = capacity; i < 3 * capacity; i++) cache.set(key(i), makeValue(i));
    cache.clear();
    return cache;
  },
};

await main();
