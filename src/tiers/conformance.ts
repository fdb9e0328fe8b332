// The driver conformance suite (`larder-cache/test-suite`): one set of vitest tests that every TierDriver
// must pass — the memory driver, Redis standalone and Redis Cluster here, and anyone's own driver.
// It talks to the driver only through the interface, with a fresh prefix per test for isolation.
// Optional methods are tested too: a driver lacking one fails its test unless the suite is told the
// driver omits it, and then the test is registered as skipped, saying why.
// Time: TTL tests wait real time by default (a real server's TTLs cannot be faked); a driver built on
// an injectable clock passes `advance`, and they move that clock instead, without sleeping.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { DriverValue, TierDriver } from './driver.js';
import { frame } from './stamp.js';
import { sleep } from '../util/time.js';

/** Options of {@link registerDriverSuite}. */
export interface DriverSuiteOptions {
  /** Suite title. */
  name: string;
  /** Makes a driver whose keys all start with `prefix` (each test gets its own prefix). */
  create: (prefix: string) => TierDriver | Promise<TierDriver>;
  /** Runs after all tests (e.g. to stop a server). */
  cleanup?: () => void | Promise<void>;
  /** How long to wait (with `advance`: to advance) for a TTL of `ttlMs` to lapse (default ttl + 100 ms). */
  expiryWaitMs?: (ttlMs: number) => number;
  /**
   * Moves the clock of the drivers `create` makes by `ms`. Given, TTL tests advance it instead of
   * sleeping real time; omit it for a store that keeps its own time (a real Redis).
   */
  advance?: (ms: number) => void | Promise<void>;
  /**
   * Optional TierDriver methods this driver does not implement: their tests are skipped, not failed.
   * setMax came later than the others: a driver that omits setAtLeast and has no setMax skips its test
   * without listing it (the tier writes tag times without either, best effort).
   */
  omits?: ReadonlyArray<OptionalMethod>;
}

/** The optional TierDriver methods the suite tests. */
type OptionalMethod = 'deleteIfEquals' | 'setAtLeast' | 'setIfNewer' | 'setMax';

const OPTIONAL_METHODS: readonly OptionalMethod[] = ['deleteIfEquals', 'setAtLeast', 'setIfNewer', 'setMax'];

/** TTL of the expiry tests, ms. */
const SHORT_TTL = 250;

/** Bytes of a stored value, so drivers that return strings and drivers that return Buffers compare alike. */
function bytes(value: DriverValue | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
}

/** Registers the conformance tests for one driver (call at the top level of a test file). */
export function registerDriverSuite(options: DriverSuiteOptions): void {
  const opened: TierDriver[] = [];
  const fresh = async (): Promise<TierDriver> => {
    const driver = await options.create(`conf-${randomUUID().slice(0, 8)}:`);
    opened.push(driver);
    return driver;
  };
  const expiryWait = options.expiryWaitMs ?? ((ttl: number) => ttl + 100);
  const { advance } = options;
  if (advance !== undefined && typeof advance !== 'function') {
    throw new TypeError('advance must be a function (ms) => void');
  }
  /** Lets a TTL of `ttlMs` lapse: on the driver's clock when the suite can move it, else in real time. */
  const lapse = async (ttlMs: number): Promise<void> => {
    if (advance === undefined) await sleep(expiryWait(ttlMs));
    else await advance(expiryWait(ttlMs));
  };
  const omits = options.omits ?? [];
  if (!Array.isArray(omits) || omits.some((method) => !OPTIONAL_METHODS.includes(method))) {
    throw new TypeError(`omits must list optional driver methods (${OPTIONAL_METHODS.join(', ')})`);
  }
  /** Registers the test of an optional method: skipped if omitted, failing if missing but not omitted. */
  const itOptional = (
    method: OptionalMethod,
    title: string,
    body: (driver: Required<Pick<TierDriver, OptionalMethod>> & TierDriver) => Promise<void>,
  ): void => {
    if (omits.includes(method)) {
      it.skip(`${title} (skipped: the driver declares it omits ${method})`, () => {});
      return;
    }
    it(title, async (context) => {
      const driver = await fresh();
      if (typeof driver[method] !== 'function') {
        if (method === 'setMax' && omits.includes('setAtLeast')) {
          context.skip('the driver omits setAtLeast and has no setMax');
        }
        throw new Error(`driver has no ${method}(): implement it, or list it in the suite's omits`);
      }
      await body(driver as Required<Pick<TierDriver, OptionalMethod>> & TierDriver);
    });
  };

  describe(`driver conformance: ${options.name}`, () => {
    afterAll(async () => {
      for (const driver of opened) await driver.disconnect();
      await options.cleanup?.();
    });

    it('answers undefined for a missing key', async () => {
      const driver = await fresh();
      expect(await driver.get('missing')).toBeUndefined();
    });

    it('round-trips strings and binary Buffers byte for byte', async () => {
      const driver = await fresh();
      const binary = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x0d, 0x0a]);
      await driver.set('text', 'héllo ✓');
      await driver.set('binary', binary);
      expect(bytes(await driver.get('text'))?.toString('utf8')).toBe('héllo ✓');
      expect(bytes(await driver.get('binary'))?.equals(binary)).toBe(true);
    });

    it('overwrites a key on set', async () => {
      const driver = await fresh();
      await driver.set('k', 'one');
      await driver.set('k', 'two');
      expect(bytes(await driver.get('k'))?.toString()).toBe('two');
    });

    it('expires a key after its TTL and keeps one set without TTL', async () => {
      const driver = await fresh();
      // Long enough that a loaded machine still reads the key before it lapses.
      await driver.set('short', 'v', SHORT_TTL);
      await driver.set('forever', 'v');
      await driver.set('zero', 'v', 0);
      expect(bytes(await driver.get('short'))?.toString()).toBe('v');
      await lapse(SHORT_TTL);
      expect(await driver.get('short')).toBeUndefined();
      expect(bytes(await driver.get('forever'))?.toString()).toBe('v');
      expect(bytes(await driver.get('zero'))?.toString()).toBe('v');
    });

    it('getMany answers in the order asked, with undefined for missing keys', async () => {
      const driver = await fresh();
      await driver.set('a', '1');
      await driver.set('c', '3');
      const values = await driver.getMany(['c', 'b', 'a']);
      expect(values.map((v) => bytes(v)?.toString())).toEqual(['3', undefined, '1']);
      expect(await driver.getMany([])).toEqual([]);
    });

    it('add stores only when the key is absent, and again after it expired', async () => {
      const driver = await fresh();
      expect(await driver.add('lock', 'first', SHORT_TTL)).toBe(true);
      expect(await driver.add('lock', 'second', SHORT_TTL)).toBe(false);
      expect(bytes(await driver.get('lock'))?.toString()).toBe('first');
      await lapse(SHORT_TTL);
      expect(await driver.add('lock', 'third', 1000)).toBe(true);
      expect(bytes(await driver.get('lock'))?.toString()).toBe('third');
    });

    it('delete reports whether the key existed', async () => {
      const driver = await fresh();
      await driver.set('k', 'v');
      expect(await driver.delete('k')).toBe(true);
      expect(await driver.delete('k')).toBe(false);
      expect(await driver.get('k')).toBeUndefined();
    });

    it('deleteMany removes the keys and counts those that existed', async () => {
      const driver = await fresh();
      await driver.set('x1', '1');
      await driver.set('x2', '2');
      await driver.set('keep', '3');
      expect(await driver.deleteMany(['x1', 'x2', 'nope'])).toBe(2);
      expect(await driver.deleteMany([])).toBe(0);
      expect(await driver.getMany(['x1', 'x2'])).toEqual([undefined, undefined]);
      expect(bytes(await driver.get('keep'))?.toString()).toBe('3');
    });

    it('clear(namespace) removes only keys starting with it; clear() removes only this prefix', async () => {
      const driver = await fresh();
      const neighbour = await fresh();
      await driver.set('plans:1', 'a');
      await driver.set('plans:2', 'b');
      await driver.set('images:1', 'c');
      await neighbour.set('plans:1', 'n');
      expect(await driver.clear('plans:')).toBe(2);
      expect(await driver.get('plans:1')).toBeUndefined();
      expect(bytes(await driver.get('images:1'))?.toString()).toBe('c');
      expect(await driver.clear()).toBe(1);
      expect(await driver.get('images:1')).toBeUndefined();
      expect(bytes(await neighbour.get('plans:1'))?.toString()).toBe('n');
    });

    it('deletePattern matches * and ? and treats every other character literally', async () => {
      const driver = await fresh();
      const keys = [
        'plans_list_acme_aws_1',
        'plans_list_acme_aws_22',
        'plans_list_acme_gcp_1',
        'a[1]',
        'a1',
        'x.y',
        'xzy',
      ];
      for (const key of keys) await driver.set(key, 'v');
      expect(await driver.deletePattern('plans_list_acme_aws_*')).toBe(2);
      expect(await driver.deletePattern('a[1]')).toBe(1);
      expect(await driver.deletePattern('x.y')).toBe(1);
      expect(await driver.deletePattern('plans_list_acme_gcp_?')).toBe(1);
      const left = await driver.getMany(keys);
      expect(left.map((v) => v !== undefined)).toEqual([false, false, false, false, true, false, true]);
    });

    it("deletePattern's ? is one UTF-16 code unit, as in L1, whatever the key's bytes", async () => {
      const driver = await fresh();
      // é is two bytes in UTF-8; 😀 is two UTF-16 code units and one character.
      const keys = ['caf\u00e9', 'cafe', 'a\u{1F600}', 'b\u{1F600}'];
      for (const key of keys) await driver.set(key, 'v');
      expect(await driver.deletePattern('caf?')).toBe(2);
      expect(await driver.deletePattern('a??')).toBe(1);
      expect(await driver.deletePattern('b?')).toBe(0);
      const left = await driver.getMany(keys);
      expect(left.map((v) => v !== undefined)).toEqual([false, false, false, true]);
    });

    it('deletePattern reaches every key when there are many (several SCAN pages)', async () => {
      const driver = await fresh();
      const count = 1300;
      await Promise.all(Array.from({ length: count }, (_, i) => driver.set(`bulk:${i}`, String(i))));
      await driver.set('other', 'v');
      expect(await driver.deletePattern('bulk:*')).toBe(count);
      expect(await driver.get(`bulk:${count - 1}`)).toBeUndefined();
      expect(bytes(await driver.get('other'))?.toString()).toBe('v');
    });

    it('keeps concurrent writes and reads of different keys apart', async () => {
      const driver = await fresh();
      const n = 300;
      await Promise.all(Array.from({ length: n }, (_, i) => driver.set(`c:${i}`, `value-${i}`)));
      const values = await Promise.all(Array.from({ length: n }, (_, i) => driver.get(`c:${i}`)));
      values.forEach((v, i) => expect(bytes(v)?.toString()).toBe(`value-${i}`));
      const many = await driver.getMany(Array.from({ length: n }, (_, i) => `c:${i}`));
      many.forEach((v, i) => expect(bytes(v)?.toString()).toBe(`value-${i}`));
    });

    it('keeps apart keys a store could fold together (case, Unicode form, trailing space, length)', async () => {
      // A store that lowercases, normalises, pads or truncates keys would hand one user's entry to another.
      const driver = await fresh();
      const long = 'k'.repeat(300);
      const keys = [
        'user:Ann',
        'user:ann',
        'caf\u00e9',
        'cafe\u0301',
        'pad',
        'pad ',
        `${long}:1`,
        `${long}:2`,
      ].filter(
        (key) => driver.keyProblem?.(key) === undefined, // a key the store declares it refuses is not folded
      );
      for (const key of keys) await driver.set(key, `for ${key}`);
      for (const key of keys) expect(bytes(await driver.get(key))?.toString()).toBe(`for ${key}`);
      const many = await driver.getMany(keys);
      many.forEach((v, i) => expect(bytes(v)?.toString()).toBe(`for ${keys[i]}`));
      expect(await driver.delete('user:ann')).toBe(true);
      expect(await driver.get('user:ann')).toBeUndefined();
      expect(bytes(await driver.get('user:Ann'))?.toString()).toBe('for user:Ann');
    });

    itOptional('deleteIfEquals', 'deleteIfEquals deletes only while the value matches', async (driver) => {
      await driver.set('lock', 'mine');
      expect(await driver.deleteIfEquals('lock', 'theirs')).toBe(false);
      expect(bytes(await driver.get('lock'))?.toString()).toBe('mine');
      expect(await driver.deleteIfEquals('lock', 'mine')).toBe(true);
      expect(await driver.get('lock')).toBeUndefined();
      expect(await driver.deleteIfEquals('lock', 'mine')).toBe(false);
      await driver.set('binary', Buffer.from('mine', 'utf8'));
      expect(await driver.deleteIfEquals('binary', 'mine')).toBe(true);
      const raw = Buffer.from([0x85, 0, 0xff, 0x80]);
      await driver.set('raw', raw);
      expect(await driver.deleteIfEquals('raw', Buffer.from([0x85, 0, 0xff, 0x81]))).toBe(false);
      expect(await driver.deleteIfEquals('raw', Buffer.from(raw))).toBe(true);
    });

    itOptional('setIfNewer', 'setIfNewer stores only over an older stamp, atomically', async (driver) => {
      const value = (stamp: number, body: string) => frame(stamp, Buffer.from(body));
      const read = async (key: string) => bytes(await driver.get(key));
      expect(await driver.setIfNewer('k', value(2000, 'two'), 0)).toBe('stored');
      expect(await driver.setIfNewer('k', value(1000, 'one'), 0)).toBe('refused'); // older: a racing load
      expect(await driver.setIfNewer('k', value(2000, 'again'), 0)).toBe('refused'); // equal: refused too
      expect(await read('k')).toEqual(Buffer.from(value(2000, 'two') as Buffer));
      expect(await driver.setIfNewer('k', value(3000, 'three'), 0)).toBe('replaced');
      // A tombstone hides the value and refuses what is older, and a newer value replaces it.
      expect(await driver.setIfNewer('k', frame(4000), 60_000)).toBe('replaced');
      expect(await driver.setIfNewer('k', value(3999, 'late'), 0)).toBe('refused');
      expect(await driver.setIfNewer('k', frame(4500), 60_000)).toBe('stored'); // over a tombstone
      expect(await driver.setIfNewer('k', value(5000, 'five'), 0)).toBe('stored');
      expect(await read('k')).toEqual(Buffer.from(value(5000, 'five') as Buffer));
      // always: stored whatever is held, its stamp raised above the held one (ordered after it).
      expect(await driver.setIfNewer('k', value(100, 'now'), 0, true)).toBe('replaced');
      expect(await read('k')).toEqual(Buffer.from(value(5001, 'now') as Buffer));
      expect(await driver.setIfNewer('k', value(5001, 'load'), 0)).toBe('refused');
      expect(await driver.setIfNewer('k', frame(9000), 60_000, true)).toBe('replaced');
      expect(await driver.setIfNewer('k', frame(10), 60_000, true)).toBe('stored'); // over a tombstone
      expect(await read('k')).toEqual(Buffer.from(frame(9001)));
      // Data written without a header (another writer's) counts as older than any stamp.
      await driver.set('legacy', Buffer.from([0x85, 1, 2]));
      expect(await driver.setIfNewer('legacy', value(1, 'new'), 0)).toBe('replaced');
      // The TTL applies; strings are byte-compared the same way.
      expect(await driver.setIfNewer('short', frame(7000, 'x'), SHORT_TTL)).toBe('stored');
      expect(bytes(await driver.get('short'))?.toString()).toBe('0000000000007000vx');
      await lapse(SHORT_TTL);
      expect(await driver.get('short')).toBeUndefined();
      expect(await driver.setIfNewer('short', frame(6000, 'y'), 0)).toBe('stored');
      // Concurrent writers of one key: the highest stamp is what stays, whatever the arrival order.
      const stamps = Array.from({ length: 50 }, (_, i) => 10_000 + ((i * 37) % 50));
      await Promise.all(stamps.map((stamp) => driver.setIfNewer('race', frame(stamp, `s${stamp}`), 0)));
      expect(bytes(await driver.get('race'))?.toString()).toBe(`${String(10_049).padStart(16, '0')}vs10049`);
    });

    itOptional('setAtLeast', 'setAtLeast lengthens a key’s life, never shortens it', async (driver) => {
      await driver.setAtLeast('new', 'n', SHORT_TTL);
      await driver.setAtLeast('new-kept', 'k', SHORT_TTL, true);
      await driver.setAtLeast('long', 'old', 60_000);
      await driver.setAtLeast('long', 'new', SHORT_TTL); // replaces the value, keeps the longer life
      await driver.set('short', 'kept', SHORT_TTL);
      await driver.setAtLeast('short', 'ignored', 60_000, true); // keeps the value, lives longer
      await driver.set('forever', 'f');
      await driver.setAtLeast('forever', 'f2', SHORT_TTL);
      await driver.set('finite', 'x', SHORT_TTL);
      await driver.setAtLeast('finite', 'ignored', 0, true); // 0: no expiry any more
      const read = async (key: string) => bytes(await driver.get(key))?.toString();
      expect(await read('new')).toBe('n');
      expect(await read('new-kept')).toBe('k');
      expect(await read('long')).toBe('new');
      expect(await read('short')).toBe('kept');
      await lapse(SHORT_TTL);
      expect(await driver.get('new')).toBeUndefined();
      expect(await driver.get('new-kept')).toBeUndefined();
      expect(await read('long')).toBe('new');
      expect(await read('short')).toBe('kept');
      expect(await read('forever')).toBe('f2');
      expect(await read('finite')).toBe('x');
    });

    itOptional(
      'setMax',
      'setMax keeps the larger decimal integer, and lengthens a key’s life',
      async (driver) => {
        const read = async (key: string) => bytes(await driver.get(key))?.toString();
        await driver.setMax('new', '7', 0);
        await driver.setMax('up', '100', 0);
        await driver.setMax('up', '200', 0);
        await driver.setMax('down', '200', 0);
        await driver.setMax('down', '100', 0); // an older time landing last: the newer one stays
        await driver.setMax('same', '5', 0);
        await driver.setMax('same', '5', 0);
        await driver.setMax('digits', '10', 0);
        await driver.setMax('digits', '9', 0); // compared as numbers, not as text
        await driver.setMax('zeros', '0042', 0);
        await driver.setMax('zeros', '41', 0);
        await driver.setMax('zeros', '043', 0);
        await driver.setMax('big', '90071992547409930', 0);
        await driver.setMax('big', '90071992547409929', 0); // past a double's precision: still exact
        await driver.setMax('bytes', Buffer.from('70'), 0);
        await driver.setMax('bytes', '8', 0);
        await driver.set('text', 'abc');
        await driver.setMax('text', '5', 0); // not a number held: replaced
        await driver.setMax('word', '9', 0);
        await driver.setMax('word', 'x', 0); // not a number offered: it replaces the number
        expect(await read('new')).toBe('7');
        expect(await read('up')).toBe('200');
        expect(await read('down')).toBe('200');
        expect(await read('same')).toBe('5');
        expect(await read('digits')).toBe('10');
        expect(await read('zeros')).toBe('043');
        expect(await read('big')).toBe('90071992547409930');
        expect(await read('bytes')).toBe('70');
        expect(await read('text')).toBe('5');
        expect(await read('word')).toBe('x');
        // Concurrent writers of one key: the largest number stays, whatever the arrival order.
        const times = Array.from({ length: 50 }, (_, i) => 10_000 + ((i * 37) % 50));
        await Promise.all(times.map((time) => driver.setMax('race', String(time), 60_000)));
        expect(await read('race')).toBe('10049');
        // Life: never shortened, whichever value stays; lengthened when the new one is longer.
        await driver.setMax('long', '1', 60_000);
        await driver.setMax('long', '2', SHORT_TTL);
        await driver.setMax('kept', '9', 60_000);
        await driver.setMax('kept', '3', SHORT_TTL);
        await driver.set('short', '4', SHORT_TTL);
        await driver.setMax('short', '3', 60_000);
        await driver.set('forever', '5');
        await driver.setMax('forever', '6', SHORT_TTL);
        // A store that can tell a key's remaining life lets a short one lapse (one that cannot keeps it).
        const lapses = typeof driver.setAtLeast === 'function';
        if (lapses) await driver.setMax('brief', '1', SHORT_TTL);
        await lapse(SHORT_TTL);
        expect(await read('long')).toBe('2');
        expect(await read('kept')).toBe('9');
        expect(await read('short')).toBe('4');
        expect(await read('forever')).toBe('6');
        if (lapses) expect(await driver.get('brief')).toBeUndefined();
      },
    );

    it('ping, where the driver has it, resolves while the store answers (and touches no key)', async () => {
      const driver = await fresh();
      if (driver.ping === undefined) return;
      await driver.set('k', 'v');
      await expect(driver.ping()).resolves.toBeUndefined();
      expect(bytes(await driver.get('k'))?.toString()).toBe('v');
    });

    it('disconnect is idempotent', async () => {
      const driver = await fresh();
      await driver.disconnect();
      await driver.disconnect();
    });
  });
}
