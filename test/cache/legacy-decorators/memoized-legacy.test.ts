// @memoizeMethod under `experimentalDecorators` (NestJS and most existing TypeScript codebases): this folder
// has its own tsconfig.json, which vitest's esbuild transform and `tsc -p` both pick up for these files.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../../src/cache/create-cache.js';
import { memoizeMethod } from '../../../src/cache/memoize.js';

describe('@memoizeMethod as a legacy (experimentalDecorators) decorator', () => {
  it('is compiled in legacy mode: the decorator gets (prototype, name, descriptor)', () => {
    const seen: unknown[][] = [];
    function spy(...args: unknown[]): void {
      seen.push(args);
    }
    class Probe {
      @spy
      method(): void {}
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toBe(Probe.prototype);
    expect(seen[0]![1]).toBe('method');
    expect(typeof (seen[0]![2] as PropertyDescriptor).value).toBe('function');
  });

  it('caches a method by its arguments, single-flight, with `this` passed through', async () => {
    const cache = createCache({ ttl: '5m' });
    let calls = 0;
    class Users {
      factor = 10;
      @memoizeMethod({ cache, ttl: '1m' })
      async stats(id: number): Promise<number> {
        calls++;
        return id * this.factor;
      }
    }
    const users = new Users();
    expect(await Promise.all([users.stats(2), users.stats(2)])).toEqual([20, 20]);
    expect(await users.stats(2)).toBe(20);
    expect(calls).toBe(1);
    expect(cache.entries().map((e) => e.key)).toEqual(['Users.stats:[2]']);
    expect(await cache.ttlRemaining('Users.stats:[2]')).toBe(60_000);
  });

  it('keeps two classes whose methods share a name apart, static methods too', async () => {
    const cache = createCache();
    class Users {
      @memoizeMethod({ cache })
      async find(id: number): Promise<string> {
        return `user ${id}`;
      }
      @memoizeMethod({ cache })
      static async count(): Promise<number> {
        return 1;
      }
    }
    class Orders {
      @memoizeMethod({ cache })
      async find(id: number): Promise<string> {
        return `order ${id}`;
      }
      @memoizeMethod({ cache })
      static async count(): Promise<number> {
        return 2;
      }
    }
    expect(await new Users().find(1)).toBe('user 1');
    expect(await new Orders().find(1)).toBe('order 1');
    expect([await Users.count(), await Orders.count()]).toEqual([1, 2]);
    expect(
      cache
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['Orders.count:[]', 'Orders.find:[1]', 'Users.count:[]', 'Users.find:[1]']);
  });

  it('keeps two distinct classes both named Service apart', async () => {
    const cache = createCache();
    const warned: string[] = [];
    const onWarning = (w: Error) => warned.push(w.message);
    process.on('warning', onWarning);
    function makeService(reply: string) {
      class Service {
        @memoizeMethod({ cache })
        async get(id: number): Promise<string> {
          return `${reply}:${id}`;
        }
      }
      return Service;
    }
    const A = makeService('a');
    const B = makeService('b');
    expect([await new A().get(1), await new B().get(1), await new A().get(1)]).toEqual(['a:1', 'b:1', 'a:1']);
    await new Promise<void>((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warned).toEqual([expect.stringMatching(/'Service\.get'.*Pass a distinct `prefix`/)]);
  });

  it('honours prefix and key, and refuses a non-method', async () => {
    const cache = createCache();
    class Svc {
      @memoizeMethod({ cache, prefix: 'svc' })
      async get(id: number): Promise<number> {
        return id;
      }
      @memoizeMethod({ cache, key: (id: number) => `k:${id}` })
      async other(id: number): Promise<number> {
        return id;
      }
    }
    await new Svc().get(1);
    await new Svc().other(2);
    expect(
      cache
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['k:2', 'svc:[1]']);
    const decorate = memoizeMethod({ cache }) as unknown as (
      t: object,
      k: string,
      d?: PropertyDescriptor,
    ) => unknown;
    expect(() => decorate({}, 'field', undefined)).toThrow(/field is not a method/);
    expect(() => decorate({}, 'getter', { get: () => 1 })).toThrow(/getter is not a method/);
  });
});
