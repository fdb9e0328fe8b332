// The entry rules of snapshots (validation, ranking, what a restore loads) live with the engine, so that
// MemoryCache's own dump()/load() can use them; the persistence layer reads them from here.
export {
  MAX_FREQUENCY,
  MAX_TIME,
  checkEntries,
  entryProblem,
  rankEntries,
  remainingTtl,
  selectForLoad,
  touchesFor,
} from '../engine/snapshot.js';
export type { LoadResult } from '../engine/snapshot.js';
