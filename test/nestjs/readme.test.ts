// The NestJS example of docs/concepts/http.md is test/nestjs/readme-example.ts (typechecked by `tsc -p test/nestjs`):
// the two must not drift, and the module it declares must boot.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Cache } from '../../src/cache/types.js';
import { getCacheToken } from '../../src/nestjs/tokens.js';
import { AppModule } from './readme-example.js';
import { serve } from './helpers.js';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('the docs’ NestJS example (docs/concepts/http.md)', () => {
  it('is readme-example.ts, but for the import paths', () => {
    const page = read('../../docs/concepts/http.md');
    const section = page.slice(page.indexOf('## NestJS 11'));
    const block = /```ts[^\n]*\n([\s\S]*?)```\n/.exec(section)![1]!;
    const example = read('./readme-example.ts');
    const body = example.slice(example.indexOf('\nimport ') + 1, example.indexOf('// --- stand-ins'));
    expect(
      body
        .replace("from '../../src/entries/nestjs.js'", "from 'larder-cache/nestjs'")
        .replace("from '../../src/index.js'", "from 'larder-cache'"),
    ).toBe(block);
  });

  it('boots, with its caches injectable', async () => {
    const { app, problems } = await serve({ imports: [AppModule] });
    try {
      expect(app.get<Cache>(getCacheToken('plans')).stats().ttl).toBe(3_600_000);
      expect(app.get<Cache>(getCacheToken('pages')).stats().maxEntries).toBe(5000);
      expect(problems).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
