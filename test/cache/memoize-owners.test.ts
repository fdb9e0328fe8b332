// Default memoize keys name their owner: two classes whose methods share a name, two functions with
// one name, and two distinct classes both called `Service` never get each other's results in one
// cache; the same owner keeps one prefix; a clash warns and an explicit prefix is used as given.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { memoize, memoizeMethod, NAME_CLASH_WARNING } from '../../src/cache/memoize.js';

let warnings: { message: string; code: string | undefined }[];
const onWarning = (w: Error & { code?: string }) => warnings.push({ message: w.message, code: w.code });
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

// process.emitWarning delivers on the next tick.
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function makeService(reply: string) {
  // Every call declares a distinct class that is also named `Service`.
  class Service {
    @memoizeMethod({ cache: shared })
    async get(id: number): Promise<string> {
      return `${reply}:${id}`;
    }
  }
  return Service;
}
let shared = createCache();

describe('default memoize keys', () => {
  it('keep two classes whose methods share a name apart', async () => {
    const cache = createCache();
    class Users {
      @memoizeMethod({ cache })
      async find(id: number): Promise<string> {
        return `user ${id}`;
      }
    }
    class Orders {
      @memoizeMethod({ cache })
      async find(id: number): Promise<string> {
        return `order ${id}`;
      }
    }
    expect(await new Users().find(1)).toBe('user 1');
    expect(await new Orders().find(1)).toBe('order 1');
    expect(await new Users().find(1)).toBe('user 1');
    expect(
      cache
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['Orders.find:[1]', 'Users.find:[1]']);
    await flush();
    expect(warnings).toEqual([]);
  });

  it('keep two distinct classes both named Service apart, with a warning naming the fix', async () => {
    shared = createCache({ name: 'svc' });
    const A = makeService('a');
    const B = makeService('b');
    expect(A.name).toBe('Service');
    expect(B.name).toBe('Service');
    expect(await new A().get(1)).toBe('a:1');
    expect(await new B().get(1)).toBe('b:1');
    expect(await new A().get(1)).toBe('a:1');
    expect(await new B().get(1)).toBe('b:1');
    expect(
      shared
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['Service.get#2:[1]', 'Service.get:[1]']);
    await flush();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.code).toBe(NAME_CLASH_WARNING);
    expect(warnings[0]!.message).toMatch(/'Service\.get'.*cache 'svc'.*Pass a distinct `prefix`/);
  });

  it('name the declaring class for inherited and static methods', async () => {
    const cache = createCache();
    class Base {
      @memoizeMethod({ cache })
      async load(id: number): Promise<string> {
        return `base ${id}`;
      }
      @memoizeMethod({ cache })
      static async count(): Promise<number> {
        return 3;
      }
    }
    class Derived extends Base {}
    expect(await new Derived().load(1)).toBe('base 1');
    expect(await Base.count()).toBe(3);
    expect(
      cache
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['Base.count:[]', 'Base.load:[1]']);
  });

  it('keep two functions with one name apart, and give one function one prefix', async () => {
    const cache = createCache();
    const first = { load: async (id: number) => `first ${id}` }.load;
    const second = { load: async (id: number) => `second ${id}` }.load;
    expect(first.name).toBe('load');
    expect(second.name).toBe('load');
    const m1 = memoize(first, { cache });
    const m2 = memoize(second, { cache });
    const m1again = memoize(first, { cache });
    expect(await m1(1)).toBe('first 1');
    expect(await m2(1)).toBe('second 1');
    expect(await m1again(1)).toBe('first 1');
    expect(
      cache
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['load#2:[1]', 'load:[1]']);
    await flush();
    expect(warnings.map((w) => w.code)).toEqual([NAME_CLASH_WARNING]);
  });

  it('keep anonymous functions apart', async () => {
    const cache = createCache();
    const a = memoize(async () => 'a', { cache });
    const b = memoize(async () => 'b', { cache });
    expect([await a(), await b(), await a()]).toEqual(['a', 'b', 'a']);
    await flush();
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/^Two different anonymous functions are memoized into cache 'default'/),
    ]);
  });

  it('are per cache: the same name in another cache is no clash', async () => {
    const one = createCache();
    const two = createCache();
    async function load(): Promise<number> {
      return 1;
    }
    const other = { load: async () => 2 }.load;
    memoize(load, { cache: one });
    const m = memoize(other, { cache: two });
    await m();
    expect(two.entries().map((e) => e.key)).toEqual(['load:[]']);
    await flush();
    expect(warnings).toEqual([]);
  });

  it('number a default name apart from an explicit prefix equal to it', async () => {
    const cache = createCache();
    async function getUser(id: number): Promise<string> {
      return `user ${id}`;
    }
    const admin = { getUser: async (id: number) => `admin ${id}` };
    const users = memoize(getUser, { cache, prefix: 'getUser' });
    const admins = memoize(admin.getUser, { cache }); // default name: 'getUser'
    expect(await users(1)).toBe('user 1');
    expect(await admins(1)).toBe('admin 1');
    expect(
      cache
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['getUser#2:[1]', 'getUser:[1]']);
    await flush();
    expect(warnings).toHaveLength(1);
  });

  it('warn when an explicit prefix equals a default name claimed earlier', async () => {
    const cache = createCache();
    async function getUser(id: number): Promise<string> {
      return `user ${id}`;
    }
    memoize(getUser, { cache });
    await flush();
    expect(warnings).toEqual([]);
    memoize(async (id: number) => `admin ${id}`, { cache, prefix: 'getUser' });
    await flush();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.code).toBe(NAME_CLASH_WARNING);
    expect(warnings[0]!.message).toMatch(/prefix 'getUser'.*Pass a distinct `prefix`/);
  });

  it('use an explicit prefix or key as given, without claiming a name', async () => {
    const cache = createCache();
    const f = vi.fn(async (id: number) => id);
    const g = vi.fn(async (id: number) => -id);
    await memoize(f, { cache, prefix: 'shared' })(1);
    await memoize(g, { cache, prefix: 'shared' })(1); // the user asked for one key space
    expect(g).not.toHaveBeenCalled();
    class Svc {
      @memoizeMethod({ cache, prefix: 'svc-v2' })
      async get(id: number): Promise<number> {
        return id;
      }
      @memoizeMethod({ cache, key: (id: number) => `by-key:${id}` })
      async other(id: number): Promise<number> {
        return id;
      }
    }
    await new Svc().get(4);
    await new Svc().other(5);
    expect(
      cache
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['by-key:5', 'shared:[1]', 'svc-v2:[4]']);
    await flush();
    expect(warnings).toEqual([]);
  });

  it('refuses to decorate something that is not a method', () => {
    const cache = createCache();
    const decorator = memoizeMethod({ cache }) as unknown as (v: unknown, c: unknown) => unknown;
    expect(() => decorator(undefined, { kind: 'field', name: 'x', addInitializer() {} })).toThrow(
      /decorates methods only, not a field/,
    );
    expect(() => decorator({}, 'x')).toThrow(/x is not a method/);
    expect(() => memoizeMethod({ cache: {} as never })).toThrow(/options.cache/);
  });
});
