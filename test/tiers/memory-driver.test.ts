// The memory driver passes the conformance suite, and keeps its bound.
import { describe, expect, it } from 'vitest';
import { registerDriverSuite } from '../../src/entries/test-suite.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';

const shared = new MemoryDriver();
// Drivers with different prefixes over one store, as apps sharing one Redis would be.
registerDriverSuite({
  name: 'memory',
  create: (prefix) => {
    const driver = new MemoryDriver({ prefix });
    return driver;
  },
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
    await expect(shared.set('k', 42 as unknown as string)).rejects.toThrow(
      /value must be a string or a Buffer/,
    );
  });
});
