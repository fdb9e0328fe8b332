// One memory measurement in a fresh process (spawned by bench/memory.ts, needs --expose-gc):
// fills one library with 100k entries of a ~100-byte object and prints the retained bytes per entry
// as one JSON line. A fresh process per measurement so no library inherits another's heap layout.

import { loadSubjects, type SyncStore } from './lib/subjects.js';
import { MemoryCache, engineInternals } from '../src/engine/memory-cache.js';
import { MODE_ARC } from '../src/engine/miniature.js';

/** Entries per measurement (issue 2). */
const ENTRIES = 100_000;
/** Pseudo-subject: keys and values held in a plain array, i.e. the payload every cache must retain. */
const PAYLOAD = 'payload only';
/**
 * Pseudo-subject: the default policy at its largest, pinned to ARC mode and given twice as many keys
 * as it holds, so its ghost history (src/engine/ghosts.ts) is allocated and full.
 */
const GHOSTED = 'Larder tinylfu, ghosts full';

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
  if (name === GHOSTED) {
    ghosted();
    return;
  }
  const subjects = await loadSubjects();
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
    for (let i = 0; i < ENTRIES; i++) held.push(`user:${i.toString(36)}`, makeValue(i));
  } else {
    store = subject.create(ENTRIES);
    for (let i = 0; i < ENTRIES; i++) store.set(`user:${i.toString(36)}`, makeValue(i));
  }
  const after = retained();
  // Every entry must still be there, or the figure would flatter a cache that dropped some.
  let present = held.length / 2;
  if (store !== undefined) {
    present = 0;
    for (let i = 0; i < ENTRIES; i++) if (store.get(`user:${i.toString(36)}`) !== undefined) present++;
    subject!.dispose?.(store);
  }
  console.log(JSON.stringify({ name, bytesPerEntry: (after - before) / ENTRIES, present }));
}

// GHOSTED: ENTRIES other keys, then the same ENTRIES keys as every other subject, set into a cache of
// ENTRIES pinned to ARC mode: it evicts the others (T1's oldest) and keeps their hashes as ghosts, so
// it retains the same payload as the other subjects plus a full ghost history.
function ghosted(): void {
  const key = (i: number): string => `user:${i.toString(36)}`;
  const probe = new MemoryCache<string, object>({ maxEntries: 10 });
  probe[engineInternals]().pinMode(MODE_ARC);
  for (let i = 0; i < 20; i++) probe.set(key(i), makeValue(i));
  const before = retained();
  const cache = new MemoryCache<string, object>({ maxEntries: ENTRIES });
  cache[engineInternals]().pinMode(MODE_ARC);
  for (let i = ENTRIES; i < 2 * ENTRIES; i++) cache.set(key(i), makeValue(i));
  for (let i = 0; i < ENTRIES; i++) cache.set(key(i), makeValue(i));
  const after = retained();
  let present = 0;
  for (let i = 0; i < ENTRIES; i++) if (cache.peek(key(i)) !== undefined) present++;
  console.log(JSON.stringify({ name: GHOSTED, bytesPerEntry: (after - before) / ENTRIES, present }));
}

await main();
