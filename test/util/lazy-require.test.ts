import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  lazyModule,
  MISSING_DEPENDENCY,
  optionalModule,
  UNSUPPORTED_DEPENDENCY,
} from '../../src/util/lazy-require.js';

// A package that is never installed stands in for a missing optional peer (ioredis, prom-client, …).
const ABSENT = 'larder-cache-test-absent-peer';

// A package that is found but needs another one that is missing: its failure is not ours to rename.
const fixture = mkdtempSync(join(tmpdir(), 'larder-lazy-'));
const broken = join(fixture, 'node_modules', 'broken-peer');
mkdirSync(broken, { recursive: true });
writeFileSync(join(broken, 'package.json'), JSON.stringify({ name: 'broken-peer', main: 'index.js' }));
writeFileSync(join(broken, 'index.js'), `require('${ABSENT}-inner');\n`);
afterAll(() => rmSync(fixture, { recursive: true, force: true }));

describe('lazyModule', () => {
  it('loads nothing until called, then returns the same module every time', () => {
    const get = lazyModule<typeof import('node:path')>('node:path');
    expect(get()).toBe(get());
    expect(get().join('a', 'b')).toBe(join('a', 'b'));
  });

  it('names the missing package, who needs it and the install command', () => {
    const get = lazyModule(ABSENT, 'larder-cache/redis'); // making the getter must not throw
    let caught: unknown;
    try {
      get();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    const error = caught as Error & { code?: string; cause?: unknown };
    expect(error.name).toBe('MissingDependencyError');
    expect(error.code).toBe(MISSING_DEPENDENCY);
    expect(error.message).toBe(
      `larder-cache/redis needs the package '${ABSENT}', which is not installed. Install it with: npm i ${ABSENT}`,
    );
    expect((error.cause as { code?: string }).code).toBe('MODULE_NOT_FOUND');
  });

  it('passes on a failure of an installed package as it is (its own missing dependency)', () => {
    const get = lazyModule(join(broken, 'index.js'), 'larder-cache/x');
    expect(get).toThrow(`Cannot find module '${ABSENT}-inner'`);
    expect(get).not.toThrow(/needs the package/);
  });
});

describe('optionalModule', () => {
  it('is undefined for a package that is not installed', () => {
    expect(optionalModule(ABSENT)).toBeUndefined();
  });

  it('is the module when it is installed', () => {
    expect(optionalModule<typeof import('node:path')>('node:path')?.sep).toBeTypeOf('string');
  });

  it('still throws when an installed package fails to load', () => {
    expect(() => optionalModule(join(broken, 'index.js'))).toThrow(`Cannot find module '${ABSENT}-inner'`);
  });
});

describe('lazyModule with supported majors', () => {
  const fake = (version: string): string => {
    const dir = join(fixture, 'node_modules', `versioned-${version}`);
    mkdirSync(join(dir, 'dist'), { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'versioned', version, main: 'dist/index.js' }),
    );
    // A nameless dist/package.json, as dual packages ship, is passed over for the package's own.
    writeFileSync(join(dir, 'dist', 'package.json'), JSON.stringify({ type: 'commonjs' }));
    writeFileSync(
      join(dir, 'dist', 'index.js'),
      `module.exports = { version: ${JSON.stringify(version)} };\n`,
    );
    return dir;
  };

  it('loads a package whose installed major is supported', () => {
    const get = lazyModule<{ version: string }>(fake('5.6.0'), 'larder-cache/keyv', [5]);
    expect(get().version).toBe('5.6.0');
  });

  it('refuses another major before loading it, naming the version found and the ones that work', () => {
    const get = lazyModule(fake('6.0.1'), 'larder-cache/keyv', [5]);
    let caught: unknown;
    try {
      get();
    } catch (error) {
      caught = error;
    }
    const error = caught as Error & { code?: string };
    expect(error.name).toBe('UnsupportedDependencyError');
    expect(error.code).toBe(UNSUPPORTED_DEPENDENCY);
    expect(error.message).toMatch(
      /^larder-cache\/keyv works with .*versioned-6\.0\.1 5\.x, but .* 6\.0\.1 is installed/,
    );
    expect(error.message).toContain('@5');
    // Refused every time, not loaded on a second call.
    expect(get).toThrow(/6\.0\.1 is installed/);
  });

  it('checks nothing when no majors are given', () => {
    expect(lazyModule<{ version: string }>(fake('7.0.0'))().version).toBe('7.0.0');
  });
});
