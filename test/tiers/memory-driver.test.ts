// The memory driver passes the conformance suite (optional methods included), and keeps its bound.
import { describe, expect, it } from 'vitest';
import { registerDriverSuite } from '../../src/entries/test-suite.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { manualClock } from '../helpers/clock.js';
import { ChaosDriver } from './chaos-driver.js';

// Each test gets its own driver, so its own store: the suite's prefix-isolation checks only bite on
// drivers whose prefixes share one store (Redis); prefixes within one MemoryDriver are tested below.
// The drivers share a manual clock, so the TTL tests advance it instead of sleeping.
const clock = manualClock();
registerDriverSuite({
  name: 'memory',
  create: (prefix) => new MemoryDriver({ prefix, clock: clock.now }),
  advance: clock.advance,
});

// A driver without the optional methods passes when it says so; their tests show up as skipped.
const wrappedClock = manualClock();
registerDriverSuite({
  name: 'memory behind a wrapper without optional methods',
  create: (prefix) => new ChaosDriver(new MemoryDriver({ prefix, clock: wrappedClock.now })),
  omits: ['deleteIfEquals', 'setAtLeast', 'setIfNewer'],
  advance: wrappedClock.advance,
});

describe('MemoryDriver', () => {
  it('drops the oldest-written keys beyond maxEntries', async () => {
    const driver = new MemoryDriver({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) await driver.set(key, key);
    await driver.set('a', 'again'); // rewriting moves a to the back
    await driver.set('d', 'd');
    expect(driver.size).toBe(3);
    expect(await driver.get('b')).toBeUndefined();
    expect(await driver.get('a')).toBe('again');
  });

  it('uses the injected clock for expiry', async () => {
    let now = 1000;
    const driver = new MemoryDriver({ clock: () => now });
    await driver.set('k', 'v', 100);
    now += 99;
    expect(await driver.get('k')).toBe('v');
    now += 1;
    expect(await driver.get('k')).toBeUndefined();
  });

  it('rejects bad options and bad values with errors naming them', async () => {
    expect(() => new MemoryDriver({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new MemoryDriver({ maxEntries: 1.5 })).toThrow(RangeError);
    const driver = new MemoryDriver();
    await expect(driver.set('k', 42 as unknown as string)).rejects.toThrow(
      /value must be a string or a Buffer/,
    );
    await expect(driver.setAtLeast('k', 42 as unknown as string, 0)).rejects.toThrow(/value must be/);
    expect(() => registerDriverSuite({ name: 'x', create: () => driver, omits: ['get' as never] })).toThrow(
      /omits must list optional driver methods/,
    );
    expect(() => registerDriverSuite({ name: 'x', create: () => driver, advance: 5 as never })).toThrow(
      /advance must be a function/,
    );
  });

  it('keeps its keys under its prefix: patterns and clears never see the prefix', async () => {
    const driver = new MemoryDriver({ prefix: 'app:' });
    await driver.set('a1', '1');
    await driver.set('b1', '2');
    expect(await driver.deletePattern('app:*')).toBe(0);
    expect(await driver.deletePattern('a*')).toBe(1);
    expect(await driver.clear('app:')).toBe(0);
    expect(await driver.get('b1')).toBe('2');
  });

  it('setAtLeast extends by the injected clock and never shortens', async () => {
    let now = 1000;
    const driver = new MemoryDriver({ clock: () => now });
    await driver.setAtLeast('k', 'v', 100);
    await driver.setAtLeast('k', 'w', 50); // shorter: the 100 ms life stays
    await driver.setAtLeast('k', 'ignored', 200, true); // longer, value kept
    now += 199;
    expect(await driver.get('k')).toBe('w');
    now += 1;
    expect(await driver.get('k')).toBeUndefined();
    await driver.setAtLeast('forever', 'f', 0);
    await driver.setAtLeast('forever', 'g', 10);
    now += 1_000_000;
    expect(await driver.get('forever')).toBe('g');
  });
});
