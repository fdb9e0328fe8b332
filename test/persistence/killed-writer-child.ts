// The process the killed-writer test (killed-writer.test.ts) kills with SIGKILL while it writes its
// snapshot. It restores `argv[2]` at start and prints `restored <generation>` (the generation all of
// its restored values carry, `none` for an empty cache, `mixed` if they disagree), then rewrites
// every value with the next generation and snapshots, over and over, printing `writing <g>` before
// and `wrote <g>` after each write. With `argv[3] === 'hang'`, the second write stops for good halfway
// through the temporary file and prints `half`: the test kills it there.
import { createCacheManager } from '../../src/cache/manager.js';
import { nodeSnapshotFs } from '../../src/util/atomic-write.js';
import type { SnapshotFs } from '../../src/persistence/types.js';

const [path, mode = 'loop'] = process.argv.slice(2);
if (path === undefined) throw new TypeError('usage: killed-writer-child.ts <path> [loop|hang]');

const KEYS = 2_000;
const say = (line: string): void => void process.stdout.write(`${line}\n`);

let writes = 0;
const hangingFs: SnapshotFs = {
  ...nodeSnapshotFs,
  async open(file, flags) {
    const handle = await nodeSnapshotFs.open(file, flags);
    if (++writes < 2) return handle;
    return {
      writeFile: async (data) => {
        await handle.writeFile(data.subarray(0, data.length >> 1));
        await handle.sync();
        say('half');
        await new Promise(() => {}); // never settles: the test kills the process here
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  },
};

const manager = createCacheManager({
  caches: { c: { maxEntries: KEYS * 2, cleanupInterval: 0 } },
  persist: { path, onShutdown: false, ...(mode === 'hang' ? { fs: hangingFs } : {}) } as never,
});
const cache = manager.get<{ generation: number; pad: string }>('c');
const generations = new Set(cache.dump().map((e) => e.value.generation));
say(`restored ${generations.size === 0 ? 'none' : generations.size > 1 ? 'mixed' : [...generations][0]}`);

const pad = 'x'.repeat(400);
for (let generation = (generations.size === 1 ? [...generations][0]! : 0) + 1; ; generation++) {
  for (let i = 0; i < KEYS; i++) await cache.set(`key:${i}`, { generation, pad });
  say(`writing ${generation}`);
  await manager.snapshot();
  say(`wrote ${generation}`);
}
