// Test helper: what Redis holds under an entry key, read with redis-cli. A delete leaves a tombstone
// (a stamp header with no entry, see src/tiers/stamp.ts), so "gone" means absent or a tombstone.
import { STAMP_WIDTH } from '../../src/tiers/driver.js';

const TOMBSTONE = new RegExp(`^\\d{${STAMP_WIDTH}}t$`);

/** Whether `cli('GET', key)` shows a live entry (not absent, not a tombstone). */
export async function holdsEntry(cli: (...args: string[]) => Promise<string>, key: string): Promise<boolean> {
  const text = (await cli('GET', key)).replace(/\n$/, '');
  return text !== '' && !TOMBSTONE.test(text);
}
