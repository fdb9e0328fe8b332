// Bad driver options fail at construction with an error naming the option, before anything
// connects (no server needed: nothing here opens a connection).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyvDriver } from '../../src/entries/keyv.js';
import { memcachedDriver } from '../../src/entries/memcached.js';
import { postgresBus, postgresDriver } from '../../src/entries/postgres.js';
import { sqliteDriver } from '../../src/entries/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'larder-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('driver options', () => {
  it('a clock that is no function is refused at construction, naming `clock`', () => {
    // Before: PostgreSQL and SQLite threw "this[#clock] is not a function"; memcached and Keyv took
    // it, and Keyv then failed every write (an outage that never ends).
    const clock = 'now' as unknown as () => number;
    expect(() => memcachedDriver({ servers: '127.0.0.1:1', clock })).toThrow(/clock must be a function/);
    expect(() => postgresDriver({ connectionString: 'postgres://127.0.0.1:1/x', clock })).toThrow(
      /clock must be a function/,
    );
    expect(() => sqliteDriver({ path: join(dir, 'x.db'), clock })).toThrow(/clock must be a function/);
    expect(() => keyvDriver({ store: new Map(), clock })).toThrow(/clock must be a function/);
  });

  it('postgresBus refuses an option it does not know, as every other factory does', () => {
    // Before: a misspelt channel was ignored and the bus listened on the default one.
    expect(() =>
      postgresBus({ connectionString: 'postgres://127.0.0.1:1/x', chanel: 'orders' } as never),
    ).toThrow(/postgresBus: unknown option "chanel"/);
  });
});
