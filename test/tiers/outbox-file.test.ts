// The outbox file without a server: a tier whose store is down persists what it could not deliver
// (the tier-wide `outbox` option), the next tier over the same file replays it before its first read,
// and an unreadable file is logged, never fatal, and replaced by the next backlog.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import { ChaosDriver } from './chaos-driver.js';

const logger = () => ({ error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() });
const now = Date.now();
const entry = (value: string, tags: string[] = []) => ({
  value,
  createdAt: now,
  staleAt: now + 60_000,
  expiresAt: now + 60_000,
  tags,
});

describe('the outbox file (tier option)', () => {
  const dirs: string[] = [];
  const file = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'larder-outbox-file-'));
    dirs.push(dir);
    return join(dir, 'tier.outbox');
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps what a down store missed across close(), and the next tier replays it before it reads', async () => {
    const path = file();
    const store = new MemoryDriver();
    const chaos = new ChaosDriver(store);
    const log1 = logger();
    const first = new SharedTier({ driver: chaos, outbox: path, logger: log1, timeout: 20 });
    const c1 = first.bind('c');
    await c1.set('k', entry('old', ['t']));
    await c1.set('p:1', entry('old'));
    chaos.mode = 'fail';
    await c1.delete('k');
    await c1.invalidatePattern('p:*');
    const saved = JSON.parse(readFileSync(path, 'utf8')) as { caches: Record<string, unknown> };
    expect(saved.caches.c).toMatchObject({ keys: ['k'], patterns: ['p:*'] });
    await c1.close();
    expect(log1.error.mock.calls.some(([m]) => String(m).includes('dropped'))).toBe(false);

    const second = new SharedTier({ driver: new ChaosDriver(store), outbox: path, logger: logger() });
    const c2 = second.bind('c');
    expect(await c2.get('k')).toBeUndefined();
    expect(await store.get('e:c:k')).toBeUndefined(); // replayed before the read answered
    expect(await store.get('e:c:p:1')).toBeUndefined();
    expect(c2.health().l2.pending).toBe(0);
    await c2.close();
  });

  it('an unreadable outbox file is logged at error and overwritten by the next backlog', async () => {
    const path = file();
    writeFileSync(path, 'not json');
    const chaos = new ChaosDriver(new MemoryDriver());
    const log = logger();
    const tier = new SharedTier({ driver: chaos, outbox: path, logger: log, timeout: 20 });
    const c = tier.bind('c');
    expect(log.error).toHaveBeenCalledWith(
      'L2 outbox could not be read; its invalidations are not replayed',
      expect.objectContaining({ path }),
    );
    chaos.mode = 'fail';
    await c.delete('x');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ caches: { c: { keys: ['x'] } } });
    await c.close();
  });
});
