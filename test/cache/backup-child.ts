// The first process of the backup test (test/cache/backup-restore.test.ts): fills a manager on a
// clock fixed at the instant given as argv[3], backs every cache up to argv[2], prints what the
// backup wrote and exits. The test restores the file in its own process.
import { createCacheManager } from '../../src/cache/manager.js';

const [path, start] = process.argv.slice(2);
if (path === undefined || start === undefined)
  throw new TypeError('usage: backup-child.ts <path> <clock ms>');
const now = Number(start);
const manager = createCacheManager({
  clock: () => now,
  defaults: { cleanupInterval: 0 },
  caches: { url: { maxEntries: 100 }, user: { maxEntries: 10 }, legacy: {} },
});
const url = manager.get<string>('url');
await url.set('/docs', 'https://example.com/docs', { ttl: '1h', tags: ['links'] });
await url.set('/flash', 'https://example.com/sale', { ttl: '2s' });
await manager.get('user').set(
  'u1',
  { name: 'Ada', roles: new Set(['admin']), since: new Date(0) },
  {
    ttl: '10m',
    grace: '1m',
  },
);
await manager.get('legacy').set('old', 1);
const written = await manager.backup(path);
process.stdout.write(JSON.stringify(written));
await manager.close();
